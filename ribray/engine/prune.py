"""Deleting a trial's resume checkpoint as soon as it has finished: its final weights and its
results shard are written by then, and nothing reads the checkpoint again."""

from __future__ import annotations

import logging

from ray.tune import Callback

log = logging.getLogger("ribray.engine")


class CheckpointPruner(Callback):
    """After each trial completes (its shard written, `trial_finished` reported), delete its
    last Tune checkpoint: about twice its weights, kept for nothing otherwise."""

    def on_trial_complete(self, iteration, trials, trial, **info):
        checkpoint = trial.checkpoint
        if checkpoint is None:
            return
        try:
            checkpoint.filesystem.delete_dir(checkpoint.path)
        except (OSError, FileNotFoundError) as error:  # already gone, or storage trouble: not fatal
            log.warning("could not delete the checkpoint of finished trial %s: %s", trial, error)
