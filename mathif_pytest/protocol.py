"""The official MathIF protocol as constants, plus deliberate deviations (all off by default).

Source of every value: ``MATHIF_PROTOCOL.md`` §2 (inference) and §5 (checker and grader behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = [
    "COT_INSTRUCTION",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_TEMPERATURE",
    "DEFAULT_TOP_P",
    "LEVELS",
    "Deviations",
]

#: Appended to every question, with no separator before it or after it (official ``vllm_core.py``).
COT_INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}."

#: Official sampling: nucleus sampling, T=1.0, p=0.95, at most 16,384 new tokens, one sample each.
DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_P = 0.95
DEFAULT_MAX_TOKENS = 16384

#: Constraint levels, by number of constraints per sample.
LEVELS = ("single", "double", "triple")


@dataclass(frozen=True, slots=True, kw_only=True)
class Deviations:
    r"""Deliberate, opt-in fixes of official behaviour. The defaults reproduce the official scorer.

    Attributes:
        keyword_whole_words: ``keywords:existence`` and ``keywords:frequency`` match whole words
            (as ``keywords:forbidden_words`` does) instead of the official case-insensitive
            substring match, where "now" is found inside "know".
        sections_exact: ``detectable_format:multiple_sections`` needs exactly N sections, as the
            prompt says, instead of the official "at least N".
        unclosed_thinking_fails: a response that opens ``<think>`` and never closes it (typically
            truncated at the token limit) is scored as an empty answer. Officially the whole text,
            reasoning included, is checked and graded.
        no_percent_leniency: numeric grading no longer accepts the reference times 100 or divided
            by 100 (officially ``\boxed{1000}`` is correct for the answer 10).
        accept_hash_answer: when no ``\\boxed{}`` answer is found, a GSM8K-style ``#### 52`` line
            counts as the final answer (the GSM8K questions ask for that format; officially it is
            graded wrong).
        elementwise_lists: a comma-separated answer is compared with a comma-separated
            reference element by element. Officially the commas are dropped first and the joined
            numbers compared with a relative tolerance of 1e-4, so ``11,19,39,73`` equals
            ``11,19,37,73``; thousands separators (``1,000``) still join either way.
    """

    keyword_whole_words: bool = False
    sections_exact: bool = False
    unclosed_thinking_fails: bool = False
    no_percent_leniency: bool = False
    accept_hash_answer: bool = False
    elementwise_lists: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in declaration order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_names(cls, names: list[str] | tuple[str, ...]) -> Deviations:
        """Build from a list of enabled option names (as given on a command line or in a suite).

        Raises:
            ValueError: a name is not a known deviation; the message lists the accepted names.
        """
        unknown = sorted(set(names) - set(cls.names()))
        if unknown:
            raise ValueError(
                f"unknown deviation {unknown[0]!r}; accepted: {', '.join(cls.names())}"
            )
        return cls(**{name: True for name in names})

    def enabled(self) -> tuple[str, ...]:
        """The names of the deviations that are switched on."""
        return tuple(name for name in self.names() if getattr(self, name))
