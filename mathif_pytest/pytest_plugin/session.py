"""A pytest session's MathIF state, kept free of pytest: data, suites, generation and scoring."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif_pytest.backends import Backend, BackendConfig, Generation, SamplingSettings
from mathif_pytest.backends._sampling import model_sampling
from mathif_pytest.backends.fingerprint import model_fingerprint
from mathif_pytest.backends.resolve import resolve_backend_name
from mathif_pytest.case import CaseSpec, MathIFCase
from mathif_pytest.dataset import Dataset, load_dataset
from mathif_pytest.errors import BackendError, MathIFError
from mathif_pytest.interventions import Intervention
from mathif_pytest.prompts import build_prompt
from mathif_pytest.protocol import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    Deviations,
)
from mathif_pytest.pytest_plugin.generation import (
    GenerationPlan,
    GenerationProgress,
    GenerationReport,
    generate_missing,
    plan_requests,
    response_key,
)
from mathif_pytest.pytest_plugin.options import DEFAULT_DATA, Settings
from mathif_pytest.results import CaseResult
from mathif_pytest.scoring import (
    ScoringConfig,
    ScoringItem,
    ScoringPool,
    score_items,
    split_items,
)
from mathif_pytest.suite import SAMPLING_KEYS, Suite
from mathif_pytest.token_counts import TokenCounts

__all__ = ["Generated", "MathIFSession", "RunSettings"]

#: Where each backend's token counts come from (the replay backend has none: estimated).
_LENGTH_SOURCES = {"vllm": "tokenizer", "transformers": "tokenizer", "openai": "server"}
_DEFAULTS: dict[str, Any] = {
    "temperature": DEFAULT_TEMPERATURE,
    "top_p": DEFAULT_TOP_P,
    "max_tokens": DEFAULT_MAX_TOKENS,
    "samples": 1,
    "seed": 0,
    "top_k": 0,
    "min_p": 0.0,
    "repetition_penalty": 1.0,
    "stop": (),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """The sampling and backend settings of the whole session (one model answers every suite).

    ``intervention``: what is done to every response's thinking (None: nothing).
    """

    backend: BackendConfig
    samples: int
    intervention: Intervention | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Generated:
    """The session's generations plus the plan that keyed them."""

    plan: GenerationPlan
    report: GenerationReport
    samples: int


