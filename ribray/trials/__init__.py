"""Trial kinds: one file per kind, registered with @register("kind"); the Tune trainable."""

from __future__ import annotations

from ribray.registry import Registry, import_submodules

KINDS: Registry = Registry("trial kind")


def register(kind: str):
    """Decorator for a runner `run(trial, context, run_log) -> Outcome`."""
    return KINDS.register(kind)


import_submodules(__name__)

from ribray.trials.trainable import run_trial  # noqa: E402

__all__ = ["KINDS", "register", "run_trial"]
