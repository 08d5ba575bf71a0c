"""How ribray lists a dataset folder: one policy for every listing (the data fingerprint, the
class folders, the image files, ImageNet-C's parts, `ribray data check`), so that `ribray
validate` meets what a sweep meets.

- Hidden entries (names starting with ".": `.DS_Store`, macOS `._*` copies, the fakes' marker)
  are not part of a set.
- A symlink is followed once. To a folder only when that folder lies inside the set's folder:
  a link out of it would make the walk wander through (and the set's fingerprint depend on)
  whatever lies elsewhere; link the set's folder itself instead. To a file wherever it lies:
  a file is read, not walked (the Hugging Face cache links its snapshot files to `blobs/`).
- A link that leads nowhere, a link loop, a folder reached twice (a link back to a parent, or
  to a folder listed already: its images would count twice) and an entry that is neither a
  file nor a folder (a FIFO would block the reader) are DataErrors naming the entry.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ribray.errors import DataError


def entries(folder: str | Path, within: str | Path | None = None) -> tuple[list[os.DirEntry], list[os.DirEntry]]:
    """(sub-folders, files) directly in `folder`, each sorted by name, by the policy above.
    `within`: the set's folder, inside which a link to a folder must stay (None: links to
    folders are reported as folders without following them, for listings of files only)."""
    inside = os.path.realpath(within) if within is not None else None
    folders, files = [], []
    with os.scandir(folder) as found:
        for entry in found:
            if not entry.name.startswith("."):
                (folders if _is_folder(entry, inside) else files).append(entry)
    return sorted(folders, key=_name), sorted(files, key=_name)


def walk_files(root: str | Path) -> Iterator[tuple[str, os.DirEntry]]:
    """Every file under the set's folder `root`, as (its path relative to root, with '/', and
    its entry), each folder listed once."""
    root = Path(root)
    seen: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) of each folder listed -> its path
    stack = [""]
    while stack:
        relative = stack.pop()
        folder = root / relative if relative else root
        info = os.stat(folder)
        key = (info.st_dev, info.st_ino)
        if key in seen:
            raise _reached_twice(root, relative, seen[key])
        seen[key] = relative
        folders, files = entries(folder, within=root)
        for entry in files:
            yield (f"{relative}/{entry.name}" if relative else entry.name), entry
        stack += [f"{relative}/{entry.name}" if relative else entry.name for entry in reversed(folders)]


def file_size(entry: os.DirEntry) -> int:
    """A listed file's size (a link's: its target's); a DataError if it went away since."""
    try:
        return entry.stat(follow_symlinks=True).st_size
    except OSError as error:
        raise DataError(f"{entry.path} changed while its folder was being listed "
                        f"({error.strerror or error})") from None


def _name(entry: os.DirEntry) -> str:
    return entry.name


def _is_folder(entry: os.DirEntry, inside: str | None) -> bool:
    """Whether `entry` is a folder to list; a DataError for what the policy refuses."""
    if not entry.is_symlink():
        if entry.is_dir(follow_symlinks=False):
            return True
        if entry.is_file(follow_symlinks=False):
            return False
        raise DataError(f"{entry.path} is neither a file nor a folder (a FIFO, socket or device); "
                        "remove it from the dataset folder")
    try:
        target = os.stat(entry.path)  # follows the whole chain of links
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise DataError(f"{entry.path} is a symlink loop (its links, starting with "
                            f"{os.readlink(entry.path)!r}, lead back to themselves); remove it") from None
        raise DataError(f"{entry.path} is a broken symlink (to {os.readlink(entry.path)!r}: "
                        f"{error.strerror or error}); remove it or restore its target") from None
    if stat.S_ISREG(target.st_mode):
        return False
    if not stat.S_ISDIR(target.st_mode):
        raise DataError(f"{entry.path} links to {os.path.realpath(entry.path)}, which is neither a file nor a "
                        "folder; remove it from the dataset folder")
    real = os.path.realpath(entry.path)
    if inside is not None and os.path.commonpath([real, inside]) != inside:
        raise DataError(f"{entry.path} links to the folder {real}, outside the dataset's folder {inside}; "
                        "ribray does not walk out of a dataset's folder: link (or mount) the dataset's "
                        "folder itself, or copy that folder in")
    return True


def _reached_twice(root: Path, relative: str, first: str) -> DataError:
    here, there = root / relative, (root / first if first else root)
    if first == "" or relative.startswith(f"{first}/"):
        return DataError(f"{here} is a symlink loop: it leads back to {there}, a folder that holds it; "
                         "remove the link")
    return DataError(f"{here} and {there} are the same folder (a symlink to a folder listed already: its "
                     "files would count twice); remove the link")
