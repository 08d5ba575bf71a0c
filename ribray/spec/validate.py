"""`ribray validate`: every check that needs no GPU and no Ray, before anything is rented."""

from __future__ import annotations

from collections import Counter

from ribray.errors import RibrayError, SpecError, first_line
from ribray.spec.schema import Spec


def check_spec(spec: Spec, *, data: bool = True, weights: bool = True, storage: bool = True,
               build: bool = True) -> list[str]:
    """Raise SpecError listing every problem found; return notes on what was checked. `build`:
    also build each model random-init on the CPU to check every method and analysis on it."""
    spec.activate()
    problems: list[str] = []
    problems += _dataset_names(spec)
    problems += _registered_outside_plugins(spec)
    problems += _interpolations(spec)
    problems += _analysis_packages(spec)
    notes = [f"{len(spec.models)} model(s), {len(spec.methods)} method(s), "
             f"{len(spec.downstream)} downstream set(s), {len(spec.seeds)} seed(s)", *_plugin_notes(spec)]
    problems += _models(spec, weights, notes)
    if build and not problems:
        problems += _method_model_pairs(spec)
    if storage:
        problems += _storage(spec)
    if data and not any("dataset" in p for p in problems):
        data_problems, data_notes = _data(spec)
        problems += data_problems
        notes += data_notes
    if problems:  # a grid's variants may share a problem: once each
        from ribray.spec.overrides import name_overrides

        message = "the spec cannot run:\n  " + "\n  ".join(dict.fromkeys(problems))
        raise SpecError(name_overrides(message, spec._overrides))
    return notes


def _analysis_packages(spec: Spec) -> list[str]:
    """The packages the analyses' trials import, installed here (a trial would fail on a missing
    one only after its model's features were computed)."""
    from importlib.util import find_spec

    return [f"analyses.{kind}: needs {installs}; not installed here"
            for kind, block in spec.analyses.blocks()
            for module, installs in block.for_fidelity(spec.fidelity).packages_needed().items()
            if find_spec(module) is None]


def _registered_outside_plugins(spec: Spec) -> list[str]:
    """Entries the spec uses that code imported by hand registered (a launcher that imports a
    module, then runs ribray): the driver has them, Ray's workers would not."""
    from ribray.data import DATASETS
    from ribray.interpolations import INTERPOLATIONS
    from ribray.methods import METHODS
    from ribray.models import MODELS
    from ribray.registry import is_outside

    used = [(f"methods.{e.key}", METHODS, "method", e.name) for e in spec.methods.values()]
    used += [(f"interpolations.{e.key}", INTERPOLATIONS, "interpolation", e.name) for e in spec.interpolations.values()]
    used += [(f"models.{i}", MODELS, "model", m.name) for i, m in enumerate(spec.models) if m.name in MODELS]
    used += [("datasets", DATASETS, "dataset", name) for name in spec.datasets_read() if name in DATASETS]
    return [f"{path}: {what} {name!r} was registered by {registry.origin(name).removeprefix('module ')}, which the "
            "spec does not name under plugins:, so Ray's workers would not have it; add that module (or its file) "
            "to the spec's plugins:" for path, registry, what, name in used if is_outside(registry.origin(name))]


def _plugin_notes(spec: Spec) -> list[str]:
    """What each plugin is, and what a cluster needs of it."""
    notes = []
    for plugin in spec._plugins:
        if plugin.shipped:
            notes.append(f"{plugin.describe()}: travels with the sweep to every worker")
        else:
            notes.append(f"{plugin.describe()}: an installed module: install the same version on every node "
                         "of a cluster (workers check its code against the driver's)")
    notes += [f"dataset {name}: declared in the spec ({len(d.classes) if d.classes != 'all' else 1000} classes"
              f"{', one of the RI sets' if d.rib else ''})" for name, d in spec.datasets.items()]
    return notes


def _dataset_names(spec: Spec) -> list[str]:
    """Checked when a spec is read, and again here for specs built in code (model_copy)."""
    from ribray.spec.load import dataset_name_problems

    problems = dataset_name_problems("downstream", spec.downstream)
    return problems + (dataset_name_problems("eval_sets", spec.eval_sets) if spec.eval_sets != "default" else [])


