"""What a sweep no longer needs on disk: a finished trial's resume checkpoints are emptied (the
folder stays, with a note, for Tune's saved state), an unfinished one's are kept for `--resume`,
and `prune_sweep` takes the scratch folder too, never while a sweep holds the folder's lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from ribray.errors import RibrayError
from ribray.results import SweepLayout, write_shard
from ribray.results.lock import sweep_lock
from ribray.results.reclaim import FINISHED_NOTE, prune_checkpoints, prune_sweep
from ribray.storage import Location


def _sweep(root: Path) -> SweepLayout:
    """A sweep with trial `done` finished (its shard written) and `busy` not; each has a checkpoint
    in two Tune runs (a run and its resume), and the sweep has a scratch folder."""
    layout = SweepLayout(Location(str(root)))
    write_shard(layout.results, "done", [{"trial_id": "done"}])
    for run in ("run-1", "run-2"):
        for trial in ("done", "busy"):
            checkpoint = root / "tune" / run / f"finetune-{trial}-abc" / "checkpoint_000001"
            checkpoint.mkdir(parents=True)
            (checkpoint / "trainer.pt").write_bytes(b"x" * 1000)
    (root / "scratch").mkdir()
    (root / "scratch" / "copy.parquet").write_bytes(b"y" * 10)
    return layout


def _checkpoints(root: Path, trial: str) -> dict[str, list[str]]:
    return {run: sorted(p.name for p in (root / "tune" / run / f"finetune-{trial}-abc" / "checkpoint_000001").iterdir())
            for run in ("run-1", "run-2")}


def test_a_finished_trials_checkpoints_are_emptied_in_every_run_and_an_unfinished_ones_kept(tmp_path):
    pruned = prune_checkpoints(_sweep(tmp_path))
    assert pruned.bytes == 2000 and len(pruned.folders) == 2
    assert _checkpoints(tmp_path, "done") == {"run-1": [FINISHED_NOTE], "run-2": [FINISHED_NOTE]}
    assert _checkpoints(tmp_path, "busy") == {"run-1": ["trainer.pt"], "run-2": ["trainer.pt"]}
    assert prune_checkpoints(SweepLayout(Location(str(tmp_path)))).bytes == 0  # the note alone is not pruned again


def test_a_dry_run_lists_the_same_folders_and_deletes_nothing(tmp_path):
    layout = _sweep(tmp_path)
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    dry = prune_sweep(layout, dry_run=True)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == before
    done = prune_sweep(layout)
    assert done.folders == dry.folders and done.bytes == dry.bytes == 2010
    assert not (tmp_path / "scratch").exists() and (tmp_path / "results" / "done.parquet").exists()


def test_pruning_is_refused_while_a_sweep_holds_the_folder(tmp_path):
    layout = _sweep(tmp_path)
    with sweep_lock(layout.root), pytest.raises(RibrayError, match="running"):
        prune_sweep(layout)
    assert (tmp_path / "scratch").exists()
