"""The HTML attachments of one MathIF case: marked response, folded thinking, baseline beside.

The response shows the spans that broke a constraint marked and the thinking folded; a regressed
case shows the baseline's answer beside this run's.

Pure functions (no allure import). Text is escaped; model output never reaches anything but
``html.escape`` and plain string searches.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from mathif_pytest.constraints._base import Verdict
from mathif_pytest.grading import AnswerGrade, Grade, ResponseParts
from mathif_pytest.reporting.folding import fold
from mathif_pytest.results import CaseResult

__all__ = [
    "THINKING_LIMIT",
    "highlight",
    "offending_terms",
    "regression_html",
    "response_html",
]

#: Longer thinking traces keep their first and last ``THINKING_LIMIT // 2`` characters.
THINKING_LIMIT = 4_000
#: Longer answer segments keep their first and last half (an unclosed ``<think>`` makes the
#: whole response the answer segment).
ANSWER_LIMIT = 12_000
_MAX_MARKS = 200
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
#: Where a violation's detail quotes text of the response: which quotes, and whether case matters.
_QUOTES_FROM_RESPONSE = {
    "keywords:frequency": ("first", True),
    "keywords:forbidden_words": ("first", True),
    "change_case:english_lowercase": ("last", False),
    "change_case:english_capital": ("last", False),
    "change_case:capital_word_frequency": ("all", False),
    "startend:end_checker": ("first", False),
    "combination:repeat_prompt": ("first", False),
}
_STYLE = (
    "<style>body{font:13px/1.4 sans-serif;margin:0}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}"
    ".ok{color:#2e7d32}.bad{color:#c62828;font-weight:600}pre{white-space:pre-wrap;"
    "word-break:break-word;margin:4px 0;padding:6px;background:#f8f8f8}mark{background:#fd5}"
    ".side{width:100%;table-layout:fixed}</style>"
)


def offending_terms(verdicts: Sequence[Verdict]) -> list[tuple[str, bool]]:
    """What to mark in a response: (text, ignore case) per violated constraint that names it.

    The comma of ``punctuation:no_comma``; the keyword of ``keywords:frequency`` and
    ``keywords:forbidden_words``; the word that breaks a case constraint; the capital words; the
    ending or start that is not the one asked for. Other constraints (length, sections,
    language…) name no span of the text.
    """
    terms: list[tuple[str, bool]] = []
    for verdict in verdicts:
        if verdict.followed:
            continue
        if verdict.constraint_id == "punctuation:no_comma":
            terms.append((",", False))
            continue
        which, ignore_case = _QUOTES_FROM_RESPONSE.get(verdict.constraint_id, ("", False))
        quoted = [_unquote(m) for m in _QUOTED.finditer(verdict.detail)]
        chosen = {"first": quoted[:1], "last": quoted[-1:], "all": quoted}.get(which, [])
        terms += [(term, ignore_case) for term in chosen if term]
    return list(dict.fromkeys(terms))


def _unquote(match: re.Match[str]) -> str:
    raw = match.group(1) if match.group(1) is not None else match.group(2)
    text = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), raw)
    return text.strip("…").strip()


def highlight(text: str, terms: Sequence[tuple[str, bool]]) -> str:
    """``text`` as HTML with every occurrence of ``terms`` in ``<mark>`` (at most 200)."""
    spans: list[tuple[int, int]] = []
    for term, ignore_case in terms:
        pattern = re.compile(re.escape(term), re.IGNORECASE if ignore_case else 0)
        spans += [m.span() for m in pattern.finditer(text)]
    out, position = [], 0
    for start, end in sorted(spans)[:_MAX_MARKS]:
        if start < position:
            continue
        out += [html.escape(text[position:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        position = end
    return "".join([*out, html.escape(text[position:])])


def response_html(parts: ResponseParts, result: CaseResult, instructions: Sequence[str]) -> str:
    """The ``response`` attachment: verdicts, the grade, the marked answer, the folded thinking."""
    body = [_STYLE]
    if result.constrained:
        body.append(_verdict_table(result.verdicts, instructions))
    body.append(f"<p>{_grade_line(result.grade)}</p>")
    answer, cut = fold(parts.answer, ANSWER_LIMIT)
    shown = f" ({cut:,} characters not shown)" if cut else ""
    body += [
        f"<h4>Answer segment{shown}: what the constraints and the grader read</h4>",
        f"<pre>{highlight(answer, offending_terms(result.verdicts))}</pre>",
        _thinking(parts),
    ]
    return "".join(body)


def regression_html(
    baseline: CaseResult, baseline_answer: str | None, result: CaseResult, answer: str
) -> str:
    """The ``baseline vs this run`` attachment: what changed, then both answers side by side.

    The spans that break this run's constraints are marked in both answers.
    """
    terms = offending_terms(result.verdicts)
    rows = [
        f"<tr><td><code>{html.escape(now.constraint_id)}</code> {_mark(before)}</td>"
        f"<td><code>{html.escape(now.constraint_id)}</code> {_mark(now)}</td></tr>"
        for before, now in zip(baseline.verdicts, result.verdicts, strict=False)
        if before.followed != now.followed
    ]
    if baseline.correct != result.correct:
        rows.append(
            f"<tr><td>{_grade_line(baseline.grade)}</td><td>{_grade_line(result.grade)}</td></tr>"
        )
    if baseline_answer is None:
        before_text = (
            "(the baseline results document holds no response text: it was written by "
            "mathif score or an older mathif-pytest; see docs/results-format.md)"
        )
    else:
        before_text = highlight(fold(baseline_answer, ANSWER_LIMIT)[0], terms)
    now_text = highlight(fold(answer, ANSWER_LIMIT)[0], terms)
    return (
        f"{_STYLE}<table class=side><tr><th>baseline</th><th>this run</th></tr>"
        + "".join(rows)
        + f"<tr><td><pre>{before_text}</pre></td><td><pre>{now_text}</pre></td></tr></table>"
    )


def _mark(verdict: Verdict) -> str:
    css, word = ("ok", "followed") if verdict.followed else ("bad", "violated")
    return f"<span class={css}>{word}</span>: {html.escape(verdict.detail)}"


def _verdict_table(verdicts: Sequence[Verdict], instructions: Sequence[str]) -> str:
    rows = [
        f"<tr><td><code>{html.escape(v.constraint_id)}</code></td><td>{_mark(v)}</td>"
        f"<td>{html.escape(instructions[i] if i < len(instructions) else '')}</td></tr>"
        for i, v in enumerate(verdicts)
    ]
    head = "<tr><th>constraint</th><th>verdict</th><th>instruction</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _grade_line(grade: Grade) -> str:
    css = "ok" if grade.outcome is AnswerGrade.CORRECT else "bad"
    extracted = "(none)" if grade.extracted is None else repr(grade.extracted)
    return (
        f"<span class={css}>answer {grade.outcome.value}</span>: extracted "
        f"{html.escape(extracted)}, reference {html.escape(repr(grade.reference))}"
    )


def _thinking(parts: ResponseParts) -> str:
    if not parts.thinking:
        return "<p>No &lt;think&gt; block.</p>"
    shown, cut = fold(parts.thinking, THINKING_LIMIT)
    size = f"{len(parts.thinking):,} characters" + (
        f"; the middle {cut:,} not shown (the full trace is in the response store)" if cut else ""
    )
    return f"<details><summary>Thinking ({size})</summary><pre>{html.escape(shown)}</pre></details>"
