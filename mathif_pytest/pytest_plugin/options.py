"""Command-line options and ini keys, resolved once into an immutable :class:`Settings`."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.backends import BACKEND_NAMES
from mathif_pytest.batch.shards import Shard, parse_shard
from mathif_pytest.errors import GateSpecError
from mathif_pytest.gate import Threshold, parse_threshold
from mathif_pytest.protocol import Deviations

__all__ = ["Settings", "add_options", "resolve_settings"]

DEFAULT_DATA = "hf://TingchenFu/MathIF"
DEFAULT_STORE = ".mathif/responses.sqlite"


def _gate(text: str) -> Threshold:
    try:
        return parse_threshold(text)
    except GateSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction between 0 and 1")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 0")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _seed(text: str) -> str:
    # Kept as text: None must stay "not given" so that a suite's seed can apply.
    if text.lower() != "none":
        try:
            int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer or 'none'") from None
    return text


def _engine_arg(text: str) -> tuple[str, Any]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (e.g. tensor_parallel_size=4)")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return key.strip(), parsed


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _deviation(text: str) -> str:
    if text not in Deviations.names():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a deviation; choose from {', '.join(Deviations.names())}"
        )
    return text


def add_options(parser: pytest.Parser) -> None:
    """Declare every option and ini key (``pytest_addoption``)."""
    group = parser.getgroup("mathif", "MathIF regression gate (mathif-pytest)")
    add = group.addoption
    add(
        "--model",
        dest="mathif_model",
        metavar="PATH_OR_URL",
        help="model to evaluate: checkpoint dir or hub id (vllm/transformers), server URL "
        "(openai), or a responses .jsonl file (replay).",
    )
    add(
        "--mathif-backend",
        choices=BACKEND_NAMES,
        default=None,
        help="backend [auto: replay for .jsonl, openai for URLs, vllm with a GPU, else "
        "transformers].",
    )
    add(
        "--mathif-data",
        metavar="DIR",
        default=None,
        help=f"MathIF data: a directory of *.jsonl, or hf://OWNER/NAME [{DEFAULT_DATA}].",
    )
    add(
        "--mathif-temperature",
        type=float,
        default=None,
        metavar="T",
        help="sampling temperature [suite, else 1.0].",
    )
    add(
        "--mathif-top-p",
        type=_fraction,
        default=None,
        metavar="P",
        help="nucleus sampling top-p [suite, else 0.95].",
    )
    add(
        "--mathif-max-tokens",
        type=_positive_int,
        default=None,
        metavar="N",
        help="maximum new tokens per response [suite, else 16384].",
    )
    add(
        "--mathif-top-k",
        type=_non_negative_int,
        default=None,
        metavar="K",
        help="keep the K most likely tokens; 0 is off [suite, else 0].",
    )
    add(
        "--mathif-min-p",
        type=_fraction,
        default=None,
        metavar="P",
        help="min-p sampling; 0 is off [suite, else 0].",
    )
    add(
        "--mathif-repetition-penalty",
        type=_positive_float,
        default=None,
        metavar="R",
        help="repetition penalty; 1 is off [suite, else 1].",
    )
    add(
        "--mathif-samples",
        type=_positive_int,
        default=None,
        metavar="N",
        help="responses per prompt; a case passes when all N pass [suite, else 1].",
    )
    add(
        "--mathif-seed",
        type=_seed,
        default=None,
        metavar="SEED",
        help="base seed; each request derives its own ('none': unseeded) [suite, else 0].",
    )
    add(
        "--mathif-no-constraints",
        action="store_true",
        default=False,
        help="prompts without constraint text; score correctness only (paper's w/o const.).",
    )
    add(
        "--mathif-gate",
        type=_gate,
        action="append",
        default=[],
        metavar="EXPR",
        help="threshold, repeatable, replaces the suite's: METRIC[GROUP]>=VALUE, e.g. "
        "hard_accuracy>=0.40, correctness[aime]>=0.2, soft_accuracy[triple]>=50%%.",
    )
    add(
        "--mathif-store",
        metavar="PATH",
        default=None,
        help=f"SQLite response store (resume, reuse) [{DEFAULT_STORE} under the rootdir].",
    )
    add(
        "--mathif-results",
        metavar="PATH",
        default=None,
        help="write the run's summary, gate and per-case results as JSON.",
    )
    add(
        "--mathif-rescore",
        action="store_true",
        default=False,
        help="score stored responses only; never load a model.",
    )
    add(
        "--mathif-deviation",
        type=_deviation,
        action="append",
        default=[],
        metavar="NAME",
        help="enable a deliberate fix of official scoring (repeatable): "
        + ", ".join(Deviations.names())
        + ".",
    )
    add(
        "--mathif-engine-arg",
        type=_engine_arg,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="backend setting, repeatable, e.g. tensor_parallel_size=4, "
        "dtype=bfloat16, batch_size=16, served_model=NAME, concurrency=32.",
    )
    add(
        "--mathif-max-ungradable",
        type=_fraction,
        default=None,
        metavar="FRACTION",
        help="fail the run when more answers than this share are ungradable [0.05].",
    )
    add(
        "--mathif-grading-timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="time limit per answer grading; past it the answer is ungradable [5].",
    )
    add(
        "--mathif-strict",
        action="store_true",
        default=False,
        help="every failed sample fails the run (plain pytest semantics) besides the gate.",
    )
    add(
        "--mathif-baseline",
        metavar="RESULTS.json",
        default=None,
        help="a previous run's --mathif-results file: paired comparison, flipped samples, and "
        "delta.* gate thresholds such as delta.hard_accuracy>=-0.02.",
    )
    add(
        "--mathif-alpha",
        type=_fraction,
        default=None,
        metavar="ALPHA",
        help="significance level of the paired tests behind delta.* thresholds [0.05].",
    )
    add(
        "--mathif-shard",
        type=_shard,
        default=None,
        metavar="I/N",
        help="run shard I of N (0-based): a stable hash-based share of the MathIF cases, for CI "
        "matrices; merge the stores with `mathif merge-stores` and gate with --mathif-rescore.",
    )
    parser.addini("mathif_data", "default for --mathif-data", default=None)
    parser.addini("mathif_store", "default for --mathif-store", default=None)
    parser.addini(
        "mathif_gate", "default gate thresholds, one per line", type="linelist", default=[]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Options resolved once (command line > ini > default). Suites add their own layer.

    ``None`` in a sampling field means "not set on the command line": the suite's value, then the
    official default, applies.
    """

    model: str | None
    backend: str | None
    data: str | None
    data_ini: str | None
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    top_k: int | None
    min_p: float | None
    repetition_penalty: float | None
    samples: int | None
    seed: int | None
    seed_given: bool
    no_constraints: bool
    gate: tuple[Threshold, ...]
    store: Path
    results: Path | None
    rescore: bool
    deviations: tuple[str, ...]
    engine_args: Mapping[str, Any] = field(default_factory=dict)
    max_ungradable: float = 0.05
    grading_timeout: float = 5.0
    strict: bool = False
    baseline: Path | None = None
    alpha: float = 0.05
    active: bool = False

    def sampling_overrides(self) -> dict[str, Any]:
        """The sampling values set on the command line."""
        values = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repetition_penalty": self.repetition_penalty,
            "samples": self.samples,
        }
        out: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        if self.seed_given:
            out["seed"] = self.seed
        return out


