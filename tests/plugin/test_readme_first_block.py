"""The README's first command block runs as written on a fresh clone (issue 14)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAIN_JOB = ".venv/bin/pytest --model examples/responses.jsonl"


def first_block() -> list[str]:
    """The commands of the README's first ```sh block, without comments and blank lines."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert block is not None, "README.md has no ```sh block"
    lines = [line.strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_first_block_is_install_then_the_main_job_then_the_tests() -> None:
    commands = first_block()
    assert commands[0] == ("python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt")
    assert commands[1].startswith(MAIN_JOB)
    assert commands[-1] == ".venv/bin/python -m pytest"


def _fresh_clone(target: Path) -> Path:
    """The files a clone of this checkout would hold (tracked, plus new files not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    clone = target / "repo"
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    (target / "shared").symlink_to(REPO.parent / "shared")
    return clone


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the git checkout to copy")
def test_the_main_job_runs_as_written_on_a_fresh_clone_and_ends_with_the_verdict(
    tmp_path: Path,
) -> None:
    clone = _fresh_clone(tmp_path)
    command = next(line for line in first_block() if line.startswith(MAIN_JOB))
    argv = shlex.split(command)
    argv[0] = str(Path(sys.executable).parent / Path(argv[0]).name)  # this venv's pytest
    done = subprocess.run(argv, cwd=clone, capture_output=True, text=True, timeout=300, check=False)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "suite full: the default" in done.stdout
    assert lines[-1].startswith("mathif: PASSED (exit status 0): the gate passed"), lines[-1]
    assert (clone / "allure-results").is_dir()
