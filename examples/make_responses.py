"""Write examples/responses.jsonl: plausible reasoning-model answers to every MathIF prompt.

The README's main job runs on this file (`pytest --model examples/responses.jsonl`), so that a
fresh clone shows the whole job end to end without a GPU. The responses are synthetic and
deterministic: a thinking block of varying length, then an answer that tries to follow each
constraint with a probability per constraint type (lower with more constraints), and a final
answer that is right with a probability per source, roughly the shape of a mid-sized distilled
model in the paper. A few responses run out of tokens inside their thinking. They never quote
the questions (so `combination:repeat_prompt` is never followed) and hold no data but the uids
and the boxed answers.

Run: .venv/bin/python examples/make_responses.py [--data ../shared/mathif] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from mathif_pytest.constraints import (
    BulletCount,
    CapitalWordFrequency,
    EndPhrase,
    EnglishCapital,
    EnglishLowercase,
    ForbiddenWords,
    HighlightCount,
    KeywordExistence,
    KeywordFrequency,
    NoComma,
    Quotation,
    Relation,
    ResponseLanguage,
    SectionCount,
    WordCount,
)
from mathif_pytest.dataset import Sample, load_dataset

HERE = Path(__file__).resolve().parent
#: Chance that the model tries to follow a constraint of this type (single-constraint prompts).
FOLLOW = {
    "length_constraint_checkers:number_words": 0.6,
    "language:response_language": 0.55,
    "keywords:existence": 0.75,
    "keywords:frequency": 0.6,
    "keywords:forbidden_words": 0.8,
    "detectable_format:number_bullet_lists": 0.45,
    "detectable_format:number_highlighted_sections": 0.65,
    "detectable_format:multiple_sections": 0.5,
    "change_case:english_capital": 0.3,
    "change_case:english_lowercase": 0.4,
    "change_case:capital_word_frequency": 0.55,
    "punctuation:no_comma": 0.55,
    "combination:repeat_prompt": 0.0,
    "startend:end_checker": 0.6,
    "startend:quotation": 0.55,
}
#: Chance of a right final answer, by source.
CORRECT = {"gsm8k": 0.88, "math500": 0.7, "minerva": 0.42, "olympiad": 0.45, "aime": 0.22}
THOUGHTS = (
    "Let me restate what is given and what is asked.",
    "First I set up the quantities, then I relate them with one equation.",
    "Wait, I should double-check the units before going on.",
    "Substituting the known values, the expression simplifies step by step.",
    "Let me try a small case to see the pattern.",
    "Hmm, that contradicts the earlier step; let me recompute the middle term.",
    "Now the remaining count follows from the complement.",
    "I will verify the result by plugging it back in.",
)
STEPS = (
    "We start from the given conditions and write them as equations",
    "Then we simplify the expression one term at a time",
    "Checking the small cases confirms the pattern",
    "Combining the two results gives the final value",
    "Finally we verify the result against the original conditions",
)
#: One sentence per language the data asks for, short and typical enough for language detection.
LANGUAGES = {
    "es": "Resolvemos el problema paso a paso y comprobamos el resultado final con cuidado.",
    "it": "Risolviamo il problema passo dopo passo e controlliamo il risultato finale.",
    "pt": "Resolvemos o problema passo a passo e verificamos o resultado final com cuidado.",
    "de": "Wir lösen die Aufgabe Schritt für Schritt und prüfen das Ergebnis sorgfältig.",
    "ru": "Мы решаем задачу шаг за шагом и внимательно проверяем окончательный ответ.",
    "bg": "Решаваме задачата стъпка по стъпка и внимателно проверяваме крайния отговор.",
    "ja": "この問題を一歩ずつ解いて、最後の答えを注意深く確認します。",
    "vi": "Chúng ta giải bài toán từng bước và kiểm tra cẩn thận đáp án cuối cùng.",
    "sw": "Tunatatua tatizo hili hatua kwa hatua na kuhakiki jibu la mwisho kwa makini.",
}


def wrong_answer(answer: str, rng: random.Random) -> str:
    """A plausible wrong answer: a nearby integer, or a made-up value."""
    if re.fullmatch(r"-?\d+", answer.strip()):
        return str(int(answer) + rng.choice((-3, -1, 1, 2, 10)))
    return rng.choice(("0", "1", "\\frac{1}{2}", "12", "\\sqrt{2}"))


def thinking(rng: random.Random, source: str) -> str:
    """A thinking block, longer for harder sources."""
    longest = {"gsm8k": 8, "math500": 16, "minerva": 18, "olympiad": 28, "aime": 36}[source]
    return " ".join(rng.choice(THOUGHTS) for _ in range(rng.randint(2, longest)))


def answer_text(sample: Sample, rng: random.Random, final: str, scale: float = 1.0) -> str:
    """The part after </think>: explanation, final answer, and attempts at the constraints.

    ``scale`` multiplies the chance of trying each constraint.
    """
    follow = {
        c.id: rng.random() < scale * FOLLOW[c.id] * (1.0 - 0.12 * (len(sample.constraints) - 1))
        for c in sample.constraints
    }
    checkers = {type(c.checker): (c.checker, follow[c.id]) for c in sample.constraints}
    lines = [f"{step}, as shown below." for step in rng.sample(STEPS, 3)]
    lines = _content(lines, checkers, rng)
    lines.append(f"So the final answer is \\boxed{{{final}}}.")
    lines = _layout(lines, checkers)
    text = "\n".join(lines)
    return _surface(text, checkers)


def _content(lines: list[str], checkers: dict[type, tuple], rng: random.Random) -> list[str]:
    if ResponseLanguage in checkers:
        checker, yes = checkers[ResponseLanguage]
        if yes and checker.language in LANGUAGES:
            lines = [LANGUAGES[checker.language]] * 2
    if KeywordExistence in checkers:
        checker, yes = checkers[KeywordExistence]
        if yes:
            lines.append("Key words here: " + " and ".join(checker.keywords) + ".")
    if KeywordFrequency in checkers:
        checker, yes = checkers[KeywordFrequency]
        at_least = checker.relation is Relation.AT_LEAST
        times = checker.frequency if at_least == yes else max(checker.frequency, 1) + 1
        if times and (at_least or not yes):
            lines.append(" ".join([checker.keyword] * times).capitalize() + ".")
    if ForbiddenWords in checkers:
        checker, yes = checkers[ForbiddenWords]
        if not yes:
            lines.append(f"This is the {checker.forbidden_words[0]} case.")
    if CapitalWordFrequency in checkers:
        checker, yes = checkers[CapitalWordFrequency]
        at_least = checker.capital_relation is Relation.AT_LEAST
        if at_least == yes:
            lines.append(" ".join(["NOTE"] * checker.capital_frequency) + ".")
    if WordCount in checkers:
        checker, yes = checkers[WordCount]
        if (checker.relation is Relation.AT_LEAST) == yes:
            while sum(len(line.split()) for line in lines) < checker.num_words + 5:
                lines.append(rng.choice(STEPS) + ".")
    return lines


def _layout(lines: list[str], checkers: dict[type, tuple]) -> list[str]:
    if BulletCount in checkers:
        checker, yes = checkers[BulletCount]
        count = checker.num_bullets if yes else checker.num_bullets + 1
        body, rest = lines[:-1], lines[-1:]
        lines = [f"* {body[i % len(body)]}" for i in range(count)] + rest
    if SectionCount in checkers:
        checker, yes = checkers[SectionCount]
        count = checker.num_sections if yes else max(checker.num_sections - 1, 0)
        out = []
        for number in range(1, count + 1):
            out += [f"{checker.section_spliter} {number}", lines[(number - 1) % len(lines)]]
        lines = out + lines[-1:]
    if HighlightCount in checkers:
        checker, yes = checkers[HighlightCount]
        if yes:
            lines.insert(0, " ".join(["*key step*"] * checker.num_highlights))
    return lines


def _surface(text: str, checkers: dict[type, tuple]) -> str:
    if checkers.get(NoComma, (None, False))[1]:
        text = text.replace(",", "")
    if checkers.get(EnglishLowercase, (None, False))[1]:
        text = text.lower()
    if checkers.get(EnglishCapital, (None, False))[1]:
        text = text.upper()
    if EndPhrase in checkers and checkers[EndPhrase][1]:
        text = f"{text}\n{checkers[EndPhrase][0].end_phrase}"
    if checkers.get(Quotation, (None, False))[1]:
        text = f'"{text}"'
    return text


def response(sample: Sample) -> dict[str, str]:
    """One line of the responses file for ``sample``."""
    rng = random.Random(f"mathif-example:{sample.uid}")
    right = rng.random() < CORRECT[sample.source]
    final = sample.answer if right else wrong_answer(sample.answer, rng)
    think = thinking(rng, sample.source)
    if rng.random() < 0.03:  # ran out of tokens while thinking
        return {"uid": sample.uid, "response": f"<think>\n{think}", "finish_reason": "length"}
    text = f"<think>\n{think}\n</think>\n\n{answer_text(sample, rng, final)}"
    return {"uid": sample.uid, "response": text, "finish_reason": "stop"}


def main() -> None:
    """Write the responses file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "mathif"))
    parser.add_argument("--out", default=str(HERE / "responses.jsonl"))
    args = parser.parse_args()
    samples = load_dataset(args.data).samples
    with open(args.out, "w", encoding="utf-8") as handle:
        for sample in samples:
            handle.write(json.dumps(response(sample), ensure_ascii=False) + "\n")
    print(f"wrote {len(samples)} responses to {args.out}")


if __name__ == "__main__":
    main()