def resolve_settings(config: pytest.Config) -> Settings:
    """Read options and ini keys into :class:`Settings`.

    Raises:
        pytest.UsageError: an ini value is invalid (command-line values are checked by argparse).
    """
    opt = config.option
    try:
        ini_gate = tuple(parse_threshold(t) for t in config.getini("mathif_gate"))
    except GateSpecError as exc:
        raise pytest.UsageError(f"ini mathif_gate: {exc}") from None
    store = (
        opt.mathif_store
        or _ini_path(config, "mathif_store")
        or str(config.rootpath / DEFAULT_STORE)
    )
    seed_text = opt.mathif_seed
    return Settings(
        model=opt.mathif_model,
        backend=opt.mathif_backend,
        data=opt.mathif_data,
        data_ini=_ini_path(config, "mathif_data"),
        temperature=opt.mathif_temperature,
        top_p=opt.mathif_top_p,
        max_tokens=opt.mathif_max_tokens,
        top_k=opt.mathif_top_k,
        min_p=opt.mathif_min_p,
        repetition_penalty=opt.mathif_repetition_penalty,
        samples=opt.mathif_samples,
        seed=None if seed_text is None or seed_text.lower() == "none" else int(seed_text),
        seed_given=seed_text is not None,
        no_constraints=opt.mathif_no_constraints,
        gate=tuple(opt.mathif_gate) or ini_gate,
        store=Path(store),
        results=Path(opt.mathif_results) if opt.mathif_results else None,
        rescore=opt.mathif_rescore,
        deviations=tuple(opt.mathif_deviation),
        engine_args=dict(opt.mathif_engine_arg),
        max_ungradable=0.05 if opt.mathif_max_ungradable is None else opt.mathif_max_ungradable,
        grading_timeout=opt.mathif_grading_timeout or 5.0,
        strict=opt.mathif_strict,
        baseline=Path(opt.mathif_baseline) if opt.mathif_baseline else None,
        alpha=0.05 if opt.mathif_alpha is None else opt.mathif_alpha,
        active=_any_mathif_option(opt),
    )


def _ini_path(config: pytest.Config, name: str) -> str | None:
    """An ini path, relative to the ini file's directory (hub specs are kept as written)."""
    value = config.getini(name)
    if not value:
        return None
    text = str(value)
    if text.startswith("hf://") or config.inipath is None:
        return text
    return str((config.inipath.parent / text).resolve())


def _any_mathif_option(opt: Any) -> bool:
    """Whether the user asked for mathif on the command line (then the header is printed)."""
    return any(
        getattr(opt, name) not in (None, False, [])
        for name in vars(opt)
        if name.startswith("mathif_")
    )
