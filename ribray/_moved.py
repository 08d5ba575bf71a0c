"""Module paths of ribray 0.1 that pickles still name.

An interrupted Ray Tune run pickles its searcher, callbacks and trial-name function by module
path (tuner.pkl); `ribray sweep --resume` of a run started by ribray 0.1 unpickles them. This
finder answers those old paths with modules whose names resolve, lazily, to where the code
lives now. Nothing imports the old paths otherwise.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

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


def _resolve(target: str, name: str):
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or name)


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name, f"ribray 0.1's {spec.name}, moved (see ribray._moved)")
        names = MOVED[spec.name]

        def __getattr__(name: str):
            if name not in names:
                raise AttributeError(f"module {spec.name!r} has no attribute {name!r}")
            return _resolve(names[name], name)

        module.__getattr__ = __getattr__
        return module

    def exec_module(self, module):
        pass


def install() -> None:
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules())
