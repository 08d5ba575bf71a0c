"""What a sweep no longer needs on disk: the resume checkpoints of finished trials (a finished
fine-tune's final weights are in weights/, which is what interpolations and LP-FT read; its
last Tune checkpoint, weights and SGD momentum, is about twice that), and the scratch folder.

A finished trial's checkpoint folder is emptied, not removed: when a driver is killed after a
trial finished but before Tune saved that, `--resume` restores the trial from the folder
Tune's state names, and Tune refuses a folder that is gone. Restored, the trial finds its
shard and reports itself finished."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import pyarrow.fs as pafs

from ribray.results.layout import FINISHED_NOTE, SCRATCH, SweepLayout, trial_id_of_folder
from ribray.results.lock import check_unlocked, sweep_lock
from ribray.results.store import done_trial_ids
from ribray.storage import Location


@dataclass(frozen=True)
class PrunedFolder:
    """One folder pruned: the files that go, and whether the folder goes with them (scratch) or
    stays with a note (a finished trial's checkpoint)."""

    path: str
    files: int
    bytes: int
    removed: bool


@dataclass
class Pruned:
    """What was (or, in a dry run, would be) deleted."""

    entries: list[PrunedFolder] = field(default_factory=list)

    @property
    def folders(self) -> list[str]:
        return [entry.path for entry in self.entries]

    @property
    def bytes(self) -> int:
        return sum(entry.bytes for entry in self.entries)


_NOTE_TEXT = (b"This trial finished (its results shard, and a fine-tune's final weights, are written): "
              b"ribray deleted its resume checkpoint. The folder stays for Tune's saved state.\n")


def files_in(fs: pafs.FileSystem, path: str) -> list[pafs.FileInfo]:
    """Every file under `path`, at any depth (one listing; none if `path` does not exist)."""
    infos = fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
    return [info for info in infos if info.type == pafs.FileType.File]


def folder_bytes(fs: pafs.FileSystem, path: str) -> int:
    return sum(info.size or 0 for info in files_in(fs, path))


def delete_folder(fs: pafs.FileSystem, path: str, pruned: Pruned, dry_run: bool = False) -> None:
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return
    files = files_in(fs, path)
    pruned.entries.append(PrunedFolder(path, len(files), sum(info.size or 0 for info in files), removed=True))
    if not dry_run:
        fs.delete_dir(path)


def empty_checkpoint(fs: pafs.FileSystem, path: str, files: list[pafs.FileInfo], pruned: Pruned,
                     dry_run: bool = False) -> None:
    """Delete a finished trial's checkpoint `files` (those in folder `path`, the note aside),
    leaving the folder with a note in it (see the module's docstring)."""
    files = [info for info in files if posixpath.basename(info.path) != FINISHED_NOTE]
    if not files:
        return
    pruned.entries.append(PrunedFolder(path, len(files), sum(info.size or 0 for info in files), removed=False))
    if not dry_run:
        fs.delete_dir_contents(path)
        with fs.open_output_stream(posixpath.join(path, FINISHED_NOTE)) as note:
            note.write(_NOTE_TEXT)


def prune_checkpoints(layout: SweepLayout, dry_run: bool = False) -> Pruned:
    """Empty the checkpoints of every trial whose results shard exists, in every Tune run of
    the sweep (one listing of tune/). Unfinished trials keep theirs (`--resume` needs them).
    A sweep does this as it ends, for checkpoints its trials' own clean-up missed (a driver
    killed between a trial's end and that clean-up)."""
    done, tune, pruned = done_trial_ids(layout.results), layout.tune, Pruned()
    folders: dict[str, list[pafs.FileInfo]] = {}
    for info in files_in(tune.fs, tune.path):
        parts = info.path[len(tune.path.rstrip("/")) + 1:].split("/")  # run-*/<trial folder>/checkpoint_*/...
        if len(parts) >= 4 and parts[2].startswith("checkpoint_") and trial_id_of_folder(parts[1]) in done:
            folders.setdefault("/".join([tune.path.rstrip("/"), *parts[:3]]), []).append(info)
    for path, files in sorted(folders.items()):
        empty_checkpoint(tune.fs, path, files, pruned, dry_run)
    return pruned


def prune_sweep(layout: SweepLayout, dry_run: bool = False) -> Pruned:
    """The checkpoints of finished trials (`prune_checkpoints`) and the scratch folder, holding
    the sweep's lock: refused while a sweep (or another prune) of the folder runs. A dry run
    writes nothing: it only checks that the lock is free, as a real prune would."""
    if dry_run:
        check_unlocked(layout.root)
        return _prune(layout, dry_run=True)
    with sweep_lock(layout.root, command="ribray prune"):
        return _prune(layout, dry_run=False)


def _prune(layout: SweepLayout, dry_run: bool) -> Pruned:
    pruned = prune_checkpoints(layout, dry_run)
    scratch = layout.root.child(SCRATCH)
    delete_folder(scratch.fs, scratch.path, pruned, dry_run)
    return pruned


def _folders(fs: pafs.FileSystem, path: str) -> list[str]:
    selector = pafs.FileSelector(path, allow_not_found=True)
    return sorted(info.path for info in fs.get_file_info(selector) if info.type == pafs.FileType.Directory)


def sweep_bytes(root: Location) -> dict[str, int]:
    """Bytes under each top-level folder of a sweep (results, weights, tune, ...)."""
    return {posixpath.basename(path): folder_bytes(root.fs, path) for path in _folders(root.fs, root.path)}
