"""Pairing samples within prompts: all of them, or the sample indices both runs share.

The exact tests of a comparison (McNemar, sign-flip) assume that, when nothing changed, a
prompt's baseline and candidate values are exchangeable. That holds when both runs drew the
same number of samples of the prompt, and fails when they did not: the mean of 8 samples is
compared with a single 0/1 outcome, the differences are skewed, and the sign-flip test runs
liberal (7.9% false alarms at level 5% on 45 prompts, 1 against 8 samples). So when the runs
drew different samples of a prompt, only the sample indices both have are compared: samples
are independent draws given the prompt, and which indices are kept does not depend on their
outcomes, so the kept pairs are exchangeable again and the tests stay exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mathif_pytest.results import CaseResult

__all__ = ["ALL_SAMPLES", "SHARED_INDICES", "Pairing", "pair_samples"]

ALL_SAMPLES = "all samples"
SHARED_INDICES = "shared sample indices"

_Key = tuple[str, bool]
_Units = dict[_Key, list[CaseResult]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pairing:
    """How samples were paired within the prompts both runs have.

    Attributes:
        mode: ``all samples`` (both runs drew the same sample indices of every prompt) or
            ``shared sample indices`` (for some prompts they did not; only the indices both
            have were compared).
        prompts_trimmed: prompts whose sample indices differed between the runs.
        baseline_left_out, candidate_left_out: samples of each run left out of the comparison.
        prompts_without_shared_index: prompts left out because the runs share no sample index.
    """

    mode: str = ALL_SAMPLES
    prompts_trimmed: int = 0
    baseline_left_out: int = 0
    candidate_left_out: int = 0
    prompts_without_shared_index: int = 0

    def sentence(self) -> str:
        """``""`` for all samples, else what was left out, for a gate row's reason."""
        if self.mode == ALL_SAMPLES:
            return ""
        text = (
            f"paired on the sample indices both runs share ({self.prompts_trimmed} prompts with "
            f"different samples; {self.baseline_left_out} baseline and "
            f"{self.candidate_left_out} candidate samples left out"
        )
        if self.prompts_without_shared_index:
            text += f", {self.prompts_without_shared_index} prompts without a shared index"
        return text + ")"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return {
            "mode": self.mode,
            "prompts_trimmed": self.prompts_trimmed,
            "baseline_left_out": self.baseline_left_out,
            "candidate_left_out": self.candidate_left_out,
            "prompts_without_shared_index": self.prompts_without_shared_index,
        }


def pair_samples(
    base: Mapping[_Key, list[CaseResult]], cand: Mapping[_Key, list[CaseResult]]
) -> tuple[_Units, _Units, Pairing]:
    """Keep, per shared prompt, the samples whose index both runs have.

    Prompts with the same sample indices in both runs are kept whole. Prompts only one run has
    are dropped here (the caller counts them).
    """
    kept_base: _Units = {}
    kept_cand: _Units = {}
    trimmed = left_base = left_cand = lost = 0
    for key in sorted(base.keys() & cand.keys()):
        b_indices = {c.sample for c in base[key]}
        c_indices = {c.sample for c in cand[key]}
        shared = b_indices & c_indices
        if b_indices != c_indices:
            trimmed += 1
            left_base += len(b_indices - shared)
            left_cand += len(c_indices - shared)
        if not shared:
            lost += 1
            continue
        kept_base[key] = [c for c in base[key] if c.sample in shared]
        kept_cand[key] = [c for c in cand[key] if c.sample in shared]
    pairing = Pairing(
        mode=SHARED_INDICES if trimmed else ALL_SAMPLES,
        prompts_trimmed=trimmed,
        baseline_left_out=left_base,
        candidate_left_out=left_cand,
        prompts_without_shared_index=lost,
    )
    return kept_base, kept_cand, pairing
