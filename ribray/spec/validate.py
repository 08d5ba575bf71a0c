"""`ribray validate`: every check that needs no GPU and no Ray, before anything is rented."""

from __future__ import annotations

from ribray.errors import RibrayError, SpecError, first_line
from ribray.spec.schema import Spec


def check_spec(spec: Spec, *, data: bool = True, weights: bool = True, storage: bool = True,
               build: bool = True) -> list[str]:
    """Raise SpecError listing every problem found; return notes on what was checked. `build`:
    also build each model random-init on the CPU to check every method and analysis on it."""
    problems: list[str] = []
    problems += _dataset_names(spec)
    problems += _interpolations(spec)
    problems += _models(spec, weights)
    if build and not problems:
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
    """Checked when a spec is read, and again here for specs built in code (model_copy)."""
    from ribray.spec.load import dataset_name_problems

    problems = dataset_name_problems("downstream", spec.downstream)
    return problems + (dataset_name_problems("eval_sets", spec.eval_sets) if spec.eval_sets != "default" else [])


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
    """Every method must be able to train every model: its own checks, then a forward pass of
    the model it prepares at the model's evaluation input size (what trials feed it), on a
    random-init model on the CPU; and the CKA layers must be modules of the model."""
    from ribray.methods import METHODS
    from ribray.models import build_model

    problems = []
    needed = set(spec.methods) | {METHODS.get(m).starts_from for m in spec.methods} - {None}
    for i, model in enumerate(spec.models):
        where = f"models.{i} ({model.name})"
        try:  # a checkpoint is read (never run: weights_only) and matched to the model, as in trials
            loaded = build_model(model.name, pretrained=False, checkpoint=model.checkpoint)
        except RibrayError as error:
            problems.append(f"{where}: {error}")
            continue
        forwarded: set = set()  # `prepare` implementations run once: most methods share the base one
        for name in sorted(needed):
            method = METHODS.get(name)(spec.method_options(name))
            try:
                method.check_model(loaded.module)
                if type(method).prepare not in forwarded:
                    _forward_prepared(method, loaded)
                    forwarded.add(type(method).prepare)
            except RibrayError as error:
                problems.append(f"methods.{name} x {where}: {error}")
        if spec.analyses.cka is not None:
            from ribray.analysis.cka import resolve_layers

            try:
                resolve_layers(loaded.module, spec.analyses.cka.layers)
            except RibrayError as error:
                problems.append(f"analyses.cka.layers x {where}: {error}")
    return problems


def _forward_prepared(method, loaded) -> None:
    """One image at the model's evaluation input size through the model `method` prepares."""
    import copy

    import torch

    from ribray.methods import Method

    size = tuple(loaded.data_config["input_size"])
    # a method that overrides `prepare` may change the model in place (LoRA splits qkv): a copy
    unchanged = type(method).prepare is Method.prepare
    prepared = method.prepare(loaded.module if unchanged else copy.deepcopy(loaded.module)).eval()
    try:
        with torch.no_grad():
            prepared(torch.zeros(1, *size))
    except (RuntimeError, ValueError) as error:
        raise RibrayError(f"the prepared model fails on its {size[1]}x{size[2]} evaluation input: "
                          f"{first_line(error)}") from None


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