def _interpolations(spec: Spec) -> list[str]:
    """Every method an interpolation reads is in the sweep and can be averaged with the
    pretrained weights; across-seed variants have their seeds; a held-out split is no eval set."""
    from ribray.methods import METHODS
    from ribray.spec.entries import expand_ingredient, expand_ingredients, interpolators

    problems, labels = [], list(spec.methods)
    for label, interpolation in interpolators(spec):
        name = spec.interpolations[label].key
        for pattern in interpolation.methods_read():
            path = f"interpolations.{name}.{_option_naming(interpolation.options, pattern)}"
            matched = expand_ingredient(pattern, labels)
            if not matched or not all(m in spec.methods for m in matched):
                listed = ", ".join(labels) or "none"
                problems.append(f"{path}: method {pattern!r} is not in the sweep's methods ({listed}); "
                                "add it under methods: (a pattern such as 'ft(*' matches a grid's labels)")
                continue
            for label in matched:
                method = METHODS.get(spec.methods[label].name)
                if not method.interpolatable:
                    reason = getattr(method, "not_interpolatable_reason", "")
                    problems.append(f"{path}: {label!r} cannot be interpolated with the pretrained weights"
                                    + (f": {reason}" if reason else ""))
        for variant in interpolation.variants():
            count = len(expand_ingredients(variant.ingredients, labels))
            if count < interpolation.min_ingredients:
                problems.append(f"interpolations.{name}.ingredients: {interpolation.name} needs at least "
                                f"{interpolation.min_ingredients} ingredients, and {list(variant.ingredients)} are {count}")
        if any(v.across_seeds for v in interpolation.variants()) and len(spec.seeds) < interpolation.min_seeds:
            problems.append(f"interpolations.{name}: {interpolation.name} combines the fine-tunes of "
                            f"{interpolation.min_seeds} or more seeds; the sweep has seeds {spec.seeds}")
        held_out = interpolation.held_out()
        if held_out is not None:
            problems += _held_out_problems(spec, f"interpolations.{name}.held_out", held_out.dataset)
    return problems


def _option_naming(options, method: str) -> str:
    """Which option of an interpolation names `method` (e.g. `of`, `ingredients.2`)."""
    for key, value in options.model_dump().items():
        if value == method:
            return key
        if isinstance(value, list) and method in value:
            return f"{key}.{value.index(method)}"
    return "ingredients"


def _held_out_problems(spec: Spec, path: str, dataset: str) -> list[str]:
    """A set read besides the downstream sets (a held-out split, a Fisher estimate's data) must be
    known, and neither evaluated nor fine-tuned on: its results would be chosen on, or leak into,
    the data they are reported on."""
    from ribray.data import DATASETS

    if dataset not in DATASETS:
        try:
            DATASETS.get(dataset)
        except RibrayError as error:
            return [f"{path}: {error}"]
    if dataset in spec.resolved_eval_sets() or dataset in spec.downstream:
        return [f"{path}: {dataset} is one of the sweep's eval or downstream sets; a set used to choose or "
                "estimate weights must be held out from the sets results are reported on"]
    return []


def _models(spec: Spec, weights: bool, notes: list[str]) -> list[str]:
    from ribray import models
    from ribray.models.resolve import is_offline, missing_weights

    problems, to_download = [], []
    for i, model in enumerate(spec.models):
        try:
            models.check_model_name(model.name)
            if weights:
                models.check_weights_available(model.name, model.pretrained, model.checkpoint)
        except RibrayError as error:
            problems.append(f"models.{i}: {error}")
            continue
        if weights and model.pretrained and model.checkpoint is None and not is_offline():
            problem = missing_weights(model.name)
            if problem:
                to_download.append((i, model.name, problem))
    if to_download:
        problems += _downloads(to_download, notes)
    return problems


def _downloads(missing: list[tuple[int, str, str]], notes: list[str]) -> list[str]:
    """Pretrained weights that are not cached: the trials download them if their servers answer
    (each asked once, within a few seconds): a note when they do, one problem per server that
    does not, naming the models it would have served."""
    from ribray.models import state_bytes
    from ribray.models.hub import server_problem
    from ribray.models.resolve import weights_advice, weights_url

    by_origin: dict[str, list[tuple[str, str]]] = {}  # server -> the models it serves: (name, as shown)
    problems, origins, unserved = [], {}, []
    for i, name, problem in missing:
        url = weights_url(name)
        if url is None:  # nowhere to download from (a file that is gone)
            problems.append(f"models.{i}: {problem}")
            continue
        size = state_bytes(name)
        origin = url.split("/", 3)[2]
        origins.setdefault(origin, url)
        by_origin.setdefault(origin, []).append(
            (name, f"models.{i} {name}" + (f" ({size / 2**20:,.0f} MiB)" if size else "")))
    for origin, served in by_origin.items():
        why, shown = server_problem(origins[origin]), ", ".join(text for _, text in served)
        if why is None:
            notes.append(f"pretrained weights not cached, downloaded from {origin} (it answers) by the first trial that "
                         f"builds each: {shown}")
        else:
            problems.append(f"models: pretrained weights not cached, and {why}: {shown}")
            unserved += [name for name, _ in served]
    if unserved:
        problems.append(f"models: {weights_advice(unserved)}")
    return problems


