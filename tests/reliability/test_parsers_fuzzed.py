"""The responses-file and data parsers, fuzzed: they read the input or raise a clear error
naming the file (and the line, when one line is at fault); nothing else escapes."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _reliability import Record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mathif_pytest.dataset import Dataset, load_dataset
from mathif_pytest.errors import MathIFError
from mathif_pytest.responses import read_responses

EXAMPLES = 400
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
UIDS = st.sampled_from(["gsm8k_single-0", "aime_double-3", "math500_triple-7", "nope-1", ""])
RESPONSE_LINES = (
    st.one_of(
        st.fixed_dictionaries({"uid": UIDS, "response": st.text(max_size=40)}),
        st.fixed_dictionaries({"uid": UIDS | JSON_VALUES, "response": JSON_VALUES}),
        st.dictionaries(
            st.sampled_from(["uid", "response", "finish_reason", "output"]), JSON_VALUES
        ),
        JSON_VALUES,
    ).map(json.dumps)
    | st.text(max_size=60)
    | st.just("")
)
FIELDS = ["source", "id", "question", "answer", "constraint_desc", "constraint_name",
          "constraint_args", "extra"]  # fmt: skip
IDS = st.lists(st.sampled_from(["keywords:existence", "punctuation:no_comma", "keywords:frequncy"]))
ROW_EDITS = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | IDS, max_size=3)


def _clear(error: MathIFError, path: Path) -> bool:
    """The message starts with the file, then a line number when the fault is one line's."""
    return re.match(re.escape(str(path)) + r"(:\d+)?[: ]", str(error)) is not None


@contextmanager
def _written(text: bytes) -> Iterator[Path]:
    """``text`` in a file of its own, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mathif-fuzz-") as folder:
        path = Path(folder) / "file.jsonl"
        path.write_bytes(text)
        yield path


def test_the_responses_file_parser_reads_or_names_the_file_and_line(
    data_dir: Path, record: Record
) -> None:
    dataset: Dataset = load_dataset(data_dir)
    tried, rejected = [], []

    @FUZZ
    @given(lines=st.lists(RESPONSE_LINES, max_size=8), aligned=st.booleans(),
           raw=st.none() | st.binary(max_size=80))  # fmt: skip
    def check(lines: list[str], aligned: bool, raw: bytes | None) -> None:
        tried.append(1)
        text = raw if raw is not None else "\n".join(lines).encode("utf-8", "surrogatepass")
        with _written(text) as path:
            try:
                read_responses(path, dataset, aligned_to="gsm8k_single" if aligned else None)
            except MathIFError as error:
                rejected.append(1)
                assert _clear(error, path), str(error)

    check()
    record(parser="responses file", inputs=len(tried), clear_errors=len(rejected), other=0)


def test_the_data_parser_reads_or_names_the_file_and_line(data_dir: Path, record: Record) -> None:
    rows = (data_dir / "gsm8k_double.jsonl").read_text(encoding="utf-8").splitlines()
    tried, rejected = [], []

    @FUZZ
    @given(edits=st.lists(ROW_EDITS | st.text(max_size=40), min_size=1, max_size=4),
           drop=st.booleans())  # fmt: skip
    def check(edits: list[Any], drop: bool) -> None:
        tried.append(1)
        lines = []
        for row, edit in zip(rows, edits, strict=False):
            if isinstance(edit, str):
                lines.append(edit)
                continue
            obj = {**json.loads(row), **edit}
            if drop and edit:
                obj.pop(next(iter(edit)))
            lines.append(json.dumps(obj))
        with _written("\n".join(lines).encode("utf-8", "surrogatepass")) as path:
            try:
                load_dataset(path)
            except MathIFError as error:
                rejected.append(1)
                assert _clear(error, path), str(error)

    check()
    record(parser="data", inputs=len(tried), clear_errors=len(rejected), other=0)
