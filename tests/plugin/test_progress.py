"""The generation progress line: throttled in place on a terminal, a line per tenth elsewhere."""

from __future__ import annotations

from mathif_pytest.backends import Generation
from mathif_pytest.pytest_plugin.progress import ProgressLine


class Recorder:
    def __init__(self, in_place: bool) -> None:
        self.in_place = in_place
        self.events: list[tuple[str, str]] = []

    def line(self, text: str) -> None:
        self.events.append(("line", text))

    def rewrite(self, text: str) -> None:
        self.events.append(("rewrite", text))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def done(tokens: int = 10, error: str | None = None) -> Generation:
    return Generation(key="k", text="", completion_tokens=tokens, error=error)


def test_without_a_terminal_a_line_per_tenth_then_the_final_line() -> None:
    output, clock = Recorder(in_place=False), Clock()
    progress = ProgressLine(output, clock=clock)
    progress.start(20, ["mathif generate: 20 responses with vllm"])
    for _ in range(20):
        clock.now += 0.5
        progress.advance(done())
    progress.finish()
    lines = [text for kind, text in output.events]
    assert {kind for kind, _ in output.events} == {"line"}
    assert [t.split()[2] for t in lines[1:]] == [f"{n}/20" for n in range(2, 20, 2)] + ["20/20"]
    assert lines[5] == (
        "mathif generate: 10/20 responses (50%), 2.00 responses/s, 20 tokens/s, ETA 5s"
    )
    assert (
        lines[-1]
        == "mathif generate: 20/20 responses (100%), 2.00 responses/s, 20 tokens/s, in 10s"
    )


def test_on_a_terminal_the_line_is_rewritten_at_most_every_interval() -> None:
    output, clock = Recorder(in_place=True), Clock()
    progress = ProgressLine(output, interval=1.0, clock=clock)
    progress.start(1000, [])
    for _ in range(1000):
        clock.now += 0.01  # 10 s in all
        progress.advance(done(tokens=3))
    progress.note("mathif engine: max_model_len=2048")
    progress.finish()
    kinds = [kind for kind, _ in output.events]
    assert kinds.count("rewrite") == 10
    assert output.events[-2] == ("line", "mathif engine: max_model_len=2048")
    assert output.events[-1][1].startswith("mathif generate: 1000/1000 responses (100%)")


def test_failures_are_counted_and_a_long_run_shows_hours() -> None:
    output, clock = Recorder(in_place=False), Clock()
    progress = ProgressLine(output, clock=clock)
    progress.start(10_000, [])
    clock.now += 60
    progress.advance(done(error="prompt too long"))
    progress.advance(done())
    text = progress.text(clock.now)
    assert "2/10000 responses (0%)" in text and "1 failed" in text and "ETA 83h19m" in text
