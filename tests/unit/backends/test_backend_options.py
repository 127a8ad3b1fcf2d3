from __future__ import annotations

import pytest

from mathif_pytest.backends._options import read_options
from mathif_pytest.backends.openai import OpenAIOptions
from mathif_pytest.backends.transformers import TransformersOptions
from mathif_pytest.errors import BackendUnavailableError


@pytest.mark.parametrize(
    ("cls", "name", "option", "value", "minimum"),
    [
        (TransformersOptions, "transformers", "batch_size", 0, 1),
        (OpenAIOptions, "openai", "concurrency", 0, 1),
        (OpenAIOptions, "openai", "max_retries", -1, 0),
    ],
    ids=["batch-size", "concurrency", "max-retries"],
)
def test_counts_below_their_minimum_are_rejected_with_the_option_named(
    cls: type, name: str, option: str, value: int, minimum: int
) -> None:
    with pytest.raises(
        BackendUnavailableError, match=rf"{option}={value} is invalid.*at least {minimum}"
    ):
        read_options(cls, name, {option: value})
    assert getattr(read_options(cls, name, {option: minimum}), option) == minimum


def test_a_value_of_the_wrong_type_names_the_expected_type() -> None:
    with pytest.raises(BackendUnavailableError, match=r"batch_size='8' is invalid.*type int"):
        read_options(TransformersOptions, "transformers", {"batch_size": "8"})
