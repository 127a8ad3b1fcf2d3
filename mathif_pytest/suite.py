"""Suites: YAML files naming which MathIF samples to run, how to sample, and the gate thresholds."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif_pytest.dataset import Sample
from mathif_pytest.errors import GateSpecError, MathIFError
from mathif_pytest.gate import Threshold, parse_threshold
from mathif_pytest.interventions import Intervention, parse_intervention
from mathif_pytest.protocol import LEVELS, Deviations

__all__ = [
    "MATHIF_SOURCES",
    "Selection",
    "Suite",
    "SuiteError",
    "is_suite_text",
    "load_suite",
    "misspelt_suite_key",
    "stratified_subset",
]

_SUITE_KEYS = {
    "extends": str,
    "name": str,
    "description": str,
    "data": str,
    "select": dict,
    "constraints": object,
    "intervention": object,
    "sampling": dict,
    "gate": list,
    "quarantine": list,
    "deviations": list,
}
_SELECT_KEYS = ("sources", "levels", "files", "uids", "constraints", "stratified", "limit")
SAMPLING_KEYS = (
    "temperature",
    "top_p",
    "max_tokens",
    "samples",
    "seed",
    "top_k",
    "min_p",
    "repetition_penalty",
    "stop",
)
_MARKER = re.compile(r"^mathif\s*:", re.MULTILINE)
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.MULTILINE)
#: The sources of the official MathIF data: one file per source and level (``gsm8k_double``).
MATHIF_SOURCES = ("aime", "gsm8k", "math500", "minerva", "olympiad")


class SuiteError(MathIFError):
    """A suite file is malformed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """Which samples a suite runs. Empty filters select everything; filters combine with AND.

    Attributes:
        sources: keep these sources (``gsm8k``, ``math500``, ``minerva``, ``olympiad``, ``aime``).
        levels: keep these levels (``single``, ``double``, ``triple``).
        files: keep these file stems (``gsm8k_double``).
        uids: keep exactly these samples.
        constraints: keep samples that have at least one of these constraint ids.
        stratified: then take a deterministic subset of about this size that covers every
            source × level cell equally and every constraint type present.
        limit: finally keep at most this many samples (in data order).
    """

    sources: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    uids: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    stratified: int | None = None
    limit: int | None = None

    def apply(self, samples: Sequence[Sample]) -> list[Sample]:
        """The selected samples, in data order.

        Raises:
            SuiteError: a filter names a source, level, file, uid or constraint the data lacks.
        """
        self._check_known(samples)
        kept = [s for s in samples if self._keeps(s)]
        if self.stratified is not None:
            kept = stratified_subset(kept, self.stratified)
        return kept[: self.limit] if self.limit is not None else kept

    def missing_files(self, samples: Sequence[Sample]) -> list[str]:
        """The official MathIF files this selection draws from that ``samples`` lack.

        ``gsm8k_double.jsonl`` is missing when the selection asks for source ``gsm8k`` and level
        ``double`` (explicitly, or by not filtering on them) and no sample comes from that file.
        Empty for data that is not laid out like MathIF's (other sources) and for ``uids``
        selections (an unknown uid is an error already).
        """
        present = {(s.source, s.level) for s in samples}
        if self.uids or not present or not {src for src, _ in present} <= set(MATHIF_SOURCES):
            return []
        wanted = [
            (source, level)
            for source in self.sources or MATHIF_SOURCES
            for level in self.levels or LEVELS
            if not self.files or f"{source}_{level}" in self.files
        ]
        return [f"{src}_{level}.jsonl" for src, level in wanted if (src, level) not in present]

    def _keeps(self, s: Sample) -> bool:
        return (
            (not self.sources or s.source in self.sources)
            and (not self.levels or s.level in self.levels)
            and (not self.files or s.file_stem in self.files)
            and (not self.uids or s.uid in self.uids)
            and (not self.constraints or any(c in self.constraints for c in s.constraint_ids))
        )

    def _check_known(self, samples: Sequence[Sample]) -> None:
        known = {
            "sources": {s.source for s in samples},
            "levels": {s.level for s in samples},
            "files": {s.file_stem for s in samples},
            "uids": {s.uid for s in samples},
            "constraints": {c for s in samples for c in s.constraint_ids},
        }
        for key, names in known.items():
            for name in getattr(self, key):
                if name not in names:
                    raise SuiteError(
                        f"select.{key}: {name!r} is not in the data{_hint(name, names)}"
                    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    """A parsed suite file.

    Attributes:
        name: the suite's name (default: the file stem).
        path: the YAML file.
        description: free text shown in reports.
        data: where the data lives, relative paths resolved against the suite file (None: the
            ``--mathif-data`` / ``mathif_data`` setting or the hub).
        selection: which samples run.
        variants: which prompts each sample is asked with: ``(True,)`` with its constraints,
            ``(False,)`` without (the paper's "w/o constraints": correctness only), ``(True,
            False)`` both (``constraints: both``, for the constraint cost).
        intervention: what is done to the thinking (``intervention:``), None for nothing.
        sampling: overrides of ``temperature``, ``top_p``, ``max_tokens``, ``samples``, ``seed``.
        gate: thresholds (command-line ``--mathif-gate`` replaces them).
        quarantine: uids that run and are reported but that the gate ignores.
        deviations: deliberate fixes of official behaviour enabled for this suite.
    """

    name: str
    path: Path
    description: str = ""
    data: str | None = None
    selection: Selection = field(default_factory=Selection)
    variants: tuple[bool, ...] = (True,)
    intervention: Intervention | None = None
    sampling: Mapping[str, Any] = field(default_factory=dict)
    gate: tuple[Threshold, ...] = ()
    quarantine: tuple[str, ...] = ()
    deviations: Deviations = field(default_factory=Deviations)

    @property
    def constrained(self) -> bool:
        """The suite asks its samples with their constraints (alone, or beside without)."""
        return True in self.variants


def is_suite_text(text: str) -> bool:
    """Whether a YAML file's text looks like a mathif suite (a top-level ``mathif:`` key)."""
    return bool(_MARKER.search(text))


def misspelt_suite_key(text: str) -> str | None:
    """A top-level key of a YAML text that looks like a misspelt ``mathif:`` (``mathf:``).

    None for a suite, and for YAML whose keys are not close to ``mathif`` (``math:`` is not).
    """
    if is_suite_text(text):
        return None
    for key in _TOP_LEVEL_KEY.findall(text):
        if difflib.SequenceMatcher(None, key.lower(), "mathif").ratio() > 0.8:
            return str(key)
    return None


def load_suite(path: Path, document: Mapping[str, Any]) -> Suite:
    """Build a suite from a parsed YAML document whose top-level key is ``mathif``.

    Raises:
        SuiteError: unknown or mistyped keys (with a did-you-mean), bad gate expressions, bad
            sampling values. The message names the file and the key.
    """
    body = _body(path, document)
    body = _extended(path, body, (path.resolve(),))
    select = body.get("select", {})
    _check_keys(path, select, dict.fromkeys(_SELECT_KEYS, object), "select")
    _check_keys(path, body.get("sampling", {}), dict.fromkeys(SAMPLING_KEYS, object), "sampling")
    try:
        gate = tuple(parse_threshold(str(t)) for t in body.get("gate", []))
        deviations = Deviations.from_names([str(d) for d in body.get("deviations", [])])
    except (GateSpecError, ValueError) as exc:
        raise SuiteError(f"{path}: {exc}") from None
    variants = _variants(path, body.get("constraints", True))
    intervention = _intervention(path, body.get("intervention"), variants)
    return Suite(
        name=body.get("name", path.stem),
        path=path,
        description=body.get("description", ""),
        data=_data_location(path, body.get("data")),
        selection=_selection(path, select),
        variants=variants,
        intervention=intervention,
        sampling=dict(body.get("sampling", {})),
        gate=gate,
        quarantine=tuple(str(u) for u in body.get("quarantine", [])),
        deviations=deviations,
    )


def _variants(path: Path, value: Any) -> tuple[bool, ...]:
    """``constraints:``: true (the default), false (the paper's "w/o constraints"), or both."""
    if value is True or value is False:
        return (value,)
    if value == "both":
        return (True, False)
    raise SuiteError(
        f"{path}: mathif.constraints must be true, false or both (got {value!r}); both asks "
        "every sample with and without its constraints, for the constraint cost"
    )


def _intervention(path: Path, value: Any, variants: tuple[bool, ...]) -> Intervention | None:
    if value is None:
        return None
    try:
        intervention = parse_intervention(value, f"{path}: intervention")
    except MathIFError as exc:
        raise SuiteError(str(exc)) from None
    if intervention.needs_constraints and False in variants:
        raise SuiteError(
            f"{path}: intervention repeat_constraints repeats the constraints, and "
            f"constraints: {'both' if True in variants else 'false'} asks prompts without "
            "them; use constraints: true (compare with a plain both-run for the cost)"
        )
    return intervention


def _body(path: Path, document: Any) -> dict[str, Any]:
    body = document.get("mathif") if isinstance(document, dict) else None
    if not isinstance(body, dict):
        raise SuiteError(f"{path}: 'mathif' must be a mapping of suite settings")
    _check_keys(path, body, _SUITE_KEYS, "mathif")
    return body


def _extended(path: Path, body: dict[str, Any], chain: tuple[Path, ...]) -> dict[str, Any]:
    """``body`` over the suite it ``extends`` (a built-in name or a path): its keys win whole.

    The base's ``name`` is not inherited (the file's stem is the default name), and its ``data``
    is resolved against the base's own directory.
    """
    if "extends" not in body:
        return body
    import yaml

    from mathif_pytest.builtin_suites import resolve_suite

    try:
        base_path = resolve_suite(body["extends"], base=path.parent)
    except MathIFError as exc:
        raise SuiteError(f"{path}: extends: {exc}") from None
    if base_path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, base_path))
        raise SuiteError(f"{chain[0]}: extends itself ({cycle}); remove one of the extends: keys")
    try:
        document = yaml.safe_load(base_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SuiteError(f"{path}: extends {base_path}, which cannot be read ({exc})") from None
    base = _extended(base_path, _body(base_path, document), (*chain, base_path))
    inherited = {k: v for k, v in base.items() if k != "name"}
    if "data" in inherited:
        inherited["data"] = _data_location(base_path, inherited["data"])
    return {**inherited, **{k: v for k, v in body.items() if k != "extends"}}


def _data_location(path: Path, data: str | None) -> str | None:
    """A suite's ``data``: hub specs and absolute paths as written, others relative to the file."""
    if data and not data.startswith("hf://") and not Path(data).expanduser().is_absolute():
        return str((path.parent / data).resolve())
    return data


def _selection(path: Path, select: Mapping[str, Any]) -> Selection:
    values: dict[str, Any] = {}
    for key in _SELECT_KEYS:
        if key not in select:
            continue
        value = select[key]
        if key in ("stratified", "limit"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SuiteError(f"{path}: select.{key} must be a positive integer (got {value!r})")
            values[key] = value
        else:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                raise SuiteError(f"{path}: select.{key} must be a list of strings (got {value!r})")
            values[key] = tuple(items)
    return Selection(**values)


def _check_keys(path: Path, body: Any, allowed: Mapping[str, Any], where: str) -> None:
    if not isinstance(body, dict):
        raise SuiteError(f"{path}: {where} must be a mapping (got {type(body).__name__})")
    for key, value in body.items():
        if key not in allowed:
            raise SuiteError(
                f"{path}: unknown key {where}.{key}{_hint(str(key), set(allowed))}; "
                f"known: {', '.join(allowed)}"
            )
        kind = allowed[key]
        if kind is not object and not isinstance(value, kind):
            raise SuiteError(f"{path}: {where}.{key} must be a {kind.__name__} (got {value!r})")


def _hint(word: str, choices: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def stratified_subset(samples: Sequence[Sample], size: int) -> list[Sample]:
    """A deterministic subset of ``size`` samples, spread evenly over source × level cells.

    Within each cell, samples are taken greedily by how many constraint types they add that the
    subset does not yet cover (ties: data order), so a subset of 45 covers all 15 types.
    """
    cells: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        cells[(sample.source, sample.level)].append(sample)
    keys = sorted(cells)
    quota = (
        {k: size // len(keys) + (i < size % len(keys)) for i, k in enumerate(keys)} if keys else {}
    )
    covered: set[str] = set()
    chosen: set[str] = set()
    for _ in range(max(quota.values(), default=0)):
        for key in keys:
            if sum(s.uid in chosen for s in cells[key]) >= quota[key]:
                continue
            pool = [s for s in cells[key] if s.uid not in chosen]
            if pool:
                best = max(pool, key=lambda s: (len(set(s.constraint_ids) - covered), -s.row))
                chosen.add(best.uid)
                covered.update(best.constraint_ids)
    return [s for s in samples if s.uid in chosen]
