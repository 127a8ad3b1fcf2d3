"""The paper's analyses on replayed responses whose lengths and verdicts are known, end to end.

A toy data set (two sources, four single-constraint rows each: ``punctuation:no_comma``, answer
7) and a replay file that answers every prompt with and without its constraint. Each response's
thinking is ``L`` one-letter words (``L`` tokens by the tokenizer-free count), a comma in the
answer violates the constraint, and ``\\boxed{7}`` is right. Every expected number below is
worked out by hand from this table:

| uid            | L  | followed | correct with | correct without |
| alpha_single-0 | 10 | yes      | yes          | yes             |
| alpha_single-1 | 20 | yes      | no           | yes             |
| alpha_single-2 | 30 | no       | yes          | yes             |
| alpha_single-3 | 40 | no       | no           | yes             |
| beta_single-0  | 50 | yes      | yes          | no              |
| beta_single-1  | 60 | no       | no           | yes             |
| beta_single-2  | 70 | no       | no           | no              |
| beta_single-3  | 80 | no       | no           | no              |
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TABLE = {
    "alpha_single-0": (10, True, True, True),
    "alpha_single-1": (20, True, False, True),
    "alpha_single-2": (30, False, True, True),
    "alpha_single-3": (40, False, False, True),
    "beta_single-0": (50, True, True, False),
    "beta_single-1": (60, False, False, True),
    "beta_single-2": (70, False, False, False),
    "beta_single-3": (80, False, False, False),
}
NO_COMMA = "In your entire response, refrain from the use of any commas."


def _row(source: str, index: int) -> dict[str, Any]:
    return {
        "source": source,
        "id": f"{source}-{index}",
        "question": f"Ask {source}: what is {index} plus 7 minus {index}?",
        "answer": "7",
        "constraint_desc": [NO_COMMA],
        "constraint_name": ["punctuation:no_comma"],
        "constraint_args": [None],
    }


def _response(length: int, followed: bool, correct: bool) -> str:
    answer = "\\boxed{7}" if correct else "\\boxed{8}"
    tail = f"The answer is {answer}." if followed else f"So, the answer is {answer}."
    return "<think>" + "w " * length + "</think>" + tail


@pytest.fixture
def toy(pytester: pytest.Pytester) -> Path:
    """The data, the ``constraints: both`` suite and the replay file; returns the replay file."""
    data = pytester.path / "data"
    data.mkdir()
    for source in ("alpha", "beta"):
        lines = [json.dumps(_row(source, i)) for i in range(4)]
        (data / f"{source}_single.jsonl").write_text("\n".join(lines) + "\n")
    pytester.makefile(
        ".yaml",
        both=f"mathif:\n  data: {data}\n  constraints: both\n  gate:\n"
        "    - constraint_cost.correctness<=0.10\n    - constraint_cost[beta]<=0.10\n"
        "    - hard_accuracy>=0.30\n",
    )
    replay = pytester.path / "responses.jsonl"
    with replay.open("w") as handle:
        for uid, (length, followed, with_, without) in TABLE.items():
            lines = [
                {"uid": uid, "constrained": True, "response": _response(length, followed, with_)},
                {"uid": uid, "constrained": False, "response": _response(length, True, without)},
            ]
            handle.writelines(json.dumps(line) + "\n" for line in lines)
    return replay


def _run(pytester: pytest.Pytester, replay: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "both.yaml", "--model", str(replay), f"--mathif-store={pytester.path / 's.sqlite'}", *args
    )


def test_both_variants_are_two_readable_items_per_sample(
    pytester: pytest.Pytester, toy: Path
) -> None:
    result = _run(pytester, toy, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "both.yaml::alpha_single-0[[]with_constraints[]]",
            "both.yaml::alpha_single-0[[]without_constraints[]]",
        ]
    )
    assert "16 tests collected" in result.stdout.str()


def test_both_variants_are_generated_in_one_backend_call(
    pytester: pytest.Pytester, toy: Path
) -> None:
    pytester.makeconftest(
        """
import json
from pathlib import Path

