"""Trials: the runner of each trial kind (`run(trial, ctx) -> Outcome`, one file per kind,
registered with @runs(KindTrial)), the one training loop, evaluation, final weights, and
the Ray Tune trainable that runs a planned trial and writes its shard."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ribray.errors import PermanentError, RibrayError
from ribray.registry import import_submodules

if TYPE_CHECKING:
    from ribray.plan import Trial
    from ribray.trials.common import Outcome
    from ribray.trials.context import TrialContext

    Runner = Callable[[Trial, TrialContext], Outcome]

# trial class -> its runner. Keyed by the class itself: a plugin's kind, reloaded with other
# code, is another class with a runner of its own (the old pair is never looked up again).
RUNNERS: dict[type[Trial], Runner] = {}


def runs(trial_class: type[Trial]) -> Callable[[Runner], Runner]:
    """Decorator: register a runner `run(trial, ctx) -> Outcome` for the trials of `trial_class`."""

    def add(run: Runner) -> Runner:
        if trial_class in RUNNERS:
            raise RibrayError(f"trial kind {trial_class.kind!r} has two runners: {RUNNERS[trial_class].__module__} "
                              f"and {run.__module__}")
        RUNNERS[trial_class] = run
        return run

    return add


def runner(trial: Trial) -> Runner:
    """The runner registered for the trial's class (none: a PermanentError, as a retry finds none either)."""
    found = RUNNERS.get(type(trial))
    if found is None:
        raise PermanentError(f"no runner for trial kind {trial.kind!r} ({type(trial).__qualname__}): register one "
                          f"with @runs({type(trial).__name__}) in a module the spec's plugins import")
    return found


import_submodules(__name__)

from ribray.trials.trainable import run_trial  # noqa: E402

__all__ = ["RUNNERS", "run_trial", "runner", "runs"]
