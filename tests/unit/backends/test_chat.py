"""Chat rendering helpers: thinking pre-fill detection, think tags that are special tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from mathif_pytest.backends import GenerationRequest
from mathif_pytest.backends._chat import (
    ChatFormat,
    ThinkTags,
    load_chat_template,
    opens_thinking,
    render,
    thinking_token_count,
)
from mathif_pytest.errors import BackendError, BackendUnavailableError

pytest.importorskip("transformers")


@pytest.mark.parametrize(
    ("tail", "opened"),
    [
        ("<|assistant|>", False),
        ("<|assistant|><think>\n", True),
        ("<|assistant|><think>\n\n</think>\n\n", False),  # Qwen3 with thinking off
        ("<think>a</think><think>b", True),
    ],
)
def test_a_prompt_opens_the_thinking_when_its_last_think_tag_is_unclosed(
    tail: str, opened: bool
) -> None:
    assert opens_thinking(tail) is opened


def test_the_user_prompt_itself_cannot_open_the_thinking(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    request = GenerationRequest(key="k", uid="u", sample=0, prompt="Explain <think> tags", seed=1)
    rendered = render(tokenizer, request, ChatFormat())
    assert rendered.text == "<|user|>Explain <think> tags<|eos|><|assistant|>"
    assert rendered.thinking_prefilled is False
    prefixed = render(
        tokenizer, GenerationRequest(**{**_fields(request), "prefix": "<think>x"}), ChatFormat()
    )
    assert prefixed.text.endswith("<|assistant|><think>x") and prefixed.thinking_prefilled


def _fields(request: GenerationRequest) -> dict[str, object]:
    return {name: getattr(request, name) for name in request.__slots__}  # type: ignore[attr-defined]


def test_a_template_is_a_file_or_inline_jinja_and_anything_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.jinja"
    path.write_text("{{ messages }}")
    assert load_chat_template(str(path)) == "{{ messages }}"
    assert load_chat_template("{% for m in messages %}{% endfor %}").startswith("{%")
    with pytest.raises(BackendUnavailableError, match=r"chat_template='nope.jinja' is neither"):
        load_chat_template("nope.jinja")


def test_a_tokenizer_without_a_template_is_refused_with_the_option_to_pass(
    tiny_model_dir: Path,
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = None
    request = GenerationRequest(key="k", uid="u", sample=0, prompt="hi", seed=1)
    with pytest.raises(BackendError, match=r"chat_template=path/to/template\.jinja"):
        render(tokenizer, request, ChatFormat())


def test_special_think_tags_survive_decoding_and_other_specials_do_not(
    tiny_model_dir: Path,
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    plain = ThinkTags.of(tokenizer)
    assert not plain.kept  # not tokens at all here: they decode as text anyway
    tokenizer.add_special_tokens({"additional_special_tokens": ["<think>", "</think>"]})
    tags = ThinkTags.of(tokenizer)
    assert sorted(tags.kept.values()) == ["</think>", "<think>"]
    ids = tokenizer.encode("<|bos|><think>why</think>42<|eos|>", add_special_tokens=False)
    assert tokenizer.decode(ids, skip_special_tokens=True) == "why42"  # what skipping would do
    assert tags.decode(tokenizer, ids) == "<think>why</think>42"
    assert thinking_token_count(tokenizer, ids, "<think>why</think>42", prefilled=False) == (
        ids.index(tokenizer.convert_tokens_to_ids("</think>")) + 1
    )


def test_thinking_tokens_when_never_closed_or_absent(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = [5, 6, 7]
    assert thinking_token_count(tokenizer, ids, "still thinking", prefilled=True) == 3
    assert thinking_token_count(tokenizer, ids, "no tags", prefilled=False) == 0
    head = tokenizer.encode("a b</think>", add_special_tokens=False)
    assert thinking_token_count(tokenizer, ids, "a b</think>c", prefilled=True) == len(head)