@dataclass(slots=True)
class MathIFSession:
    """Per-process state: settings, datasets, suites, graders. Lives in ``config.stash``."""

    settings: Settings
    rootdir: Path
    suites: dict[str, Suite] = field(default_factory=dict)
    _datasets: dict[tuple[str, Deviations], Dataset] = field(default_factory=dict)
    _pool: ScoringPool | None = None
    _specs: list[CaseSpec] = field(default_factory=list)
    _cases: dict[tuple[str, str, bool], MathIFCase] = field(default_factory=dict)
    _baseline_cases: dict[str, list[CaseResult]] | None = None

    def data_location(self, suite: Suite) -> str:
        """Command line, then the suite, then the ini key, then the hub."""
        return self.settings.data or suite.data or self.settings.data_ini or DEFAULT_DATA

    def dataset(self, location: str, deviations: Deviations) -> Dataset:
        """Load (once per location and deviations) and return a dataset."""
        key = (location, deviations)
        if key not in self._datasets:
            self._datasets[key] = load_dataset(location, deviations=deviations)
        return self._datasets[key]

    def data_sources(self) -> list[dict[str, str]]:
        """Where the loaded data came from: ``{"location", "revision"}`` per dataset."""
        seen = {(d.location, d.revision) for d in self._datasets.values()}
        return [{"location": loc, "revision": rev} for loc, rev in sorted(seen)]

    def deviations(self, suite: Suite) -> Deviations:
        """The suite's deviations plus the command line's."""
        names = set(suite.deviations.enabled()) | set(self.settings.deviations)
        return Deviations.from_names(sorted(names))

    def run_settings(self, specs: Sequence[CaseSpec]) -> RunSettings:
        """Resolve sampling: command line > suites (which must agree) > checkpoint > defaults.

        The checkpoint's ``generation_config.json`` counts only when asked for
        (``--mathif-engine-arg generation_config=model``).

        Raises:
            MathIFError: no model was given, two suites ask for different sampling, or the
                checkpoint's generation config was asked for and cannot be read.
        """
        if not self.settings.model:
            raise MathIFError("no model to evaluate; pass --model PATH_OR_URL")
        values = dict(_DEFAULTS)
        if self.settings.engine_args.get("generation_config") == "model":
            values.update(model_sampling(self.settings.model, dict(self.settings.engine_args)))
        values.update(self._suite_sampling({s.suite for s in specs}))
        values.update(self.settings.sampling_overrides())
        sampling = SamplingSettings(
            temperature=float(values["temperature"]),
            top_p=float(values["top_p"]),
            max_tokens=int(values["max_tokens"]),
            seed=None if values["seed"] is None else int(values["seed"]),
            top_k=int(values["top_k"]),
            min_p=float(values["min_p"]),
            repetition_penalty=float(values["repetition_penalty"]),
            stop=_stop_strings(values["stop"]),
        )
        config = BackendConfig(
            name=self.settings.backend or "auto",
            model=self.settings.model,
            sampling=sampling,
            options=dict(self.settings.engine_args),
        )
        name = resolve_backend_name(config)
        backend = BackendConfig(
            name=name, model=config.model, sampling=sampling, options=config.options
        )
        intervention = self._intervention(specs, name)
        return RunSettings(
            backend=backend, samples=int(values["samples"]), intervention=intervention
        )

    def _intervention(self, specs: Sequence[CaseSpec], backend: str) -> Intervention | None:
        """The command line's intervention, else the suites' (which must agree), checked.

        Raises:
            MathIFError: suites disagree, ``repeat_constraints`` meets prompts without
                constraints, or the replay backend would have to run one.
        """
        chosen = self.settings.intervention
        if chosen is None:
            found = {self.suites[s.suite].intervention for s in specs}
            if len(found) > 1:
                listed = ", ".join(sorted("none" if i is None else i.label for i in found))
                raise MathIFError(
                    f"the selected suites ask for different interventions ({listed}); one model "
                    "run has one: run them separately, or set --mathif-intervention"
                )
            chosen = found.pop() if found else None
        if chosen is None:
            return None
        if chosen.needs_constraints and any(not s.constrained for s in specs):
            raise MathIFError(
                f"intervention {chosen.label} repeats the constraints, but some selected prompts "
                "carry none (constraints: false or both, or --mathif-no-constraints)"
            )
        if backend == "replay" and not self.settings.rescore:
            raise MathIFError(
                f"intervention {chosen.label} continues the model's own text in stages; the "
                "replay backend only reads a file: use vllm, transformers or openai (or "
                "--mathif-rescore to score stored intervention responses)"
            )
        return chosen

    def _suite_sampling(self, names: set[str]) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        owner: dict[str, str] = {}
        for name in sorted(names):
            for key, value in self.suites[name].sampling.items():
                if key in chosen and chosen[key] != value and key not in self._cli_sampling():
                    raise MathIFError(
                        f"suites {owner[key]!r} and {name!r} set different sampling.{key} "
                        f"({chosen[key]!r} vs {value!r}); run them separately or set "
                        f"--mathif-{key.replace('_', '-')}"
                    )
                chosen[key], owner[key] = value, name
        return {k: v for k, v in chosen.items() if k in SAMPLING_KEYS}

    def _cli_sampling(self) -> set[str]:
        return set(self.settings.sampling_overrides())

    def plan(self, specs: Sequence[CaseSpec]) -> tuple[RunSettings, GenerationPlan]:
        """The run's settings and every request the selected cases need, keyed for the store.

        Raises:
            MathIFError: bad settings, or the model cannot be fingerprinted.
        """
        run = self.run_settings(specs)
        plan = GenerationPlan(
            backend=run.backend.name,
            model=run.backend.model,
            fingerprint=model_fingerprint(run.backend),
            sampling=run.backend.sampling,
            requests=(),
            intervention=run.intervention,
        )
        targets = [(s.sample, s.constrained) for s in specs]
        return run, plan_requests(targets, samples=run.samples, plan=plan)

    def generate(
        self,
        specs: Sequence[CaseSpec],
        make_backend: Callable[[BackendConfig], Backend],
        failure_note: Path | None = None,
        progress: GenerationProgress | None = None,
    ) -> Generated:
        """Generate (or reuse) every response the selected cases need, in one backend call.

        Args:
            specs: every selected case of the session.
            make_backend: builds the backend (the ``pytest_mathif_make_backend`` hook).
            failure_note: a file shared by xdist workers; a generation failure is written there
                so that the other workers fail at once instead of starting a second engine.
            progress: told about each response as it finishes.

        Raises:
            MathIFError: bad settings, an unavailable backend, or a failed generation.
        """
        if failure_note is not None and failure_note.exists():
            raise BackendError(failure_note.read_text(encoding="utf-8"))
        self._specs = list(specs)
        self._scoring_pool().start()  # workers load while the backend generates
        run, plan = self.plan(specs)
        try:
            report = generate_missing(
                plan,
                self.settings.store,
                lambda: make_backend(run.backend),
                allow_generation=not self.settings.rescore,
                progress=progress,
            )
        except MathIFError as exc:
            if failure_note is not None:
                failure_note.write_text(str(exc), encoding="utf-8")
            raise
        return Generated(plan=plan, report=report, samples=run.samples)

    def score(self, spec: CaseSpec, generated: Generated) -> MathIFCase:
        """One case's responses, scored (constraints and answers).

        The first call scores every selected case of the session in one batch on the scoring
        workers (all cores); later calls look their case up.

        Raises:
            MathIFError: a response of this case is missing (its generation failed).
        """
        key = _case_key(spec)
        if key not in self._cases:
            batch = [s for s in self._specs if _case_key(s) not in self._cases]
            self._cases.update(self._score_batch(batch or [spec], generated))
        if key not in self._cases:  # its responses are missing: say why
            self._case_inputs(spec, generated)
            self._cases.update(self._score_batch([spec], generated))
        return self._cases[key]

    def _case_inputs(
        self, spec: CaseSpec, generated: Generated
    ) -> tuple[str, list[ScoringItem], ScoringConfig]:
        prompt = build_prompt(spec.sample, with_constraints=spec.constrained)
        generations = self._responses(spec, prompt, generated)
        config = ScoringConfig(
            deviations=self.deviations(self.suites[spec.suite]),
            constrained=spec.constrained,
            grading_timeout=self.settings.grading_timeout,
        )
        default_source = _LENGTH_SOURCES.get(generated.plan.backend, "backend")
        items = [
            ScoringItem(
                sample=spec.sample,
                index=i,
                text=g.text,
                finish_reason=g.finish_reason,
                thinking_prefilled=g.thinking_prefilled,
                token_counts=TokenCounts(
                    thinking=g.thinking_tokens,
                    completion=g.completion_tokens,
                    source=str(g.extra.get("counted_by", default_source)),
                ),
                intervention=g.extra.get("intervention"),
            )
            for i, g in enumerate(generations)
        ]
        return prompt, items, config

    def _score_batch(
        self, specs: Sequence[CaseSpec], generated: Generated
    ) -> dict[tuple[str, str, bool], MathIFCase]:
        """Score cases together, one pool call per scoring configuration; skip incomplete ones."""
        inputs: dict[tuple[str, str, bool], tuple[str, list[ScoringItem], ScoringConfig]] = {}
        for spec in specs:
            try:
                inputs[_case_key(spec)] = self._case_inputs(spec, generated)
            except MathIFError:
                continue  # raised again when this case is looked up
        by_config: dict[ScoringConfig, list[tuple[str, str, bool]]] = {}
        for key, (_, _, config) in inputs.items():
            by_config.setdefault(config, []).append(key)
        cases: dict[tuple[str, str, bool], MathIFCase] = {}
        specs_by_key = {_case_key(s): s for s in specs}
        for config, keys in by_config.items():
            items = [item for key in keys for item in inputs[key][1]]
            parts = split_items(items, config)
            results = iter(score_items(items, config, pool=self._scoring_pool(), parts=parts))
            split = iter(parts)
            for key in keys:
                prompt, own, _ = inputs[key]
                cases[key] = MathIFCase(
                    spec=specs_by_key[key],
                    prompt=prompt,
                    responses=tuple(item.text for item in own),
                    parts=tuple(next(split) for _ in own),
                    results=tuple(next(results) for _ in own),
                    baseline=tuple(self._baseline().get(key[1], ())),
                )
        return cases

    def _baseline(self) -> dict[str, list[CaseResult]]:
        """The ``--mathif-baseline`` run's results by uid (read once per process; {} without)."""
        if self._baseline_cases is None:
            self._baseline_cases = {}
            if self.settings.baseline is not None:
                from mathif_pytest.runfile import read_run_file

                for case in read_run_file(self.settings.baseline).cases:
                    self._baseline_cases.setdefault(case.uid, []).append(case)
        return self._baseline_cases

    def _responses(self, spec: CaseSpec, prompt: str, generated: Generated) -> list[Generation]:
        generations: list[Generation] = []
        for index in range(generated.samples):
            key = response_key(generated.plan, prompt, index)
            if key in generated.report.errors:
                raise MathIFError(f"{spec.sample.uid}: {generated.report.errors[key]}")
            generation = generated.report.generations.get(key)
            if generation is None:
                raise MathIFError(f"{spec.sample.uid}: no response was generated (sample {index})")
            generations.append(generation)
        return generations

    def _scoring_pool(self) -> ScoringPool:
        if self._pool is None:
            self._pool = ScoringPool(_scoring_jobs())
        return self._pool

    def close(self) -> None:
        """Shut down the scoring worker processes."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _case_key(spec: CaseSpec) -> tuple[str, str, bool]:
    return (spec.suite, spec.sample.uid, spec.constrained)


def _scoring_jobs() -> int:
    """Every core, shared among the xdist workers of this run (each scores the selection once)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _stop_strings(value: Any) -> tuple[str, ...]:
    """``sampling.stop`` of a suite: one string or a list of strings."""
    items = [value] if isinstance(value, str) else list(value or ())
    if not all(isinstance(item, str) and item for item in items):
        raise MathIFError(f"sampling.stop must be a string or a list of strings (got {value!r})")
    return tuple(items)
