"""The sweep spec as typed blocks: what a sweep runs, where it stores results, how it logs."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import Field, field_validator

from ribray.options import AnalysesOptions, CurvesOptions, EvalOptions, Strict, TrainOptions, TrainSubset


class ModelSpec(Strict):
    """A pretrained model: a registry or timm name, or `open_clip:ARCH/TAG`."""

    name: str
    pretrained: bool = Field(True, description="load pretrained weights (false: random init)")
    checkpoint: str | None = Field(None, description="local weights file to load instead of the hub's")


class MlflowSpec(Strict):
    tracking_uri: str | None = Field(None, description="null: a SQLite store beside the results")
    experiment: str | None = Field(None, description="null: the sweep's name")


class DataSpec(Strict):
    root: str = Field(description="folder holding one sub-folder per dataset")
    folders: dict[str, str] = Field(
        default_factory=dict, description="per-dataset folder, when not the default under root")


class ResourcesSpec(Strict):
    gpu: float = Field(1, ge=0, description="GPUs each trial claims")
    cpu: float = Field(8, gt=0, description="CPU cores each trial claims")


class Spec(Strict):
    """A whole sweep. Relative local paths are resolved against the spec file's folder."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    storage: str = "./runs"
    mlflow: MlflowSpec = MlflowSpec()
    data: DataSpec
    models: list[ModelSpec] = Field(min_length=1)
    downstream: list[str] = Field(min_length=1)
    eval_sets: Literal["default"] | list[str] = "default"
    methods: dict[str, Any] = Field(default_factory=dict)  # name -> the method's typed options
    interpolations: dict[str, Any] = Field(default_factory=dict)  # name -> its typed options
    train: TrainOptions = TrainOptions()
    eval: EvalOptions = EvalOptions()
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
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
