"""Command-line options and ini keys, resolved once into an immutable :class:`Settings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.backends import BACKEND_NAMES
from mathif_pytest.backends.engine_args import merge_engine_args
from mathif_pytest.errors import GateSpecError
from mathif_pytest.gate import Threshold, parse_threshold
from mathif_pytest.interventions import Intervention
from mathif_pytest.protocol import Deviations
from mathif_pytest.pytest_plugin import option_types

__all__ = ["Settings", "add_options", "any_mathif_option", "resolve_settings"]

DEFAULT_DATA = "hf://TingchenFu/MathIF"
DEFAULT_STORE = ".mathif/responses.sqlite"
#: The suite ``pytest --model CKPT`` runs when no suite is named: the whole benchmark, as in the
#: paper (a gate on 45 prompts cannot see drops smaller than about 25 points).
DEFAULT_SUITE = "full"


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
        "--mathif-suite",
        action="append",
        default=[],
        metavar="NAME_OR_PATH",
        help="run a built-in suite (full, smoke, a source, no_constraints) or a suite YAML file, "
        "repeatable; without it and without a suite among the paths, --model runs the "
        "mathif_default_suite ini key's suite [full].",
    )
    add(
        "--mathif-list-suites",
        action="store_true",
        default=False,
        help="list the built-in suites with their sizes and descriptions, then exit.",
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
        type=option_types.non_negative_float,
        default=None,
        metavar="T",
        help="sampling temperature [suite, else 1.0].",
    )
    add(
        "--mathif-top-p",
        type=option_types.fraction,
        default=None,
        metavar="P",
        help="nucleus sampling top-p [suite, else 0.95].",
    )
    add(
        "--mathif-max-tokens",
        type=option_types.positive_int,
        default=None,
        metavar="N",
        help="maximum new tokens per response [suite, else 16384].",
    )
    add(
        "--mathif-top-k",
        type=option_types.non_negative_int,
        default=None,
        metavar="K",
        help="keep the K most likely tokens; 0 is off [suite, else 0].",
    )
    add(
        "--mathif-min-p",
        type=option_types.fraction,
        default=None,
        metavar="P",
        help="min-p sampling; 0 is off [suite, else 0].",
    )
    add(
        "--mathif-repetition-penalty",
        type=option_types.positive_float,
        default=None,
        metavar="R",
        help="repetition penalty; 1 is off [suite, else 1].",
    )
    add(
        "--mathif-samples",
        type=option_types.positive_int,
        default=None,
        metavar="N",
        help="responses per prompt; a case passes when all N pass [suite, else 1].",
    )
    add(
        "--mathif-seed",
        type=option_types.seed,
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
        "--mathif-intervention",
        type=option_types.intervention,
        default=None,
        metavar="KIND[=N]",
        help="intervene in the thinking, in stages: repeat_constraints, thinking_budget=TOKENS "
        "or budget_forcing=N (replaces the suites' intervention:; docs/interventions.md).",
    )
    add(
        "--mathif-gate",
        type=option_types.gate,
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
        help=f"SQLite response store (resume, reuse) [{DEFAULT_STORE} beside the pytest "
        "configuration file, else in the current directory].",
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
        type=option_types.deviation,
        action="append",
        default=[],
        metavar="NAME",
        help="enable a deliberate fix of official scoring (repeatable): "
        + ", ".join(Deviations.names())
        + ".",
    )
    add(
        "--mathif-engine-arg",
        type=option_types.engine_arg,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="backend setting, repeatable, e.g. tensor_parallel_size=4, "
        "dtype=bfloat16, batch_size=16, served_model=NAME, concurrency=32.",
    )
    add(
        "--mathif-max-ungradable",
        type=option_types.fraction,
        default=None,
        metavar="FRACTION",
        help="fail the run when more answers than this share are ungradable [0.05].",
    )
    add(
        "--mathif-grading-timeout",
        type=option_types.positive_float,
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
        type=option_types.level,
        default=None,
        metavar="ALPHA",
        help="family-wise level of the gate's tested rows: every delta.* row (and absolute rows "
        "with --mathif-absolute significant), Holm-adjusted together [0.05].",
    )
    add(
        "--mathif-row-alpha",
        type=option_types.level,
        default=None,
        metavar="ALPHA",
        help="test each tested row at this level on its own instead (no family-wise control: "
        "false alarms grow with the number of rows).",
    )
    add(
        "--mathif-min-power",
        type=option_types.min_power,
        default=None,
        metavar="POWER[@DROP]",
        help="fail a delta.* row whose test cannot reach this power: against any drop up to "
        "losing everything, or against DROP (e.g. 0.8@0.05) [off: such rows pass and say so].",
    )
    add(
        "--mathif-absolute",
        choices=("point", "significant"),
        default=None,
        help="absolute thresholds compare the point estimate (point), or fail only when the "
        "rate is significantly past the bound (significant) [point].",
    )
    add(
        "--mathif-shard",
        type=option_types.shard,
        default=None,
        metavar="I/N",
        help="run shard I of N (0-based): a stable hash-based share of the MathIF cases, for CI "
        "matrices; merge the stores with `mathif merge-stores` and gate with --mathif-rescore.",
    )
    parser.addini("mathif_data", "default for --mathif-data", default=None)
    parser.addini(
        "mathif_default_suite",
        "the suite --model runs when no suite is collected from the paths or --mathif-suite "
        "(a built-in name or a YAML path; 'none' turns it off)",
        default=DEFAULT_SUITE,
    )
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
    suites: tuple[str, ...]
    default_suite: str | None
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
    alpha_given: bool = False
    row_alpha: float | None = None
    min_power: float | None = None
    min_power_drop: float | None = None
    absolute: str = "point"
    active: bool = False
    intervention: Intervention | None = None

    def gate_policy(self) -> dict[str, Any]:
        """How the gate's tested rows are judged, as :meth:`RunAggregator.finish` reads it."""
        return {
            "alpha": self.alpha if self.row_alpha is None else self.row_alpha,
            "correction": "holm" if self.row_alpha is None else "none",
            "absolute": self.absolute,
            "min_power": self.min_power,
            "min_power_drop": self.min_power_drop,
        }

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
        or str(_project_dir(config) / DEFAULT_STORE)
    )
    seed_text = opt.mathif_seed
    if opt.mathif_alpha is not None and opt.mathif_row_alpha is not None:
        raise pytest.UsageError(
            "--mathif-alpha (family-wise) and --mathif-row-alpha (per row) exclude each other; "
            "give one"
        )
    min_power, min_power_drop = opt.mathif_min_power or (None, None)
    return Settings(
        model=opt.mathif_model,
        suites=tuple(opt.mathif_suite),
        default_suite=_default_suite(config),
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
        engine_args=merge_engine_args(opt.mathif_engine_arg),
        max_ungradable=0.05 if opt.mathif_max_ungradable is None else opt.mathif_max_ungradable,
        grading_timeout=opt.mathif_grading_timeout or 5.0,
        strict=opt.mathif_strict,
        baseline=Path(opt.mathif_baseline) if opt.mathif_baseline else None,
        alpha=0.05 if opt.mathif_alpha is None else opt.mathif_alpha,
        alpha_given=opt.mathif_alpha is not None,
        row_alpha=opt.mathif_row_alpha,
        min_power=min_power,
        min_power_drop=min_power_drop,
        absolute=opt.mathif_absolute or "point",
        active=any_mathif_option(opt),
        intervention=opt.mathif_intervention,
    )


