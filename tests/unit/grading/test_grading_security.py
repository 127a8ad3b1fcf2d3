"""Model output is untrusted: no path of the grader may execute it."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import mathif_pytest.grading
from mathif_pytest.grading import Grader

TOUCH = "__import__('os').system('touch PWNED')"
#: Without underscores: the official base-subscript handling stops the payload above before its
#: ``eval`` of answers with pi; this one gets through there (checked against the official code).
EXEC = """exec('import os; os.system("touch PWNED")')"""
PMATRIX = "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"
# (reference, answer segment): each reaches an official eval()/parse_expr() path.
PAYLOADS = [
    ("5", f"\\boxed{{{TOUCH}}}"),
    ("\\pi", f"\\boxed{{{TOUCH}*\\pi}}"),
    ("5", f"\\boxed{{\\pi + {TOUCH}}}"),
    ("5", f"\\boxed{{({TOUCH}, \\pi)}}"),
    (PMATRIX, f"\\boxed{{[{TOUCH}, 2]}}"),
    (PMATRIX, f"\\boxed{{Matrix([[{TOUCH}], [2]])}}"),
    ("[0, 1]", f"\\boxed{{Interval({TOUCH}, 1)}}"),
    ("(1, 2)", f"\\boxed{{Point({TOUCH}, 2)}}"),
    ("5", f"\\boxed{{{TOUCH}^2}}"),
    ("5", f"The answer is {TOUCH}"),
    ("5", "\\boxed{(lambda: __import__('os').system('touch PWNED'))()}"),
    ("5", "\\boxed{().__class__.__base__.__subclasses__()}"),
    ("5", "\\boxed{exec(\"open('PWNED', 'w')\")}"),
    ("5", "\\boxed{eval(\"__import__('os').system('touch PWNED')\")}"),
    ("5", "\\boxed{open('PWNED', 'w')}"),
    (TOUCH, "\\boxed{5}"),
    ("\\pi", f"\\boxed{{{EXEC}*\\pi}}"),
    (PMATRIX, f"\\boxed{{[{EXEC}, 2]}}"),
    ("5", f"\\boxed{{{EXEC}}}"),
]
IDS = [
    "boxed-call", "pi-eval", "pi-eval-sum", "pi-eval-tuple", "pmatrix-list-eval",
    "pmatrix-matrix-parse", "interval", "point", "sympify-fallback", "unboxed", "lambda",
    "dunder-walk", "exec", "eval", "open", "in-reference", "pi-eval-exec", "pmatrix-list-exec",
    "exec-plain",
]  # fmt: skip


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Grader]]]:
    """An empty working directory, and graders whose workers were started inside it."""
    directory = tmp_path_factory.mktemp("sandbox")
    previous = Path.cwd()
    os.chdir(directory)
    graders = {
        "fast-path": Grader(cache=False),
        "worker-only": Grader(cache=False, fast_path=False),
    }
    try:
        yield directory, graders
    finally:
        for grader in graders.values():
            grader.close()
        os.chdir(previous)


@pytest.mark.parametrize("path", ["fast-path", "worker-only"])
@pytest.mark.parametrize(("reference", "text"), PAYLOADS, ids=IDS)
def test_grading_never_executes_model_output(
    sandbox: tuple[Path, dict[str, Grader]], path: str, reference: str, text: str
) -> None:
    directory, graders = sandbox
    grade = graders[path].grade(reference, text)
    assert not (directory / "PWNED").exists()
    assert grade.outcome.value in ("incorrect", "ungradable")


EVALUATING = {"eval", "exec", "compile", "sympify", "parse_expr", "parse_latex", "__import__"}


def _called_names(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            names.append(node.func.id)
        elif isinstance(node.func, ast.Attribute) and not (
            isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
        ):
            names.append(node.func.attr)
    return names


def test_grading_package_calls_no_evaluating_function() -> None:
    package = Path(mathif_pytest.grading.__file__).parent
    called = {name for path in package.glob("*.py") for name in _called_names(path)}
    assert not called & EVALUATING
    # sympy.N(value) is only ever called on objects the safe parser built, never on text.
    assert "N" in _called_names(package / "_symbolic.py")
