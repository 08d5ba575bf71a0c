"""The sweep spec as typed blocks: what a sweep runs, where it stores results, how it logs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PrivateAttr, StrictInt, field_serializer, field_validator, model_validator

from ribray import fidelity as fidelities
from ribray.data.declared import DatasetDeclaration
from ribray.fidelity import RIBRAY, Fidelity
from ribray.options import PRETRAINED, AnalysesOptions, CurvesOptions, EvalOptions, Strict, TrainOptions, TrainSubset
from ribray.spec.entries import LABEL, MAX_LABEL, Entry, as_written, is_grid, with_options


def no_credentials(uri: str) -> str:
    """Storage and data URIs travel into trial configs, tags and logs: no secrets in them."""
    from ribray.secrets import has_credentials, redact

    if has_credentials(uri):
        raise ValueError(f"{redact(uri)} holds credentials (user:password@ or a secret option); they would "
                         "be copied into trial configs and logs. Give them to the storage client by its "
                         "environment instead (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
                         "GOOGLE_APPLICATION_CREDENTIALS) or an instance role (an @ that is part of a path "
                         "is written %40)")
    return uri


NAME_MAX = 255  # bytes in one file or folder name (ext4, XFS, btrfs, APFS; NTFS: 255 characters)
MAX_SWEEP_NAME = 100  # the sweep's folder: well under NAME_MAX, room for what is added to it


def fits_file_system(path: str) -> str:
    """A local path whose every folder and file name the file system takes (validate says so,
    not the sweep's first mkdir: "File name too long")."""
    for part in path.split("/") if "://" not in path else ():
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > NAME_MAX:
            raise ValueError(f"the name {part[:24]!r}... in this path is {size} bytes long; file systems "
                             f"refuse names over {NAME_MAX} bytes")
    return path


# A local path or an object-store URI (storage, data, a checkpoint): refused with credentials in
# it, or with a name in it that no file system takes
PathOrUri = Annotated[str, AfterValidator(no_credentials), AfterValidator(fits_file_system)]


class ModelSpec(Strict):
    """A pretrained model: a registry or timm name, or `open_clip:ARCH/TAG`; `label` is its name in
    tables, runs and rows (default: the name, with `pretrained` / `checkpoint` when set)."""

    name: str
    label: str | None = Field(None, pattern=LABEL.pattern, max_length=MAX_LABEL,
                              description="its name in tables (default: name(checkpoint=file) etc.)")
    pretrained: bool = Field(True, description="load pretrained weights (false: random init)")
    checkpoint: PathOrUri | None = Field(None, description="local weights file to load instead of the hub's")

    @property
    def resolved_label(self) -> str:
        """The label given, or the name with the settings that differ from the defaults."""
        if self.label:
            return self.label
        changed = [("pretrained", False)] if not self.pretrained else []
        changed += [("checkpoint", Path(self.checkpoint).name)] if self.checkpoint else []
        return with_options(self.name, changed)


class MlflowSpec(Strict):
    tracking_uri: str | None = Field(
        None, description="null: a SQLite store beside the results; http://user:password@host moves the "
                          "credentials to MLFLOW_TRACKING_USERNAME / _PASSWORD")
    experiment: str | None = Field(None, description="null: the sweep's name")


class DataSpec(Strict):
    root: PathOrUri = Field(description="folder holding one sub-folder per dataset")
    folders: dict[str, PathOrUri] = Field(
        default_factory=dict, description="per-dataset folder, when not the default under root")

    @field_validator("folders")
    @classmethod
    def _known_folders(cls, folders: dict[str, str]) -> dict[str, str]:
        from ribray.spec.load import dataset_name_problems, report_problems

        if problems := dataset_name_problems("data.folders", list(folders), by_name=True):
            report_problems(problems)
        return folders


class ResourcesSpec(Strict):
    gpu: float = Field(1, ge=0, description="GPUs each trial claims")
    cpu: float = Field(8, gt=0, description="CPU cores each trial claims")


class Spec(Strict):
    """A whole sweep. Relative local paths are resolved against the spec file's folder."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    plugins: list[str] = Field(default_factory=list, description=(
        "modules, .py files or folders (relative to the spec) registering methods, models, datasets, "
        "interpolations: ribray.api"))
    storage: PathOrUri = "./runs"
    mlflow: MlflowSpec = MlflowSpec()
    data: DataSpec
    datasets: dict[str, DatasetDeclaration] = Field(default_factory=dict, description=(
        "datasets declared without code: {name: {folder, classes, rib}} in the wnid-folder layout"))
    models: list[ModelSpec] = Field(min_length=1)
    downstream: list[str] = Field(min_length=1)
    eval_sets: Literal["default"] | list[str] = "default"
    methods: dict[str, Any] = Field(default_factory=dict)  # label -> Entry (spec/entries.py)
    interpolations: dict[str, Any] = Field(default_factory=dict)  # label -> Entry
    train: TrainOptions = TrainOptions()
    eval: EvalOptions = EvalOptions()
    seeds: list[StrictInt] = Field(default_factory=lambda: [0], min_length=1)  # `true` is not seed 1
    resources: ResourcesSpec = ResourcesSpec()
    retries: int = Field(3, ge=0, description="times a failed trial is retried from its checkpoint")
    curves: CurvesOptions | None = Field(None, description="evaluate after every epoch (learning curves)")
    train_subsets: list[TrainSubset] = Field(
        default_factory=lambda: [TrainSubset()], min_length=1,
        description="dataset-size axis: all, {shots_per_class: K} or {fraction: F}")
    analyses: AnalysesOptions = AnalysesOptions()
    fidelity: Fidelity = Field(RIBRAY, description=(
        "ribray: ribray's corrected behaviour; reference: the reference code's (fp32 evaluation, fp16 + "
        "GradScaler training, its ObjectNet scoring, ResNet-50 at 256 px, OTDD's library defaults)"))
    # the plugins `plugins:` resolved to, their code captured (ribray.plugins.Plugin)
    _plugins: tuple = PrivateAttr(default=())
    # the command line's overrides applied to the file (ribray.spec.overrides.Override), for messages
    _overrides: tuple = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _train_grids(cls, raw: Any) -> Any:
        """A grid in `train:` makes every method a grid over it (a method's own `train:` value of
        that option wins): `train: {lr: {grid: [...]}}` gives ft(lr=...), lp(lr=...), ..."""
        if not isinstance(raw, dict) or not isinstance(raw.get("train"), dict):
            return raw
        grids = {k: v for k, v in raw["train"].items() if is_grid(v)}
        if not grids or not isinstance(raw.get("methods"), dict):
            return raw
        methods = {}
        for key, options in raw["methods"].items():
            if isinstance(options, dict) or options is None:
                options = dict(options or {})
                options["train"] = {**grids, **(options.get("train") or {})}
            methods[key] = options
        return {**raw, "train": {k: v for k, v in raw["train"].items() if k not in grids}, "methods": methods}

    @field_validator("datasets", mode="before")
    @classmethod
    def _named_datasets(cls, datasets: Any) -> Any:
        if isinstance(datasets, dict):
            return {k: v if isinstance(v, DatasetDeclaration) else {**(v or {}), "name": k} for k, v in datasets.items()}
        return datasets

    @field_validator("name")
    @classmethod
    def _name_fits_a_folder(cls, name: str) -> str:
        if len(name) > MAX_SWEEP_NAME:
            raise ValueError(f"{len(name)} characters; at most {MAX_SWEEP_NAME}: it names the sweep's folder "
                             f"under storage (file systems refuse names over {NAME_MAX} bytes)")
        return name

    @field_validator("models", mode="before")
    @classmethod
    def _names_as_models(cls, models: Any) -> Any:
        if isinstance(models, list):
            return [{"name": m} if isinstance(m, str) else m for m in models]
        return models

    @field_validator("train_subsets", mode="before")
    @classmethod
    def _all_as_subset(cls, subsets: Any) -> Any:
        if isinstance(subsets, list):
            return [{} if s == "all" else s for s in subsets]
        return subsets

    @field_validator("train_subsets")
    @classmethod
    def _one_size_each(cls, subsets: list[TrainSubset]) -> list[TrainSubset]:
        for subset in subsets:
            if subset.shots_per_class is not None and subset.fraction is not None:
                raise ValueError("give shots_per_class or fraction, not both")
        return subsets

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        repeated = sorted({s for s in seeds if seeds.count(s) > 1})
        if repeated:
            raise ValueError(f"seed {repeated[0]} is listed twice (its trials would count twice)")
        return seeds

    @field_validator("eval_sets")
    @classmethod
    def _some_eval_sets(cls, eval_sets: Any) -> Any:
        if eval_sets == []:
            raise ValueError("an empty list evaluates nothing (every trial would store 0 rows); leave "
                             "eval_sets out for ImageNet-1K val + every downstream set")
        return eval_sets

    @field_validator("downstream", "eval_sets")
    @classmethod
    def _known_datasets(cls, names: Any, info) -> Any:
        from ribray.spec.load import dataset_name_problems, report_problems

        if isinstance(names, list) and (problems := dataset_name_problems(info.field_name, names)):
            report_problems(problems)
        return names

    @field_validator("methods", mode="before")
    @classmethod
    def _method_entries(cls, methods: Any) -> Any:
        from ribray.methods import METHODS
        from ribray.spec.load import registry_entries

        return registry_entries(methods, METHODS, "methods", "method")

    @field_validator("interpolations", mode="before")
    @classmethod
    def _interpolation_entries(cls, interpolations: Any) -> Any:
        from ribray.interpolations import INTERPOLATIONS
        from ribray.spec.load import registry_entries

        return registry_entries(interpolations, INTERPOLATIONS, "interpolations", "interpolation")

    @field_validator("analyses", mode="before")
    @classmethod
    def _kind_blocks(cls, analyses: Any) -> Any:
        from ribray.spec.load import analyses_blocks

        return analyses_blocks(analyses)

    @field_serializer("methods", "interpolations")
    def _as_written(self, entries: dict[str, Entry], info) -> dict[str, Any]:
        """As a spec writes them (grids expanded): what spec.yaml and the spec hash hold."""
        return as_written(entries.values(), "method" if info.field_name == "methods" else "interpolation")

    @model_validator(mode="after")
    def _distinct_labels(self) -> Spec:
        """Every row of the tables has one name: methods, interpolations and models alike."""
        from ribray.spec.load import report_problems

        problems = [f"interpolations.{label}: {label!r} is also a method's label; give one of them another"
                    for label in self.interpolations if label in self.methods]
        problems += [f"{key}.{PRETRAINED}: {PRETRAINED!r} is the pretrained model's row; give it another label"
                     for key, entries in (("methods", self.methods), ("interpolations", self.interpolations))
                     if PRETRAINED in entries]
        labels = [m.resolved_label for m in self.models]
        identities = [(m.name, m.pretrained, m.checkpoint) for m in self.models]
        for i in range(len(self.models)):
            if identities[i] in identities[:i]:
                problems.append(f"models.{i}: the same model as models.{identities.index(identities[i])} "
                                "(name, pretrained and checkpoint): its trials would be one trial twice")
            elif labels[i] in labels[:i]:
                problems.append(f"models.{i}: the label {labels[i]!r} is also models.{labels.index(labels[i])}'s; "
                                "give each a label: of its own")
        if problems:
            report_problems(problems)
        return self

    @model_validator(mode="after")
    def _fidelity_agrees(self) -> Spec:
        """`fidelity: reference` sets precisions and the OTDD estimator; a value the spec sets itself
        that contradicts it is refused (the results would claim the reference's behaviour)."""
        from ribray.spec.load import report_problems

        if self.fidelity != fidelities.REFERENCE:
            return self
        why = "contradicts fidelity: reference (ribray.fidelity); remove it, or set fidelity: ribray"
        problems = []
        if self.eval.precision not in ("auto", fidelities.REFERENCE_EVAL_PRECISION):
            problems.append(f"eval.precision: {self.eval.precision} {why} (it evaluates in fp32)")
        trains = [("train", self.train.precision)]
        trains += [(f"methods.{label}.train", getattr(entry.options.train, "precision", None))
                   for label, entry in self.methods.items() if getattr(entry.options, "train", None)]
        problems += [f"{key}.precision: {value} {why} (it trains in fp16 with a GradScaler)"
                     for key, value in trains if value not in (None, "auto", fidelities.REFERENCE_TRAIN_PRECISION)]
        otdd = self.analyses.otdd
        if otdd is not None:
            problems += [f"analyses.otdd.{key}: {getattr(otdd, key)} {why} (the otdd library's default is {value})"
                         for key, value in fidelities.REFERENCE_OTDD.items()
                         if key in otdd.model_fields_set and getattr(otdd, key) != value]
        if problems:
            report_problems(problems)
        return self

    def evaluation(self):
        """What every trial's evaluation records (`ribray.options.Evaluation`), in this spec's fidelity."""
        return self.eval.evaluation(self.fidelity)

    def resolved_eval_sets(self) -> list[str]:
        """ImageNet-1K val plus every downstream set, unless the spec lists its own."""
        if self.eval_sets == "default":
            return ["imagenet_val", *[d for d in self.downstream if d != "imagenet_val"]]
        return list(self.eval_sets)

    def datasets_read(self) -> list[str]:
        """Every dataset the sweep's trials read: the downstream and eval sets, the learning curves'
        and analyses' sets, and what methods and interpolations read besides (a held-out split, a
        Fisher estimate's data)."""
        from ribray.methods import METHODS
        from ribray.spec.entries import interpolators

        names = [*self.downstream, *self.resolved_eval_sets()]
        if self.curves is not None and self.curves.eval_sets != "default":
            names += self.curves.eval_sets
        names += self.analyses.datasets_read()
        for entry in self.trained_methods().values():
            names += METHODS.get(entry.name)(entry.options).datasets_read()
        names += [i.held_out().dataset for _, i in interpolators(self) if i.held_out() is not None]
        return list(dict.fromkeys(names))

    def trained_methods(self) -> dict[str, Entry]:
        """Every method the sweep fine-tunes, by label: the spec's, and those they start from (LP
        for LP-FT, where the spec lists no LP)."""
        from ribray.methods import METHODS
        from ribray.spec.entries import start_label

        found = dict(self.methods)
        for label, entry in self.methods.items():
            starts_from = METHODS.get(entry.name).starts_from
            if starts_from:
                first = start_label(self, label, starts_from)
                found.setdefault(first, self.method_entry(first))
        return found

    def method_entry(self, label: str) -> Entry:
        """The spec's method of this label, or the registered method of that name with the paper's
        options (what LP-FT starts from when the spec lists no LP)."""
        from ribray.methods import METHODS

        if label in self.methods:
            return self.methods[label]
        return Entry(label, label, METHODS.get(label).Options(), label)

    def method_options(self, label: str):
        """The options of the method of this label (see `method_entry`)."""
        return self.method_entry(label).options

    def activate(self) -> None:
        """Make this spec's plugins and declared datasets this process's (ribray.plugins.activate)."""
        from ribray.plugins import activate

        activate(self._plugins, {f"datasets.{name}": d for name, d in self.datasets.items()})

    def spec_hash(self) -> str:
        dumped = self.model_dump(mode="json")
        for key in ("plugins", "datasets"):  # fields newer than 0.2: a spec without them hashes as before
            if not dumped[key]:
                del dumped[key]
        if dumped["fidelity"] == RIBRAY:  # newer than 0.2: a spec without it hashes as before
            del dumped["fidelity"]
        for model in dumped["models"]:
            if model["label"] is None:
                del model["label"]
        canonical = json.dumps(dumped, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
