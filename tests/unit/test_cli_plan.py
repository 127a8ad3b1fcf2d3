"""``mathif plan``: each delta row's power by suite size and samples per prompt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _factories import case
from _synthetic_runs import write_runs

from mathif_pytest.cli import main
from mathif_pytest.compare import PowerModel, row_power
from mathif_pytest.compare.plan import PlanOptions, plan_gate
from mathif_pytest.gate import parse_threshold
from mathif_pytest.runfile import build_document, write_json_atomic


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_runs(tmp_path_factory.mktemp("runs"))


def test_plan_prints_each_row_by_prompts_and_samples(
    runs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "plan",
            "--baseline",
            str(runs[0]),
            "--gate",
            "delta.hard_accuracy>=-0.02",
            "--gate",
            "delta.correctness[gsm8k]>=-0.02",
            "--samples",
            "1,2",
            "--prompts",
            "210,420",
            "--discordance",
            "0.2",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "Holm over 2 rows: each row's power at level 0.05/2 = 0.025" in out
    assert "210x1" in out and "420x2" in out and "rerun discordance 0.2 as given" in out
    line = next(x for x in out.splitlines() if x.startswith("delta.hard_accuracy>=-0.02"))
    cells = [float(c) for c in line.split()[3:]]
    assert cells[0] > cells[1] > cells[3] and cells[0] > cells[2] > cells[3]
    # The 420 x 1 cell is the gate's own power statement for that row.
    model = PowerModel(
        metric="hard_accuracy",
        prompts=420,
        samples=1,
        units=((1, 420),),
        mean=184 / 420,
        within=0.1,
    )
    expected = row_power(model, margin=-0.02, level=0.05 / 2).detectable_drop
    assert expected is not None and cells[2] == pytest.approx(100 * expected, abs=0.05)


def test_plan_uses_the_rows_a_pytest_run_recorded(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(runs[0].read_text())
    gate = [{"threshold": "delta.correctness[gsm8k]>=-0.05"}, {"threshold": "hard_accuracy>=0.3"}]
    document["suites"] = {"full": {"gate": gate}}
    path = tmp_path / "recorded.json"
    path.write_text(json.dumps(document))
    assert main(["plan", "--baseline", str(path), "--samples", "1", "--drop", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "each row at level 0.05" in out and "power against a drop of 30.0 pts" in out
    (row,) = [x for x in out.splitlines() if x.startswith("delta.correctness[gsm8k]")]
    assert row.split()[1] == "90" and 0.8 < float(row.split()[-1]) <= 1


def test_a_plan_from_several_samples_recovers_the_true_power(tmp_path: Path) -> None:
    """Baseline: 420 prompts with p ~ Beta(0.4, 0.6), 4 samples each. The plan for 1 sample must
    match the exact power of the true model (rerun discordance 2 E[p (1 - p)] = 0.24)."""
    rng = np.random.default_rng(8)
    p = rng.beta(0.4, 0.6, 420)
    cases = [
        case(f"x-{i}", (bool(rng.random() < p[i]),), sample=s) for i in range(420) for s in range(4)
    ]
    plan = plan_gate(
        cases, [parse_threshold("delta.hard_accuracy>=-0.02")], PlanOptions(samples=(1,))
    )
    (row,) = plan.rows
    planned = row.cells[0][1].detectable_drop
    truth = row_power(
        PowerModel(
            metric="hard_accuracy", prompts=420, samples=1, units=((1, 420),), mean=0.4, within=0.12
        ),
        margin=-0.02,
        level=0.05,
    ).detectable_drop
    assert planned is not None and truth is not None
    assert planned == pytest.approx(truth, abs=0.006)
    assert row.model.assumption == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gate", "hard_accuracy>=0.4"], "no 'no worse than' delta row to plan"),
        (
            ["--gate", "delta.correctness[nope]>=-0.02"],
            "the baseline has no prompts in group 'nope'",
        ),
    ],
    ids=["no-delta-row", "unknown-group"],
)
def test_plan_errors_are_one_line_and_status_2(
    runs: list[Path], args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--baseline", str(runs[0]), *args]) == 2
    assert message in capsys.readouterr().err


def test_plan_refuses_bad_sample_lists(runs: list[Path]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--baseline", str(runs[0]), "--samples", "0,2"])
    assert exited.value.code == 2


def test_a_run_without_constraints_plans_correctness_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    cases = [
        replace(case(f"x-{i}", correct=i % 2 == 0), constrained=False, verdicts=())
        for i in range(40)
    ]
    path = tmp_path / "w.json"
    write_json_atomic(path, build_document(cases, {"tool": "test"}))
    assert main(["plan", "--baseline", str(path), "--samples", "1"]) == 0
    out = capsys.readouterr().out
    assert "delta.correctness>=-0.02" in out and "hard_accuracy" not in out
