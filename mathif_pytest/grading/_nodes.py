"""The expression tree the safe parser builds: numbers, symbols, calls and operations."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Bin", "Bool", "Call", "Const", "Dec", "Either", "Fact", "Int", "Neg", "Node", "Sym", "Undef",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Int:
    """An integer literal: ``Integer(value)``."""

    value: int


@dataclass(frozen=True, slots=True)
class Dec:
    """A decimal literal: ``Float(text)``, or ``Rational(text)`` when ``exact``."""

    text: str
    exact: bool


@dataclass(frozen=True, slots=True)
class Sym:
    """A symbol: ``Symbol(name)``."""

    name: str


@dataclass(frozen=True, slots=True)
class Const:
    """A sympy constant: ``pi``, ``E``, ``I``, ``oo``, ``zoo`` or ``nan``."""

    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """A whitelisted sympy function applied to arguments."""

    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Undef:
    """An undefined function ``f(x)`` (``Function('f')(x)``)."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Bin:
    """A binary operation: ``+ - * / ** % //``, or ``^`` (Python's XOR of integers)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Fact:
    """``n!``, or ``n!!`` (the double factorial) when ``double``."""

    operand: Node
    double: bool = False


@dataclass(frozen=True, slots=True)
class Either:
    """Python's ``left or right`` / ``left and right`` on the two values (truthiness decides)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Bool:
    """A bare ``True`` or ``False``: the whole expression (anywhere else it is unsupported)."""

    value: bool


Node = Int | Dec | Sym | Const | Call | Undef | Bin | Neg | Fact | Either | Bool
