"""`ribray validate`: every check that needs no GPU and no Ray, before anything is rented."""

from __future__ import annotations

from ribray.errors import RibrayError, SpecError
from ribray.spec.schema import Spec


def check_spec(spec: Spec, *, data: bool = True, weights: bool = True, storage: bool = True) -> list[str]:
    """Raise SpecError listing every problem found; return notes on what was checked."""
    problems: list[str] = []
    problems += _dataset_names(spec)
    problems += _interpolations(spec)
    problems += _models(spec, weights)
    if not problems:
        problems += _method_model_pairs(spec)
    if storage:
        problems += _storage(spec)
    notes = [f"{len(spec.models)} model(s), {len(spec.methods)} method(s), "
             f"{len(spec.downstream)} downstream set(s), {len(spec.seeds)} seed(s)"]
    if data and not any("dataset" in p for p in problems):
        data_problems, data_notes = _data(spec)
        problems += data_problems
        notes += data_notes
    if problems:
        raise SpecError("the spec cannot run:\n  " + "\n  ".join(problems))
    return notes


def _dataset_names(spec: Spec) -> list[str]:
    from ribray.data import DATASETS

    problems = []
    named = [("downstream", spec.downstream)]
    if spec.eval_sets != "default":
        named.append(("eval_sets", spec.eval_sets))
    for key, names in named:
        for i, name in enumerate(names):
            if name not in DATASETS:
                try:
                    DATASETS.get(name)
                except RibrayError as error:
                    problems.append(f"{key}.{i}: {error}")
    return problems


def _interpolations(spec: Spec) -> list[str]:
    """Every method an interpolation reads is in the sweep and can be averaged with the
    pretrained weights."""
    from ribray.interpolations import INTERPOLATIONS
    from ribray.methods import METHODS

    problems = []
    for name, options in spec.interpolations.items():
        for method in INTERPOLATIONS.get(name)(options).methods_read():
            path = f"interpolations.{name}.{_option_naming(options, method)}"
            if method not in spec.methods:
                listed = ", ".join(spec.methods) or "none"
                problems.append(f"{path}: method {method!r} is not in the sweep's methods ({listed}); "
                                "add it under methods:")
            elif not METHODS.get(method).interpolatable:
                reason = getattr(METHODS.get(method), "not_interpolatable_reason", "")
                problems.append(f"{path}: {method!r} cannot be interpolated with the pretrained weights"
                                + (f": {reason}" if reason else ""))
    return problems


def _option_naming(options, method: str) -> str:
    """Which option of an interpolation names `method` (e.g. `of`, `ingredients.2`)."""
    for key, value in options.model_dump().items():
        if value == method:
            return key
        if isinstance(value, list) and method in value:
            return f"{key}.{value.index(method)}"
    return "ingredients"


def _models(spec: Spec, weights: bool) -> list[str]:
    from ribray import models

    problems = []
    for i, model in enumerate(spec.models):
        try:
            models.check_model_name(model.name)
            if weights and hasattr(models, "check_weights_available"):
                models.check_weights_available(model.name, model.pretrained, model.checkpoint)
        except RibrayError as error:
            problems.append(f"models.{i}: {error}")
    return problems


def _method_model_pairs(spec: Spec) -> list[str]:
    """Every method must be able to train every model (built random-init, on the CPU)."""
    from ribray.methods import METHODS
    from ribray.models import build_model

    problems = []
    needed = set(spec.methods) | {METHODS.get(m).starts_from for m in spec.methods} - {None}
    for i, model in enumerate(spec.models):
        module = build_model(model.name, pretrained=False).module
        for name in sorted(needed):
            method = METHODS.get(name)
            try:
                method(spec.method_options(name)).check_model(module)
            except RibrayError as error:
                problems.append(f"methods.{name} x models.{i} ({model.name}): {error}")
    return problems


def _storage(spec: Spec) -> list[str]:
    from ribray.storage import Location, check_writable

    try:
        check_writable(Location(spec.storage))
    except RibrayError as error:
        return [f"storage: {error}"]
    if "://" in spec.storage and not spec.mlflow.tracking_uri:
        return ["mlflow.tracking_uri: a SQLite store cannot live in an object store; "
                "set it to a tracking server (http://...) or a local sqlite:///path"]
    return []


def _data(spec: Spec) -> tuple[list[str], list[str]]:
    from ribray.data.check import check_datasets

    names = list(dict.fromkeys([*spec.downstream, *spec.resolved_eval_sets()]))
    results = check_datasets(spec.data.root, names, spec.data.folders)
    problems = [f"data: {r.name} at {r.path}: " + ("; ".join(r.problems) or "not found")
                for r in results if not r.usable]
    notes = [f"data: {r.name}: {r.images} images at {r.path}" for r in results if r.usable]
    return problems, notes
