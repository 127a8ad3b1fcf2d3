"""Fixtures for pytester runs of the plugin: data location, replay files, a project skeleton."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

# In-process pytester runs drop the modules they imported from sys.modules afterwards; a C
# extension such as numpy cannot be imported twice in one process, so import it up front.
import numpy  # noqa: F401
import pytest

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "mathif"

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


@pytest.fixture
def store_args(pytester: pytest.Pytester) -> list[str]:
    return [f"--mathif-store={pytester.path / 'store.sqlite'}"]
