"""Deterministic, realistic responses built from the MathIF data, shared by the benchmarks.

Three corpora, all seeded:

* :func:`responses`: short filler reasoning and one of a few final-answer shapes (the plugin bench).
* :func:`realistic`: responses shaped by each prompt's constraints (followed or not: lowercase,
  capitals, quotation marks, bullets, sections, highlights, other languages, keywords, end phrases)
  and final answers written every way models write them, including quoted literals.
* :func:`long_answers`: the shapes reasoning models emit (R1-distill, QwQ, Qwen3, s1): several KB of
  thinking, then several KB of answer, where the tokenizer-based checks dominate.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path

from mathif_pytest.dataset import Sample

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "mathif"

_FILLER = (
    "First we read the problem carefully. Let x be the unknown quantity. We set up the equation "
    "from the conditions, simplify both sides, and check the result against the constraints. "
)

_STEPS = (
    "Let $x$ be the number we are looking for, so the condition reads $2x + 3 = 11$.",
    "By the Pythagorean theorem, $AB^2 = AC^2 + BC^2$, so $AB = \\sqrt{9 + 16} = 5$.",
    "We consider the cases separately. If n is EVEN, the sum is divisible by 2; otherwise it "
    "is not.",
    "Substituting back gives $f(2) = 4 - 2 + 1 = 3$, which matches the given value.",
    "Note that the U.S. convention writes 1,000 with a comma; we ignore the units here.",
    "WAIT, that doesn't look right. Let me re-check the arithmetic: 12 * 7 = 84, not 74.",
    "So the total is 84 dollars. Mr. Smith's share is a third of it, i.e. 28 dollars.",
    "Hmm, I think the answer should be an integer. It's the number of ways to choose 2 of 5.",
    "Using the AM-GM inequality, $\\frac{a+b}{2} \\ge \\sqrt{ab}$ with equality iff $a = b$.",
    "The area is $\\frac{1}{2} \\cdot 6 \\cdot 8 = 24$ square units (approx. 24.0).",
    "Therefore the probability is $\\frac{3}{8}$... Let's double-check: 3 of 8 outcomes work.",
    "We're told the ratio is 3:4, and I'd guess that the scale factor is 2.5 (NOT 2).",
)

_FOREIGN = {
    "es": "Primero leemos el problema con cuidado y planteamos la ecuación. La respuesta es",
    "fr": "Nous lisons d'abord le problème et posons l'équation. La réponse est",
    "de": "Zuerst lesen wir die Aufgabe und stellen die Gleichung auf. Die Antwort ist",
    "it": "Per prima cosa leggiamo il problema e impostiamo l'equazione. La risposta è",
    "pt": "Primeiro lemos o problema com cuidado e montamos a equação. A resposta é",
    "ru": "Сначала внимательно прочитаем задачу и составим уравнение. Ответ:",
    "zh-cn": "首先我们仔细阅读题目并列出方程。化简之后得到答案",
    "ja": "まず問題をよく読み、方程式を立てます。整理すると答えは",
    "ko": "먼저 문제를 잘 읽고 방정식을 세웁니다. 정리하면 답은",
    "ar": "أولاً نقرأ المسألة بعناية ونكتب المعادلة. الجواب هو",
    "hi": "पहले हम प्रश्न को ध्यान से पढ़ते हैं और समीकरण बनाते हैं। उत्तर है",
}


def _wrong(answer: str) -> str:
    return answer + "1" if answer[-1:].isdigit() else answer + "+1"


def _finals(answer: str, rng: random.Random) -> str:
    """One way a model writes its final answer: right, equivalent, wrong, quoted or missing."""
    shown = rng.choice([answer, answer, _wrong(answer)])
    return rng.choice(
        [
            f"\\boxed{{{shown}}}",
            f"The answer is {shown}.",
            f"So the final answer is $\\boxed{{{shown}}}$. Is there anything else I can help with?",
            f"Therefore x = {shown}",
            "I could not finish the computation.",
            f"#### {shown}",
            f'\\boxed{{"{shown}"}}',
            f"The final answer is '{shown}'.",
        ]
    )


def _variants(answer: str) -> list[str]:
    """Ways a model writes a final answer: right, equivalent, wrong, or missing."""
    wrong = _wrong(answer)
    return [
        f"\\boxed{{{answer}}}",
        f"The answer is {answer}.",
        f"So the final answer is $\\boxed{{{answer}}}$. Is there anything else I can help with?",
        f"\\boxed{{{wrong}}}",
        f"Therefore x = {wrong}",
        "I could not finish the computation.",
        f"#### {answer}",
    ]


def responses(samples: list[Sample], count: int, seed: int = 0) -> list[tuple[Sample, str]]:
    """``count`` (sample, response) pairs: reasoning in <think>, then prose and a final answer."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        sample = samples[index % len(samples)]
        final = rng.choice(_variants(sample.answer))
        thinking = _FILLER * rng.randint(1, 6)
        body = _FILLER * rng.randint(0, 3)
        text = f"<think>{thinking}</think>{body}{final}" if rng.random() < 0.8 else body + final
        out.append((sample, text))
    return out


def _shape(sample: Sample, body: str, rng: random.Random) -> str:
    """Apply (or, one time in three, ignore) each constraint of the sample to the answer body."""
    for spec in sample.constraints:
        if rng.random() < 0.33:
            continue
        body = _APPLY.get(spec.id, lambda b, _a, _r: b)(body, dict(spec.args), rng)
    return body


