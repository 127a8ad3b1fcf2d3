"""`--mathif-shard I/N`: stable, disjoint, covering shares of the MathIF samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from mathif_pytest.batch.shards import Shard, parse_shard
from mathif_pytest.dataset import Dataset, load_dataset


@pytest.fixture(scope="module")
def dataset(data_dir: Path) -> Dataset:
    return load_dataset(data_dir)


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_the_shards_of_n_are_disjoint_and_cover_every_sample(dataset: Dataset, count: int) -> None:
    uids = [s.uid for s in dataset.samples]
    shares = [{u for u in uids if Shard(index=i, count=count).holds(u)} for i in range(count)]
    assert sum(len(share) for share in shares) == len(uids) == len(set().union(*shares))
    assert min(len(share) for share in shares) > len(uids) / count * 0.7  # roughly even


def test_a_samples_shard_does_not_depend_on_the_other_samples(dataset: Dataset) -> None:
    shard = Shard(index=1, count=3)
    uids = [s.uid for s in dataset.samples]
    assert [u for u in uids if shard.holds(u)] == [u for u in uids[::-1] if shard.holds(u)][::-1]


@pytest.mark.parametrize(
    ("text", "expected"), [("0/2", Shard(index=0, count=2)), (" 3 / 4 ", Shard(index=3, count=4))]
)
def test_shards_are_written_i_slash_n(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected
    assert str(expected) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2/2", "numbered 0 to 1"),
        ("1/0", "out of range"),
        ("1of2", "is not I/N"),
        ("-1/2", "is not I/N"),
    ],
)
def test_a_bad_shard_says_the_right_form(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shard(text)
