"""Fetch the MathIF data from the Hugging Face hub through ``huggingface_hub``'s cache."""

from __future__ import annotations

from pathlib import Path

from mathif_pytest.errors import DatasetError

__all__ = ["DEFAULT_REPO", "download_dataset"]

#: The dataset the paper published.
DEFAULT_REPO = "TingchenFu/MathIF"


def download_dataset(spec: str) -> tuple[Path, str]:
    """Return a local directory holding the hub dataset's JSONL files, and its commit hash.

    Args:
        spec: ``owner/name`` or ``owner/name@revision``. Downloads on first use; afterwards (and
            with ``HF_HUB_OFFLINE=1``) the cached snapshot is used without any network access.

    Raises:
        DatasetError: the dataset is neither reachable nor cached; the message says how to use a
            local directory instead.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    repo_id, _, revision = spec.partition("@")
    try:
        path = snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            revision=revision or None,
            allow_patterns=["*.jsonl", "**/*.jsonl"],
        )
    except (HfHubHTTPError, OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatasetError(
            f"hf://{spec}: not reachable and not in the huggingface_hub cache ({first_line}); "
            f"download it once where the hub is reachable (`hf download --repo-type dataset "
            f"{repo_id} --local-dir mathif`) and pass that directory: --mathif-data mathif"
        ) from None
    return Path(path), Path(path).name