def _bullets(body: str, args: dict[str, object], rng: random.Random) -> str:
    count = int(str(args.get("num_bullets", 3))) + rng.choice([0, 0, 1])
    lines = "\n".join(f"* {rng.choice(_STEPS)}" for _ in range(count))
    return f"{lines}\n\n{body}"


def _sections(body: str, args: dict[str, object], rng: random.Random) -> str:
    count = int(str(args.get("num_sections", 2)))
    name = str(args.get("section_spliter", "Section"))
    return "\n\n".join(f"{name} {i + 1}\n{rng.choice(_STEPS)}" for i in range(count)) + "\n" + body


def _highlights(body: str, args: dict[str, object], rng: random.Random) -> str:
    count = int(str(args.get("num_highlights", 1)))
    return " ".join(f"*{rng.choice(['key step', 'check', 'result'])}*" for _ in range(count)) + body


def _keywords(body: str, args: dict[str, object], rng: random.Random) -> str:
    words = args.get("keywords") or [args.get("keyword", "")]
    times = int(str(args.get("frequency", 1)))
    extra = " ".join(f"The {w} matters here." for w in words for _ in range(times))  # type: ignore[union-attr]
    return f"{extra} {body}"


def _capitals(body: str, args: dict[str, object], rng: random.Random) -> str:
    count = int(str(args.get("capital_frequency", 3))) + rng.choice([-1, 0, 1])
    words = ["NOTE", "IMPORTANT", "CHECK", "OK", "DONE"]
    shouts = " ".join(rng.choice(words) for _ in range(count))
    return f"{shouts}. {body}"


def _language(body: str, args: dict[str, object], rng: random.Random) -> str:
    code = str(args.get("language", "es"))
    return f"{_FOREIGN.get(code, _FOREIGN['es'])} {body.split()[-1] if body.split() else ''}"


_APPLY: dict[str, Callable[[str, dict[str, object], random.Random], str]] = {
    "change_case:english_lowercase": lambda b, _a, _r: b.lower(),
    "change_case:english_capital": lambda b, _a, _r: b.upper(),
    "startend:quotation": lambda b, _a, _r: f'"{b}"',
    "startend:end_checker": lambda b, a, _r: f"{b}\n{a.get('end_phrase', '')}",
    "punctuation:no_comma": lambda b, _a, _r: b.replace(",", ""),
    "combination:repeat_prompt": lambda b, a, _r: f"{a.get('prompt_to_repeat', '')}\n{b}",
    "detectable_format:number_bullet_lists": _bullets,
    "detectable_format:multiple_sections": _sections,
    "detectable_format:number_highlighted_sections": _highlights,
    "keywords:existence": _keywords,
    "keywords:frequency": _keywords,
    "change_case:capital_word_frequency": _capitals,
    "language:response_language": _language,
}


def realistic(samples: list[Sample], count: int, seed: int = 0) -> list[tuple[Sample, str]]:
    """``count`` responses shaped by each prompt's constraints, about 1 KB each."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        sample = samples[index % len(samples)]
        steps = " ".join(rng.choice(_STEPS) for _ in range(rng.randint(1, 6)))
        body = _shape(sample, f"{steps}\n\n{_finals(sample.answer, rng)}", rng)
        thinking = " ".join(rng.choice(_STEPS) for _ in range(rng.randint(2, 10)))
        text = f"<think>\n{thinking}\n</think>\n\n{body}" if rng.random() < 0.85 else body
        out.append((sample, text))
    return out


def _wrap_reasoning(kind: str, thinking: str, answer: str) -> str:
    """The text a reasoning model of this family emits around its thinking."""
    if kind == "r1":  # DeepSeek-R1-distill: the template opens <think>, the model closes it
        return f"{thinking}\n</think>\n\n{answer}"
    if kind == "qwq":  # QwQ: opens and closes <think> itself
        return f"<think>\n{thinking}\n</think>\n\n{answer}"
    if kind == "qwen3":  # Qwen3: the same, with "**Final Answer**" styling
        return f"<think>\n{thinking}\n</think>\n\n{answer}\n\n**Final Answer**\n{answer[-40:]}"
    return f"think\n{thinking}\nanswer\n{answer}"  # s1: budget-forced, plain markers


def long_answers(samples: list[Sample], count: int, seed: int = 0) -> list[tuple[Sample, str]]:
    """``count`` long reasoning-model responses (about 12 KB, 3-6 KB after the thinking)."""
    rng = random.Random(seed)
    kinds = ("r1", "qwq", "qwen3", "s1")
    out = []
    for index in range(count):
        sample = samples[index % len(samples)]
        thinking = "\n\n".join(rng.choice(_STEPS) for _ in range(rng.randint(60, 120)))
        steps = "\n\n".join(rng.choice(_STEPS) for _ in range(rng.randint(35, 70)))
        body = _shape(sample, f"{steps}\n\n{_finals(sample.answer, rng)}", rng)
        out.append((sample, _wrap_reasoning(kinds[index % len(kinds)], thinking, body)))
    return out


CORPORA: dict[str, Callable[[list[Sample], int, int], list[tuple[Sample, str]]]] = {
    "realistic": realistic,
    "long": long_answers,
    "simple": responses,
}


def write_jsonl(pairs: Iterable[tuple[Sample, str]], path: Path) -> None:
    """Write ``{"uid": ..., "response": ...}`` lines, the format ``mathif score`` reads."""
    with path.open("w", encoding="utf-8") as handle:
        for sample, text in pairs:
            handle.write(json.dumps({"uid": sample.uid, "response": text}) + "\n")
