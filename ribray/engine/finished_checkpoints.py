"""Deleting a trial's resume checkpoint as soon as it has finished: its final weights and its
results shard are written by then, and nothing reads the checkpoint again."""

from __future__ import annotations

import logging

from ray.tune import Callback

from ribray.results.reclaim import Pruned, empty_checkpoint, files_in

log = logging.getLogger("ribray.engine")


class CheckpointPruner(Callback):
    """After each trial completes (its shard written, `trial_finished` reported), empty its
    last Tune checkpoint: about twice its weights, kept for nothing otherwise. The folder
    stays, with a note (`ribray.results.reclaim`): a resumed run may still restore from it."""

    def on_trial_complete(self, iteration, trials, trial, **info):
        checkpoint = trial.checkpoint
        if checkpoint is None:
            return
        try:
            fs = checkpoint.filesystem
            empty_checkpoint(fs, checkpoint.path, files_in(fs, checkpoint.path), Pruned())
        except OSError as error:  # storage trouble: not fatal, the sweep's end tries again
            log.warning("could not delete the checkpoint of finished trial %s: %s", trial, error)
