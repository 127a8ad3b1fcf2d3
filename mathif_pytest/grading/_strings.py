r"""Answers that are Python string literals, and the value the official ``eval`` would give them.

A model told to wrap its response in quotation marks often writes its final answer as ``"236"``.
The official grader hands such an answer to ``parse_expr`` (ToRA's ``symbolic_equal``) or to
``eval`` (when it contains ``\pi``), both of which *evaluate* it to the Python string ``'236'``;
``N()`` then sympifies that string, so ``"236"`` is graded equal to ``236``. Here the literal is
recognised with Python's tokenizer and each string token decoded with :func:`ast.literal_eval`
(a literal parser that executes nothing). Recognised: one or more string tokens (implicit
concatenation), ``+`` between them, and parentheses. Byte strings and f-strings are not (the
official ``eval`` would run an f-string's expressions); they stay unparseable, i.e. not equal.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings

__all__ = ["string_literal"]

_PREFIX_LETTERS = frozenset("rRuU")
_IGNORED = frozenset({tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.COMMENT})


def _tokens(text: str) -> list[tokenize.TokenInfo] | None:
    try:
        raw = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return [token for token in raw if token.type not in _IGNORED]


def _plain_string(token: tokenize.TokenInfo) -> bool:
    """A str literal token without the ``b``/``f`` prefixes (``r``/``u`` are fine)."""
    if token.type != tokenize.STRING:
        return False
    prefix = token.string[: len(token.string) - len(token.string.lstrip("rRuUbBfF"))]
    return set(prefix) <= _PREFIX_LETTERS


def _grammar_ok(tokens: list[tokenize.TokenInfo]) -> bool:
    """``expr := atom ('+' atom)*``, ``atom := STRING+ | '(' expr ')'``: strings only."""
    depth, expect_operand, previous_string = 0, True, False
    for token in tokens:
        if _plain_string(token):
            if not (expect_operand or previous_string):
                return False
            expect_operand, previous_string = False, True
            continue
        previous_string = False
        if token.string == "(" and expect_operand:
            depth += 1
        elif token.string == ")" and not expect_operand and depth > 0:
            depth -= 1
        elif token.string == "+" and not expect_operand:
            expect_operand = True
        else:
            return False
    return depth == 0 and not expect_operand


def string_literal(text: str) -> str | None:
    """The string ``text`` evaluates to, if it is a string-literal expression; else ``None``.

    Args:
        text: an extracted answer (leading and trailing whitespace is ignored, as by
            ``parse_expr`` and ``eval``).

    Returns:
        The decoded string (``'236'`` for ``"236"``, ``'2' '36'`` and ``("23" + "6")``), or
        ``None`` when ``text`` is anything else.
    """
    stripped = text.strip()
    if not stripped or stripped[0] not in "\"'(rRuU":
        return None
    tokens = _tokens(stripped)
    if not tokens or not _grammar_ok(tokens):
        return None
    parts = []
    with warnings.catch_warnings():  # an unknown escape warns and keeps its backslash
        warnings.simplefilter("ignore")
        for token in tokens:
            if token.type == tokenize.STRING:
                try:
                    parts.append(ast.literal_eval(token.string))
                except (ValueError, SyntaxError, MemoryError):
                    return None
    return "".join(parts)
