"""The safe parser builds what sympy's parse_expr would, and refuses what it cannot mimic."""

from __future__ import annotations

import pytest
import sympy

from mathif_pytest.grading._expr import Mode, Unparseable, parse
from mathif_pytest.grading._pyeval import evaluate
from mathif_pytest.grading._symbolic import build

x, y, e, i = sympy.symbols("x y e i")
PRM, STANDARD, SYMPIFY = Mode.PRM, Mode.STANDARD, Mode.SYMPIFY
# (text, mode, what parse_expr gives; None when it raises). Checked against sympy 1.13.
CASES = [
    ("2sqrt(113)", PRM, 2 * sympy.sqrt(113)),
    ("(1/4)-(0.25)", PRM, sympy.Integer(0)),
    ("x(2)", PRM, 2 * x),
    ("xy^2", PRM, x * y**2),
    ("3/xy", PRM, 3 * y / x),
    ("ee", PRM, e**2),
    ("033", PRM, sympy.Integer(0)),
    ("ln2", PRM, 2 * sympy.Symbol("l") * sympy.Symbol("n")),
    ("x_1", PRM, sympy.Symbol("x_1")),
    ("xi", PRM, sympy.Symbol("xi")),
    ("pi(2)", PRM, 2 * sympy.pi),
    ("sqrt 2x", PRM, sympy.sqrt(2 * x)),
    ("-x^2", PRM, -(x**2)),
    ("3!", PRM, sympy.Integer(6)),
    ("1 ±2", PRM, None),
    ("(1,2)", PRM, None),
    ("x=5", PRM, None),
    ("2^3", STANDARD, sympy.Integer(1)),
    ("x^2", STANDARD, None),
    ("2x", STANDARD, None),
    ("033", STANDARD, None),
    ("x(2)", STANDARD, sympy.Function("x")(2)),
    ("E", STANDARD, sympy.E),
    ("I", STANDARD, sympy.I),
    ("e", STANDARD, e),
    ("abs(-2)", STANDARD, sympy.Integer(2)),
    ("max(1, 2)", STANDARD, sympy.Integer(2)),
    ("log(8, 2)", STANDARD, sympy.Integer(3)),
    ("5 or 6", STANDARD, sympy.Integer(5)),
    ("0 or 6", STANDARD, sympy.Integer(6)),
    ("3j", STANDARD, 3 * sympy.I),
    ("7 % 3", STANDARD, sympy.Integer(1)),
    ("\\frac{1}{2}", STANDARD, None),
    ("2^3", SYMPIFY, sympy.Integer(8)),
    ("0.5", SYMPIFY, sympy.Rational(1, 2)),
    ("sqrt(2)^2", SYMPIFY, sympy.Integer(2)),
]
IDS = [
    "prm-implicit-function", "prm-float-rational", "prm-call-is-product", "prm-split-before-power",
    "prm-split-before-division", "prm-split-e", "prm-leading-zero-tokens", "prm-split-digits",
    "prm-underscore-kept", "prm-greek-kept", "prm-constant-times-group", "prm-implicit-application",
    "prm-unary-minus-power", "prm-factorial", "prm-stray-character", "prm-tuple", "prm-equation",
    "std-caret-is-xor", "std-xor-on-symbol-raises", "std-no-implicit-product",
    "std-leading-zero-raises", "std-undefined-function", "std-euler", "std-imaginary",
    "std-e-is-a-symbol", "std-builtin-abs", "std-builtin-max", "std-log-base", "std-or-first",
    "std-or-second", "std-imaginary-literal", "std-modulo", "std-latex-raises",
    "sympify-caret-is-power", "sympify-decimal-exact", "sympify-power-of-root",
]  # fmt: skip


@pytest.mark.parametrize(("text", "mode", "expected"), CASES, ids=IDS)
def test_parser_builds_what_parse_expr_builds(
    text: str, mode: Mode, expected: sympy.Basic | None
) -> None:
    if expected is None:
        with pytest.raises(Unparseable):
            build(parse(text, mode))
    else:
        assert build(parse(text if mode is not PRM else text.lower(), mode)) == expected


@pytest.mark.parametrize(
    "text",
    ["N(2)", "Matrix([[1]])", "Interval(0, 1)", "__import__('os')", "().__class__", "eval('1')"],
    ids=["N-function", "matrix", "interval", "dunder-import", "attribute", "builtin-eval"],
)
def test_parser_refuses_names_and_syntax_outside_its_whitelist(text: str) -> None:
    # parse_expr would evaluate these (N(2) is 2.0); the grader treats them as unparseable.
    with pytest.raises(Unparseable):
        parse(text, STANDARD)


@pytest.mark.parametrize(
    "text",
    ["9**9**9**9", "10**10**10", "factorial(10**6)", "(" * 500 + "1" + ")" * 500, "1e999999999"],
    ids=["tower", "power-of-power", "huge-factorial", "deep-nesting", "huge-exponent"],
)
def test_parser_refuses_resource_bombs_quickly(text: str) -> None:
    with pytest.raises(Unparseable):
        build(parse(text, STANDARD) if "e9" not in text else parse(f"{text}**2", SYMPIFY))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2*3.14", 6.28),
        ("1*3.141592653589793/2", 1.5707963267948966),
        ("(1*3.14, 2)", (3.14, 2)),
        ("2 ^ 3", 1),
        ("\\frac{1*3.14}{2}", None),
        ("1*3.14^2", None),
        ("1/0", None),
        ("9**9**9", None),
        ("__import__('os').system('true')", None),
        ("exec('1')", None),
    ],
    ids=["product", "quotient", "tuple", "int-xor", "latex", "float-xor", "zero-division",
         "power-tower", "import", "exec"],
)  # fmt: skip
def test_pi_evaluator_matches_eval_on_arithmetic_and_refuses_the_rest(
    text: str, expected: object
) -> None:
    assert evaluate(text) == expected
