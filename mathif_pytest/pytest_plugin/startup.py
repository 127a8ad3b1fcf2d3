"""Start-up checks: mistakes that can be known before any model loads are one usage error (exit 4).

Engine arguments the backend does not know are checked at configure time. The rest runs at the
end of collection (``pytest_collection_finish``): a malformed suite file (an unknown key, a bad
threshold, an ``extends:`` cycle, a source the data lacks), a YAML file whose top-level key looks
like a misspelt ``mathif:``, gate thresholds that name a group the selected samples lack or that
need a group, constraints or ``--mathif-baseline``, and a missing model or model path. A suite that
selects from fewer MathIF files than it asks for is a warning that names the missing files.
"""

from __future__ import annotations

import difflib
import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mathif_pytest.case import CaseSpec
from mathif_pytest.errors import MathIFError
from mathif_pytest.gate import Threshold
from mathif_pytest.pytest_plugin.collection import SESSION_KEY, SPEC_KEY
from mathif_pytest.pytest_plugin.options import any_mathif_option

__all__ = [
    "MathIFDataWarning",
    "check_collection",
    "check_configuration_found",
    "check_engine_args",
    "note_misspelt_suite",
    "note_suite_mistake",
    "suite_mistakes",
    "threshold_problem",
    "worker_usage_error",
]

_SUITE_MISTAKES = pytest.StashKey[list[str]]()
_WORKER_OUTPUT = "mathif_usage_error"
_NO_MODEL = (
    "MathIF cases were collected but no model was given; pass --model PATH_OR_URL "
    "(a checkpoint directory, a server URL, or a responses .jsonl for the replay backend)"
)
_CONSTRAINED_METRICS = ("hard_accuracy", "soft_accuracy", "compliance")


class MathIFDataWarning(UserWarning):
    """A suite runs fewer samples than it asks for: the data lacks some of its files."""


def note_suite_mistake(config: pytest.Config, message: str) -> None:
    """Remember a malformed suite file (unknown key, bad threshold...): a usage error later."""
    config.stash.setdefault(_SUITE_MISTAKES, []).append(message)


def suite_mistakes(config: pytest.Config) -> list[str]:
    """The suite-file mistakes noted so far in this process."""
    noted: list[str] = config.stash.get(_SUITE_MISTAKES, [])
    return list(noted)


def note_misspelt_suite(config: pytest.Config, path: Path, text: str) -> None:
    """Remember a YAML file whose top-level key looks like a misspelt ``mathif:``."""
    from mathif_pytest.suite import misspelt_suite_key

    key = misspelt_suite_key(text)
    if key is not None and _asked_for(config, path):
        note_suite_mistake(
            config,
            f"{path}: top-level key {key!r} looks like a misspelt suite; a suite's top-level key "
            "is exactly 'mathif:' (fix the key, or rename the file if it is no suite)",
        )


def _asked_for(config: pytest.Config, path: Path) -> bool:
    """``path`` was named on the command line, or lies in a directory that was.

    pytest offers every file beside a file argument to the collectors too: a sibling YAML file
    the user did not ask for is not checked.
    """
    for arg in config.args:
        target = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path.resolve() == target or (target.is_dir() and target in path.resolve().parents):
            return True
    return False


def check_collection(session: pytest.Session) -> None:
    """Raise one :class:`pytest.UsageError` listing every start-up mistake of the session.

    Also warns (:class:`MathIFDataWarning`) about suites whose data lacks files they select.
    """
    config = session.config
    state = config.stash[SESSION_KEY]
    problems = suite_mistakes(config)
    specs = [item.stash[SPEC_KEY] for item in session.items if SPEC_KEY in item.stash]
    if specs:
        problems += _gate_problems(state, specs)
        _warn_missing_files(state, specs)
        if not config.option.collectonly:
            problems += _model_problems(state, specs)
    if not problems:
        return
    message = "\n".join(dict.fromkeys(problems))
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is None:
        raise pytest.UsageError(message)
    # An xdist worker that raises here crashes the controller (INTERNALERROR): it runs nothing
    # instead and hands the message to the controller, which reports it and exits 4.
    workeroutput[_WORKER_OUTPUT] = message
    session.items.clear()


def worker_usage_error(node: Any) -> str | None:
    """The start-up mistake an xdist worker found (``pytest_testnodedown``'s node), if any."""
    message = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    return str(message) if message else None


def _gate_problems(state: Any, specs: Sequence[CaseSpec]) -> list[str]:
    by_suite: dict[str, list[CaseSpec]] = defaultdict(list)
    for spec in specs:
        by_suite[spec.suite].append(spec)
    settings = state.settings
    problems = []
    for name, suite_specs in sorted(by_suite.items()):
        suite = state.suites[name]
        where = "--mathif-gate" if settings.gate else f"{suite.path}: gate"
        for threshold in settings.gate or suite.gate:
            problem = threshold_problem(threshold, suite_specs, settings.baseline is not None)
            if problem:
                problems.append(f"{where} {threshold.text!r}: {problem}")
    return problems


