"""Test-only fixtures shared by the whole test suite (public fixtures live in the plugin)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

#: A chat template with one turn per message and no system prompt of its own.
TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '<|eos|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
_SPECIALS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>", "<|system|>"]
_TEXT = (
    "the answer is a number we add subtract multiply divide then check each step carefully "
    "first second third total sum product remainder apples books coins friends each has more "
    "fewer how many left in all think step by step and output the final answer within boxed"
)


#: Ordinary token ids that the tiny model also treats as end of response (see build_tiny_model).
TINY_EXTRA_STOP_IDS = tuple(range(300, 363))


def _tiny_corpus() -> list[str]:
    """Deterministic English and arithmetic lines, enough for a 1000-token byte-level BPE."""
    lines = [f"What is {a} plus {a * 3 + 1}? The answer is {a * 4 + 1}." for a in range(120)]
    lines += [f"{b} times {b % 7 + 2} is {b * (b % 7 + 2)}, so \\boxed{{{b}}}." for b in range(80)]
    words = _TEXT.split()
    lines += [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(14)) for i in range(150)]
    return lines


def build_tiny_model(directory: Path) -> Path:
    """Write the STACK.md §2 tiny Llama (about 146k parameters) with its tokenizer to ``directory``.

    Offline and deterministic (two builds are byte-identical). One attention head of size 64, so
    the CPU build of vLLM can run it too (it rejects head_dim 16). ``tokenizer_class`` is rewritten
    to ``PreTrainedTokenizerFast`` so that transformers 4.x loads it as well as 5.x.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import (
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=1000,
        min_frequency=1,
        special_tokens=_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_tiny_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|bos|>",
        eos_token="<|eos|>",
        pad_token="<|pad|>",
        padding_side="left",
        chat_template=TINY_CHAT_TEMPLATE,
        model_max_length=2048,
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=1,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        # Random weights sample near-uniformly over ~1000 tokens, so with one stop token a response
        # would run to the context limit (thousands of CPU steps). 63 extra stop ids end responses
        # after ~16 tokens on average, which keeps the full smoke suite at default settings fast.
        eos_token_id=[tokenizer.eos_token_id, *TINY_EXTRA_STOP_IDS],
        pad_token_id=tokenizer.pad_token_id,
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        max_new_tokens=64,
    )
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    config_path = directory / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text())
    tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(tokenizer_config, indent=2))
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama checkpoint directory (config, safetensors, tokenizer, chat template).

    Built once per session (per xdist worker) in about 0.2 s plus the torch/transformers imports.
    Its outputs are gibberish: use it to test plumbing (batching, seeds, token counts), not text.
    Treat it as read-only; copy it first to test what changes to a checkpoint do.
    """
    pytest.importorskip("transformers")
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


#: The tiny template plus what R1-distill, QwQ and Qwen3 (thinking on) append: an opened thought.
TINY_THINKING_TEMPLATE = TINY_CHAT_TEMPLATE.replace("'<|assistant|>'", "'<|assistant|><think>\\n'")


def build_tiny_lora(base: Path, directory: Path) -> Path:
    """A PEFT LoRA adapter (rank 8 on q/v projections) for the tiny model, random non-zero weights.

    ``init_lora_weights=False`` draws both LoRA matrices at random (PEFT's default zeroes B, which
    would make the adapter a no-op). ``adapter_config.json`` names ``base`` as its base model.
    """
    import warnings

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base)
    torch.manual_seed(1)
    config = LoraConfig(
        r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    with warnings.catch_warnings():  # peft 0.21 calls a method transformers 5 deprecates
        warnings.simplefilter("ignore", FutureWarning)
        get_peft_model(model, config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_lora_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter directory (adapter_config.json + adapter_model.safetensors, no tokenizer)
    whose base is :func:`tiny_model_dir`. Read-only, like the base.
    """
    pytest.importorskip("peft")
    return build_tiny_lora(tiny_model_dir, tmp_path_factory.mktemp("tiny-lora"))


@pytest.fixture(scope="session")
def tiny_thinking_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a chat template that pre-fills ``<think>`` and a newline, as the
    templates of R1-distill, QwQ and Qwen3 do. Read-only.
    """
    directory = tmp_path_factory.mktemp("tiny-thinking") / "model"
    shutil.copytree(tiny_model_dir, directory)
    (directory / "chat_template.jinja").write_text(TINY_THINKING_TEMPLATE, encoding="utf-8")
    return directory


# --- pytester projects: the MathIF data, replay files, suites --------------------------------

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "mathif"

#: Responses that follow nothing and answer nothing, and ones that are right on every answer.
WRONG = "I do not know"


def right(answer: str) -> str:
    return f"<think>Let me think.</think>The final answer is \\boxed{{{answer}}}"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(f"MathIF data not found at {DATA_DIR}; CI places ../shared beside the clone")
    return DATA_DIR


@pytest.fixture(scope="session")
def answers(data_dir: Path) -> dict[str, str]:
    """uid → reference answer, for every sample."""
    from mathif_pytest.dataset import load_dataset

    return {s.uid: s.answer for s in load_dataset(data_dir).samples}


ReplayWriter = Callable[..., Path]


@pytest.fixture
def write_replay(pytester: pytest.Pytester, answers: dict[str, str]) -> ReplayWriter:
    """Write a replay file: ``correct`` uids get right answers, the rest a wrong one."""

    def write(
        name: str = "responses.jsonl",
        correct: Callable[[str], bool] = lambda uid: False,
        skip: Callable[[str], bool] = lambda uid: False,
        samples: int = 1,
    ) -> Path:
        path = pytester.path / name
        with path.open("w", encoding="utf-8") as handle:
            for _ in range(samples):
                for uid, answer in answers.items():
                    if not skip(uid):
                        text = right(answer) if correct(uid) else WRONG
                        handle.write(json.dumps({"uid": uid, "response": text}) + "\n")
        return path

    return write


@pytest.fixture
def suite(pytester: pytest.Pytester, data_dir: Path) -> Callable[..., Path]:
    """Write a suite YAML into the pytester project; ``body`` is the YAML under ``mathif:``."""

    def make(name: str = "smoke", body: str = "select:\n    stratified: 15\n") -> Path:
        text = f"mathif:\n  name: {name}\n  data: {data_dir}\n  " + body.replace("\n", "\n  ")
        path = pytester.path / f"{name}.yaml"
        path.write_text(text.rstrip() + "\n", encoding="utf-8")
        return path

    return make
