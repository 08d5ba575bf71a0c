"""The sweep spec as typed blocks: what a sweep runs, where it stores results, how it logs."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictInt, field_validator

from ribray.options import AnalysesOptions, CurvesOptions, EvalOptions, Strict, TrainOptions, TrainSubset


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


# A local path or an object-store URI (storage, data, a checkpoint): refused with credentials in it
PathOrUri = Annotated[str, AfterValidator(no_credentials)]


class ModelSpec(Strict):
    """A pretrained model: a registry or timm name, or `open_clip:ARCH/TAG`."""

    name: str
    pretrained: bool = Field(True, description="load pretrained weights (false: random init)")
    checkpoint: PathOrUri | None = Field(None, description="local weights file to load instead of the hub's")


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
    storage: PathOrUri = "./runs"
    mlflow: MlflowSpec = MlflowSpec()
    data: DataSpec
    models: list[ModelSpec] = Field(min_length=1)
    downstream: list[str] = Field(min_length=1)
    eval_sets: Literal["default"] | list[str] = "default"
    methods: dict[str, Any] = Field(default_factory=dict)  # name -> the method's typed options
    interpolations: dict[str, Any] = Field(default_factory=dict)  # name -> its typed options
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
    def _method_options(cls, methods: Any) -> Any:
        from ribray.methods import METHODS
        from ribray.spec.load import registry_options

        return registry_options(methods, METHODS, "methods", "method")

    @field_validator("interpolations", mode="before")
    @classmethod
    def _interpolation_options(cls, interpolations: Any) -> Any:
        from ribray.interpolations import INTERPOLATIONS
        from ribray.spec.load import registry_options

        return registry_options(interpolations, INTERPOLATIONS, "interpolations", "interpolation")

    def resolved_eval_sets(self) -> list[str]:
        """ImageNet-1K val plus every downstream set, unless the spec lists its own."""
        if self.eval_sets == "default":
            return ["imagenet_val", *[d for d in self.downstream if d != "imagenet_val"]]
        return list(self.eval_sets)

    def method_options(self, name: str):
        """The spec's options of a method, or the method's defaults when it is not listed."""
        from ribray.methods import METHODS

        return self.methods.get(name) or METHODS.get(name).Options()

    def spec_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