def _project_dir(config: pytest.Config) -> Path:
    """The directory of the pytest configuration file, else where pytest was invoked.

    Not the rootdir alone: pytest takes the common ancestor of every argument that exists as a
    path, option values included, so ``--model /abs/ckpt`` without a configuration file can
    make it ``/``.
    """
    return config.inipath.parent if config.inipath is not None else config.invocation_params.dir


def _default_suite(config: pytest.Config) -> str | None:
    """The ``mathif_default_suite`` ini key: a built-in name or a path (relative to the ini file).

    ``none`` turns the default suite off (None).
    """
    value = str(config.getini("mathif_default_suite") or DEFAULT_SUITE).strip()
    if value.lower() == "none":
        return None
    if value.endswith((".yaml", ".yml")) and config.inipath is not None:
        return str((config.inipath.parent / value).resolve())
    return value


def _ini_path(config: pytest.Config, name: str) -> str | None:
    """An ini path, relative to the ini file's directory (hub specs are kept as written)."""
    value = config.getini(name)
    if not value:
        return None
    text = str(value)
    if text.startswith("hf://") or config.inipath is None:
        return text
    return str((config.inipath.parent / text).resolve())


def any_mathif_option(opt: Any) -> bool:
    """Whether the user asked for mathif on the command line (then the header is printed)."""
    return any(
        getattr(opt, name) not in (None, False, [])
        for name in vars(opt)
        if name.startswith("mathif_")
    )
