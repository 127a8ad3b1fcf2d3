"""Fitting max_tokens into a served model's context, and reading vLLM's context-length 400s."""

from __future__ import annotations

import pytest

from mathif_pytest.backends._context import (
    ContextLimit,
    PromptTooLong,
    estimate_prompt_tokens,
    fit_max_tokens,
    parse_context_error,
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "max_tokens=16384 cannot be greater than max_model_len=4096. Please request fewer "
            "output tokens. (parameter=max_tokens, value=16384)",
            ContextLimit(max_model_len=4096),
        ),
        (
            "'max_tokens' or 'max_completion_tokens' is too large: 16384. This model's maximum "
            "context length is 4096 tokens and your request has 310 input tokens (16384 > 4096 "
            "- 310). None",
            ContextLimit(max_model_len=4096, prompt_tokens=310),
        ),
        (
            "This model's maximum context length is 4096 tokens. However, you requested 16694 "
            "tokens (310 in the messages, 16384 in the completion). Please reduce the length of "
            "the messages or completion.",
            ContextLimit(max_model_len=4096, prompt_tokens=310),
        ),
        (
            "This model's maximum context length is 4096 tokens. However, your prompt contains "
            "at least 4097 input tokens, which exceeds this limit even without any output "
            "tokens. Please reduce the length of the input prompt. (parameter=input_tokens, "
            "value=4097)",
            ContextLimit(max_model_len=4096, prompt_tokens=4097),
        ),
        ("temperature must be in [0, 2], got 5.0.", None),
    ],
    ids=["vllm-0.12+", "vllm-0.9-0.11", "vllm-before-0.9", "prompt-alone", "another-400"],
)
def test_every_vllm_wording_of_the_context_limit_is_read(
    message: str, expected: ContextLimit | None
) -> None:
    assert parse_context_error(message) == expected


def test_the_budget_is_what_is_left_beside_the_prompt() -> None:
    fit = fit_max_tokens(16384, 4096, 310, "tokenizer")
    assert (fit.max_tokens, fit.clamped) == (3786, True)
    assert fit.extra() == {
        "max_tokens_clamped": {
            "requested": 16384,
            "sent": 3786,
            "max_model_len": 4096,
            "prompt_tokens": 310,
            "counted_by": "tokenizer",
        }
    }
    roomy = fit_max_tokens(1000, 4096, 310, "tokenizer")
    assert (roomy.max_tokens, roomy.clamped, roomy.extra()) == (1000, False, {})
    assert fit_max_tokens(16384, None, 310, "estimate").max_tokens == 16384


def test_a_prompt_that_fills_the_context_leaves_no_budget() -> None:
    with pytest.raises(PromptTooLong, match=r"leaves no room to generate.*max_model_len of 310"):
        fit_max_tokens(16384, 310, 310, "tokenizer")


def test_the_estimate_is_never_below_the_utf8_bytes_of_the_messages() -> None:
    messages = [{"role": "user", "content": "Combien font 2 + 2 ? Réponds en français. 🙂"}]
    size = len(messages[0]["content"].encode("utf-8"))
    assert estimate_prompt_tokens(messages) >= size + 1
    assert estimate_prompt_tokens([*messages, {"role": "assistant", "content": "<think>"}]) > size
