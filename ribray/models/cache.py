"""Where pretrained weights live offline: the Hugging Face hub cache and plain cache folders.
Lookups only; nothing here touches the network."""

from __future__ import annotations

import os


def hub_file_problem(hub_id: str, file_names: list[str]) -> str | None:
    """None when one of `file_names` of the hub repo `hub_id` (`repo[@revision]`) is cached."""
    from huggingface_hub import constants, try_to_load_from_cache

    repo, _, revision = hub_id.partition("@")
    for file_name in file_names:
        if isinstance(try_to_load_from_cache(repo, file_name, revision=revision or None), str):
            return None
    files = " or ".join(file_names)
    return f"Hugging Face hub repo {repo}: {files} is not in the local cache ({constants.HF_HUB_CACHE})"


def cached_file_problem(folder: str, url: str) -> str | None:
    """None when the file of `url` was downloaded into `folder` (torch hub / open_clip style)."""
    path = os.path.join(folder, os.path.basename(url))
    return None if os.path.isfile(path) else f"{url} is not in the download cache ({path})"
