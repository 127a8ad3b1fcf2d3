"""`mathif merge-stores`: shards into one store, duplicates kept once, conflicts refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from mathif_pytest.backends import Generation, GenerationRequest, SamplingSettings
from mathif_pytest.cli import main
from mathif_pytest.errors import StoreError
from mathif_pytest.store import ResponseStore, StoreMeta
from mathif_pytest.store.merge import merge_stores

META = StoreMeta(
    backend="vllm",
    model="ckpts/step-100",
    fingerprint="0123456789abcdef",
    sampling=SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16384, seed=1),
)


def fill(path: Path, keys: range, text: str = "answer {}") -> Path:
    with ResponseStore(path) as store:
        for i in keys:
            request = GenerationRequest(
                key=f"k{i:03d}", uid=f"u{i}", sample=0, prompt=f"Q{i}", seed=i
            )
            generation = Generation(
                key=request.key, text=text.format(i), finish_reason="stop", extra={"n": i}
            )
            store.put(request, generation, META)
    return path


def everything(path: Path) -> list[dict[str, object]]:
    with ResponseStore(path) as store:
        return list(store.rows())


def test_disjoint_shards_merge_into_every_row_unchanged(tmp_path: Path) -> None:
    a, b = fill(tmp_path / "a.sqlite", range(5)), fill(tmp_path / "b.sqlite", range(5, 12))
    report = merge_stores([a, b], tmp_path / "all.sqlite")
    assert (report.read, report.written, report.duplicates) == ((5, 7), 12, 0)
    assert everything(tmp_path / "all.sqlite") == sorted(
        everything(a) + everything(b), key=lambda r: str(r["key"])
    )
    with ResponseStore(tmp_path / "all.sqlite") as store:
        assert store.get_many(["k007"])["k007"].extra == {"n": 7}


def test_the_same_response_in_two_stores_is_kept_once(tmp_path: Path) -> None:
    a, b = fill(tmp_path / "a.sqlite", range(6)), fill(tmp_path / "b.sqlite", range(4, 8))
    out = fill(tmp_path / "all.sqlite", range(7, 9))
    report = merge_stores([a, b], out)
    assert (report.written, report.duplicates) == (7, 3)
    assert len(everything(out)) == 9


def test_a_conflicting_response_is_an_error_and_nothing_is_merged(tmp_path: Path) -> None:
    a = fill(tmp_path / "a.sqlite", range(6))
    b = fill(tmp_path / "b.sqlite", range(4, 8), text="other {}")
    with pytest.raises(
        StoreError,
        match=r"2 keys have different responses .*k004… \(u4, sample 0\) in .*a.sqlite and .*b",
    ):
        merge_stores([a, b], tmp_path / "all.sqlite")
    assert everything(tmp_path / "all.sqlite") == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (["missing.sqlite"], "missing.sqlite: no such store"),
        (["a.sqlite", "out.sqlite"], "out.sqlite: is also --out"),
        (["a.sqlite", "a.sqlite"], "listed twice"),
    ],
    ids=["missing", "output-among-inputs", "repeated"],
)
def test_bad_store_lists_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], inputs: list[str], message: str
) -> None:
    fill(tmp_path / "a.sqlite", range(2))
    fill(tmp_path / "out.sqlite", range(2))
    status = main(
        [
            "merge-stores",
            *(str(tmp_path / i) for i in inputs),
            "--out",
            str(tmp_path / "out.sqlite"),
        ]
    )
    assert status == 2
    assert message in capsys.readouterr().err