def _method_model_pairs(spec: Spec) -> list[str]:
    """Every method must be able to train every model: its own checks, then a forward pass of
    the model it prepares at the model's evaluation input size (what trials feed it), on a
    random-init model on the CPU; and the CKA layers must be modules of the model."""
    from ribray.methods import METHODS
    from ribray.models import build_model

    problems = []
    trained = spec.trained_methods()
    methods = {_where(entry): METHODS.get(entry.name)(entry.options) for entry in trained.values()}
    for where, method in sorted(methods.items()):
        problems += [p for dataset in method.datasets_read()
                     for p in _held_out_problems(spec, f"{where} (reads {dataset})", dataset)]
    for i, model in enumerate(spec.models):
        where = f"models.{i} ({model.resolved_label})"
        try:  # a checkpoint is read (never run: weights_only) and matched to the model, as in trials
            loaded = build_model(model.name, pretrained=False, checkpoint=model.checkpoint)
        except RibrayError as error:
            problems.append(f"{where}: {error}")
            continue
        forwarded: set = set()  # `prepare` implementations run once: most methods share the base one
        for path, method in sorted(methods.items()):
            try:
                method.check_model(loaded.module)
                if type(method).prepare not in forwarded:
                    _forward_prepared(method, loaded)
                    forwarded.add(type(method).prepare)
            except RibrayError as error:
                problems.append(f"{path} x {where}: {error}")
        if spec.analyses.cka is not None:
            from ribray.analysis.cka import resolve_layers

            try:
                resolve_layers(loaded.module, spec.analyses.cka.layers)
            except RibrayError as error:
                problems.append(f"analyses.cka.layers x {where}: {error}")
    return problems


def _where(entry) -> str:
    """A method's key path in the spec, with its label when the key alone does not name it."""
    return f"methods.{entry.key}" + (f" ({entry.label})" if entry.label != entry.key else "")


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
    from pathlib import Path

    from ribray.data.check import check_datasets

    names = spec.datasets_read()
    problems = []
    if not Path(spec.data.root).is_dir():  # one cause, said once, then what it means for each set
        under_root = [n for n in names if n not in spec.data.folders]
        if under_root:
            problems.append(_missing_root(spec.data.root, under_root))
        names = [n for n in names if n in spec.data.folders]
    results = check_datasets(spec.data.root, names, spec.data.folders)
    problems += [f"data: {r.name} at {r.path}: " + ("; ".join(r.problems) or "not found")
                 for r in results if not r.usable]
    notes = [f"data: {r.name}: {r.images} images at {r.path}" for r in results if r.usable]
    usable = {r.name for r in results if r.usable}
    return problems + _shots_problems(spec, [d for d in spec.downstream if d in usable]), notes


def _shots_problems(spec: Spec, downstream: list[str]) -> list[str]:
    """K images per class (`train_subsets: {shots_per_class: K}`) must fit in every class of
    each downstream set: a trial would fail on it (a smaller class is never clamped)."""
    from ribray.data import dataset_folder, get_dataset

    shots = max((s.shots_per_class for s in spec.train_subsets if s.shots_per_class), default=0)
    problems = []
    for name in downstream if shots else []:
        entry = get_dataset(name)
        sizes = Counter(sample.label for sample in entry.samples(dataset_folder(spec.data.root, name, spec.data.folders)))
        label, size = min(sizes.items(), key=lambda item: (item[1], item[0]))
        if size < shots:
            problems.append(f"train_subsets: shots_per_class={shots} is more than {name} has in its smallest "
                            f"class ({size} images, class {label}); use at most {size} shots per class there")
    return problems


def _missing_root(root: str, names: list[str]) -> str:
    """The data root is missing: which sets the sweep would have read from it, and where."""
    import os

    from ribray.data import dataset_folder

    where = [f"{name} ({os.path.relpath(dataset_folder(root, name), root)}/)" for name in names]
    return (f"data.root: {root} does not exist, so none of the {len(names)} set(s) the sweep reads from it can be "
            f"read: {', '.join(where)}. Put the sets there (`ribray data download-help` says where each comes from "
            "and its layout; `ribray data fake ROOT` writes small generated ones), set data.root to the folder that "
            "holds them, or give a set its own folder under data.folders")