def pytest_mathif_make_backend(config, backend_config):
    from mathif_pytest.backends.resolve import make_backend
    inner = make_backend(backend_config)

    class Logged:
        name = inner.name
        def describe(self):
            return inner.describe()
        def generate(self, requests):
            log = Path(__file__).parent / "calls.jsonl"
            with log.open("a") as handle:
                handle.write(json.dumps([[r.uid, r.constrained] for r in requests]) + "\\n")
            yield from inner.generate(requests)
        def close(self):
            inner.close()
    return Logged()
"""
    )
    _run(pytester, toy, "-k", "alpha_single-1", "--mathif-gate=correctness>=0")
    calls = [json.loads(line) for line in (pytester.path / "calls.jsonl").read_text().splitlines()]
    assert calls == [[["alpha_single-1", True], ["alpha_single-1", False]]]


@pytest.fixture
def document(pytester: pytest.Pytester, toy: Path) -> dict[str, Any]:
    out = pytester.path / "results.json"
    result = _run(pytester, toy, f"--mathif-results={out}")
    # passed: followed and right with constraints (alpha-0, beta-0), right without (5)
    result.assert_outcomes(passed=7, failed=9)
    return dict(json.loads(out.read_text()))


def test_the_constraint_cost_matches_the_hand_computed_pairs(document: dict[str, Any]) -> None:
    cost = document["suites"]["both"]["constraint_cost"]
    overall = cost["overall"]
    # 5 of 8 right without, 3 of 8 with; discordant: 3 worse (alpha-1, alpha-3, beta-1), 1 better.
    assert overall["prompts"] == 8 and cost["unpaired"] == 0
    assert overall["without_constraints"] == 0.625 and overall["with_constraints"] == 0.375
    assert overall["drop"] == 0.25
    assert overall["relative_drop"] == pytest.approx(0.4)
    assert overall["paper_diff_percent"] == pytest.approx(-40.0)
    assert (overall["worse"], overall["better"]) == (3, 1)
    # McNemar: 2 * P(X <= 1), X ~ Bin(4, 1/2) = 2 * 5/16.
    assert overall["p_value"] == 0.625
    # Newcombe method 10, a=2 b=3 c=1 d=2 n=8: Wilson 5/8 = [0.305742, 0.863156], 3/8 =
    # [0.136844, 0.694258]; phi = (2*2 - 3*1) / sqrt(5*3*3*5) = 1/15;
    # low = 0.25 - sqrt(0.319258**2 - 2/15 * 0.319258 * 0.319258 + 0.319258**2) = -0.186189
    # high = 0.25 + sqrt(0.238156**2 - 2/15 * 0.238156 * 0.238156 + 0.238156**2) = 0.575383
    assert overall["interval"] == "newcombe"
    assert overall["ci_low"] == pytest.approx(-0.186189, abs=1e-6)
    assert overall["ci_high"] == pytest.approx(0.575383, abs=1e-6)
    alpha, beta = cost["by_source"]["alpha"], cost["by_source"]["beta"]
    assert (alpha["without_constraints"], alpha["with_constraints"], alpha["drop"]) == (1, 0.5, 0.5)
    assert alpha["p_value"] == 0.5  # 2 worse, 0 better: 2 * (1/2)**2
    assert (beta["drop"], beta["worse"], beta["better"], beta["p_value"]) == (0, 1, 1, 1.0)
    assert list(cost["by_level"]) == ["single"]


def test_the_suite_headline_is_over_the_constrained_prompts(document: dict[str, Any]) -> None:
    summary = document["suites"]["both"]["summary"]
    assert summary["prompts"] == 8
    assert summary["hard_accuracy"]["successes"] == 3  # alpha-0, alpha-1, beta-0
    assert summary["correctness"]["successes"] == 3  # with constraints: alpha-0, alpha-2, beta-0


def test_length_bins_and_the_rank_correlation_match_the_hand_computed_values(
    document: dict[str, Any],
) -> None:
    by_length = document["suites"]["both"]["summary"]["by_length"]
    # Lengths 10..80: the k/6 quantiles are 10 + 10 * 7k/6.
    assert by_length["edges"] == pytest.approx(
        [10, 21.6667, 33.3333, 45, 56.6667, 68.3333, 80], abs=1e-4
    )
    bins = by_length["bins"]
    assert [b["n"] for b in bins] == [2, 1, 1, 1, 1, 2]
    assert [b["hard_accuracy"]["value"] for b in bins] == [1, 0, 0, 1, 0, 0]
    assert [b["correctness"]["value"] for b in bins] == [0.5, 1, 0, 1, 0, 0]
    # Ranks of length 1..8 against hard (1,1,0,0,1,0,0,0 -> ranks 7,7,3,3,7,3,3,3):
    # sum of products -22, sums of squares 42 and 30: rho = -22 / sqrt(1260).
    hard = by_length["spearman"]["hard"]
    assert hard["rho"] == pytest.approx(-0.619780, abs=1e-6) and hard["n"] == 8
    # Fisher z with the Bonett-Wright error sqrt((1 + rho**2 / 2) / 5).
    assert (hard["ci_low"], hard["ci_high"]) == pytest.approx((-0.933075, 0.228261), abs=1e-6)
    assert by_length["length_sources"] == {"approximate": 8}


def test_each_case_records_its_token_counts_and_their_source(document: dict[str, Any]) -> None:
    cases = {(c["uid"], c["constrained"]): c for c in document["cases"]}
    case = cases[("beta_single-2", True)]
    # "So, the answer is \\boxed{8}." -> So , the answer is \\ boxed { 8 } . = 11 pieces
    assert (case["thinking_tokens"], case["answer_tokens"], case["length_source"]) == (
        70,
        11,
        "approximate",
    )


def test_error_sets_match_the_hand_computed_cells(document: dict[str, Any]) -> None:
    sets = document["suites"]["both"]["summary"]["error_sets"]
    cells = ("followed_correct", "followed_wrong", "violated_correct", "violated_wrong")
    assert [sets[c] for c in cells] == [2, 1, 1, 4]
    assert sets["p_correct_given_followed"]["value"] == pytest.approx(2 / 3)
    assert sets["p_correct_given_violated"]["value"] == pytest.approx(1 / 5)
    # Wilson 2/3 and 1/5 (z = 1.959964)
    assert sets["p_correct_given_followed"]["ci_low"] == pytest.approx(0.207660, abs=1e-6)
    assert sets["p_correct_given_violated"]["ci_high"] == pytest.approx(0.624465, abs=1e-6)
    assert [sets["by_source"]["alpha"][c] for c in cells] == [1, 1, 1, 1]
    assert [sets["by_source"]["beta"][c] for c in cells] == [1, 0, 0, 3]


def test_the_gate_judges_the_constraint_cost(pytester: pytest.Pytester, toy: Path) -> None:
    result = _run(pytester, toy)
    result.stdout.fnmatch_lines(
        [
            "*constraint cost (8 prompts asked both ways): correctness 62.50% without -> 37.50% "
            "with*",
            "*drop +25.00 pts [[]-18.62, +57.54[]] (paper's Diff -40.00%), exact paired p=0.625*",
            "*error sets (8 responses): followed+correct 2, followed+wrong 1*",
            "*constraint_cost.correctness*<= +10.00 pts*observed +25.00 pts*FAIL",
            "*constraint_cost.correctness[[]beta[]]*",
            "*<= +10.00 pts*observed +0.00 pts*PASS",
            "*hard_accuracy*>= 30.00%*observed 37.50%*PASS",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_constraint_cost_gate_without_both_variants_is_a_usage_error(
    pytester: pytest.Pytester, toy: Path
) -> None:
    (pytester.path / "both.yaml").write_text(
        (pytester.path / "both.yaml").read_text().replace("constraints: both", "constraints: true")
    )
    result = _run(pytester, toy)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*constraint_cost.correctness*set `constraints: both`*"])


def test_the_allure_results_carry_a_chart_per_analysis(
    pytester: pytest.Pytester, toy: Path
) -> None:
    pytest.importorskip("allure_pytest")
    results = pytester.path / "allure-results"
    _run(pytester, toy, f"--alluredir={results}")
    found = [json.loads(p.read_text()) for p in results.glob("*-globals.json")]
    charts = {a["name"]: a for g in found for a in g["attachments"] if a["type"] == "image/png"}
    for name in ("obedience vs thinking length", "error sets", "constraint cost"):
        assert (results / charts[name]["source"]).read_bytes()[:4] == b"\x89PNG"