def threshold_problem(
    threshold: Threshold, specs: Sequence[CaseSpec], with_baseline: bool
) -> str | None:
    """Why ``threshold`` cannot be judged on the cases ``specs`` (None when it can)."""
    if threshold.relative_to_baseline and not with_baseline:
        return (
            "a delta.* threshold compares with a baseline run; pass --mathif-baseline "
            "RESULTS.json (an earlier run's --mathif-results)"
        )
    if threshold.constraint_cost:
        return _cost_problem(threshold, specs)
    constrained = [s for s in specs if s.constrained]
    if threshold.metric in _CONSTRAINED_METRICS and not constrained:
        return (
            f"{threshold.metric} needs constraints, and these prompts carry none "
            "(constraints: false or --mathif-no-constraints); gate on correctness instead"
        )
    places = {s.sample.source for s in specs} | {s.sample.level for s in specs}
    types = {c for s in constrained for c in s.sample.constraint_ids}
    if threshold.metric == "compliance" and (threshold.group is None or threshold.group in places):
        example = f"compliance[{min(types)}]>=0.5" if types else "compliance[TYPE]>=0.5"
        return f"compliance is measured per constraint type; name one, e.g. {example}"
    if threshold.group is not None and threshold.group not in places | types:
        close = difflib.get_close_matches(threshold.group, sorted(places | types), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"sources and levels: {sorted(places)}"
        return f"no selected sample is in group {threshold.group!r}; {hint}"
    return None


def _cost_problem(threshold: Threshold, specs: Sequence[CaseSpec]) -> str | None:
    """Why a ``constraint_cost.*`` threshold cannot be judged (None when it can)."""
    asked = {(s.sample.uid, s.constrained) for s in specs}
    paired = [s for s in specs if s.constrained and (s.sample.uid, False) in asked]
    if not paired:
        return (
            f"{threshold.metric} compares each prompt asked with and without its constraints; "
            "set `constraints: both` in the suite"
        )
    places = {s.sample.source for s in paired} | {s.sample.level for s in paired}
    if threshold.group is not None and threshold.group not in places:
        close = difflib.get_close_matches(threshold.group, sorted(places), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"sources and levels: {sorted(places)}"
        return f"no prompt asked both ways is in group {threshold.group!r}; {hint}"
    return None


def _model_problems(state: Any, specs: Sequence[CaseSpec]) -> list[str]:
    settings = state.settings
    if not settings.model:
        return [_NO_MODEL]
    # The session's own resolution: the suites' sampling must agree, and "auto" picks a backend.
    from mathif_pytest.backends.resolve import _check_model

    try:
        backend = state.run_settings(specs).backend
        if not settings.rescore:  # rescoring reads the store only: the model need not exist
            _check_model(backend.name, backend.model)
    except MathIFError as exc:
        return [str(exc)]
    return []


def _warn_missing_files(state: Any, specs: Sequence[CaseSpec]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for spec in specs:
        counts[spec.suite] += 1
    for name, count in sorted(counts.items()):
        suite = state.suites[name]
        location = state.data_location(suite)
        dataset = state.dataset(location, state.deviations(suite))
        missing = suite.selection.missing_files(dataset.samples)
        if missing:
            message = (
                f"the data at {location} lacks {len(missing)} of the files this suite selects "
                f"from ({', '.join(missing)}); it runs {count} samples"
            )
            # Shown at the suite file, not at this line.
            warnings.warn_explicit(
                MathIFDataWarning(message), MathIFDataWarning, str(suite.path), 1
            )


def check_engine_args(settings: Any) -> None:
    """Exit 4 before any model loads when an engine argument is unknown to the backend.

    Run at configure time, so that the xdist controller stops before any worker starts.
    """
    from mathif_pytest.backends import BackendConfig, SamplingSettings
    from mathif_pytest.backends.engine_args import check_engine_args
    from mathif_pytest.backends.resolve import resolve_backend_name
    from mathif_pytest.errors import MathIFError

    config = BackendConfig(
        name=settings.backend or "auto",
        model=settings.model,
        sampling=SamplingSettings(temperature=1.0, top_p=1.0, max_tokens=1, seed=None),
        options=settings.engine_args,
    )
    try:
        check_engine_args(resolve_backend_name(config), settings.engine_args)
    except MathIFError as exc:
        raise pytest.UsageError(str(exc)) from None


#: pytest's configuration files, and the section that makes each one count.
_CONFIG_FILES = (
    ("pytest.ini", ""),
    (".pytest.ini", ""),
    ("pyproject.toml", "[tool.pytest"),
    ("tox.ini", "[pytest]"),
    ("setup.cfg", "[tool:pytest]"),
)


def check_configuration_found(config: pytest.Config) -> None:
    """Refuse a run whose pytest configuration was lost to a path outside the project.

    pytest finds its configuration file from the common ancestor of every existing path on the
    command line, option values written as a separate word included: ``--model /data/ckpt`` (or
    ``--mathif-store /tmp/s.sqlite``, once that file exists) run from a project makes that
    ancestor ``/``, and the project's ``pyproject.toml`` is silently ignored (its ``testpaths``,
    its ``mathif_*`` keys...).

    Raises:
        pytest.UsageError: a configuration file above the invocation directory was not used.
    """
    if config.inipath is not None or not any_mathif_option(config.option):
        return
    found = _configuration_file(config.invocation_params.dir)
    if found is None:
        return
    outside = [
        arg
        for arg in map(str, config.invocation_params.args)
        if not arg.startswith("-") and _outside(Path(arg), found.parent)
    ]
    named = ", ".join(outside) or "a path outside it"
    raise pytest.UsageError(
        f"pytest did not read {found}, because the command line names {named}, outside "
        f"{found.parent} (pytest looks for its configuration from every existing path on the "
        "command line, option values included); write such options as one word, "
        f"e.g. --model=PATH, or pass -c {found}"
    )


def _configuration_file(directory: Path) -> Path | None:
    """The pytest configuration file that pytest would find from ``directory``, if any."""
    for folder in (directory, *directory.parents):
        for name, section in _CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file() and section in _read(candidate):
                return candidate
    return None


def _outside(path: Path, directory: Path) -> bool:
    try:
        return path.exists() and not path.resolve().is_relative_to(directory.resolve())
    except OSError:
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
