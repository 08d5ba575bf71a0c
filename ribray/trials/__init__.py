"""Trials: the runner of each trial kind (`run(trial, ctx) -> Outcome`, one file per kind,
registered with @runs(KindTrial)), the one training loop, evaluation, final weights, and
the Ray Tune trainable that runs a planned trial and writes its shard."""

from __future__ import annotations

from ribray.registry import Registry, import_submodules

RUNNERS: Registry = Registry("trial kind")


def runs(trial_class):
    """Decorator: register a runner `run(trial, ctx) -> Outcome` for `trial_class`'s kind."""
    return RUNNERS.register(trial_class.kind)


import_submodules(__name__)

from ribray.trials.trainable import run_trial  # noqa: E402

__all__ = ["RUNNERS", "run_trial", "runs"]
