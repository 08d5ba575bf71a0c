"""Module paths of ribray 0.1 that an interrupted run's pickles still name.

A Ray Tune run pickles its searcher, callbacks and trial-name function by module path
(tuner.pkl, and each trial's state in experiment_state-*.json); `ribray sweep --resume` of a run
started by ribray 0.1 unpickles them. `install()`, called on that path only (engine/tune_run.py,
before `Tuner.restore`), adds a finder that answers those old paths with modules whose names
resolve, lazily, to where the code lives now, and says once that such a run is being resumed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable

MOVED: dict[str, dict[str, str]] = {
    "ribray.searcher": {"PlanSearcher": "ribray.engine.searcher", "METRIC": "ribray.engine.searcher"},
    "ribray.progress": {"Progress": "ribray.engine.progress"},
    "ribray.sweep": {"_trial_name": "ribray.engine.tune_run:trial_name",
                     "run_sweep": "ribray.engine.sweep", "SweepSummary": "ribray.engine.sweep"},
    "ribray.estimate": {"trial_hours": "ribray.plan.estimate", "Throughput": "ribray.plan.estimate",
                        "load_throughput": "ribray.plan.estimate"},
    "ribray.context": {"SweepContext": "ribray.trials.context"},
    "ribray.tracking": {"TrackingInfo": "ribray.results.tracking"},
}
WARNING = ("warning: resuming a run started by ribray 0.1 (its pickles name {module}); ribray 0.3 will not "
           "resume it: let this resumed run finish, or run the spec without --resume (finished trials are kept)")


def _resolve(target: str, name: str):
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or name)


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers the paths in MOVED; `echo` says, the first time one is asked for, what it means."""

    def __init__(self, echo: Callable[[str], object]):
        self.echo, self.warned = echo, False

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        if not self.warned:
            self.warned = True
            self.echo(WARNING.format(module=spec.name))
        module = types.ModuleType(spec.name, f"ribray 0.1's {spec.name}, moved (see ribray.compat.moved)")
        names = MOVED[spec.name]

        def __getattr__(name: str):
            if name not in names:
                raise AttributeError(f"module {spec.name!r} has no attribute {name!r}")
            return _resolve(names[name], name)

        module.__getattr__ = __getattr__
        return module

    def exec_module(self, module):
        pass


def install(echo: Callable[[str], object] = print) -> None:
    """Answer ribray 0.1's module paths in this process from now on (once; later calls keep the
    first finder and its `echo`)."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules(echo))
