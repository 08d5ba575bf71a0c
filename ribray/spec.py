"""The sweep spec: strict YAML mapped onto typed blocks, with errors that name the key's path."""

from __future__ import annotations

import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from ribray.config import (AnalysesConfig, CurvesConfig, EvalConfig, Strict, TrainConfig,
                           TrainSubset)
from ribray.errors import SpecError, did_you_mean
from ribray.methods import METHODS, MethodConfig


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


class WiseFtSpec(Strict):
    of: str = "ft"
    alphas: list[float] = Field(default_factory=lambda: [0.5], min_length=1)

    @field_validator("alphas")
    @classmethod
    def _in_unit_interval(cls, alphas: list[float]) -> list[float]:
        for alpha in alphas:
            if not 0.0 <= alpha <= 1.0:
                raise ValueError(f"alpha {alpha} is outside [0, 1]")
        return sorted(set(alphas))


class SoupSpec(Strict):
    ingredients: list[str] = Field(
        default_factory=lambda: ["pretrained", "ft", "ewc", "lwf"], min_length=2)


class InterpolationsSpec(Strict):
    wise_ft: WiseFtSpec | None = None
    soup: SoupSpec | None = None


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
    methods: dict[str, Any] = Field(default_factory=dict)
    interpolations: InterpolationsSpec = InterpolationsSpec()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    resources: ResourcesSpec = ResourcesSpec()
    retries: int = Field(3, ge=0, description="times a failed trial is retried from its checkpoint")
    curves: CurvesConfig | None = Field(None, description="evaluate after every epoch (learning curves)")
    train_subsets: list[TrainSubset] = Field(
        default_factory=lambda: [TrainSubset()], min_length=1,
        description="dataset-size axis: all, {shots_per_class: K} or {fraction: F}")
    analyses: AnalysesConfig = AnalysesConfig()

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

    @field_validator("methods", mode="before")
    @classmethod
    def _method_configs(cls, methods: Any) -> Any:
        return method_configs(methods)

    def resolved_eval_sets(self) -> list[str]:
        """ImageNet-1K val plus every downstream set, unless the spec lists its own."""
        if self.eval_sets == "default":
            return ["imagenet_val", *[d for d in self.downstream if d != "imagenet_val"]]
        return list(self.eval_sets)

    def method_config(self, name: str) -> MethodConfig:
        """The spec's config of a method, or the method's defaults when it is not listed."""
        return self.methods.get(name) or METHODS.get(name).Config()

    def spec_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def method_configs(methods: Any) -> dict[str, MethodConfig]:
    """Validate `methods:` entry by entry against each method's own typed config."""
    if methods is None:
        return {}
    if not isinstance(methods, dict):
        raise SpecError(f"methods: expected a mapping of method name to options, got {type(methods).__name__}")
    configs = {}
    for name, options in methods.items():
        if isinstance(options, MethodConfig):
            configs[name] = options
            continue
        method = METHODS.get(name) if name in METHODS else None
        if method is None:
            hint = did_you_mean(str(name), METHODS.names())
            hint = f"; did you mean {hint!r}?" if hint else ""
            raise SpecError(f"methods.{name}: unknown method{hint} (run `ribray methods` to list them)")
        try:
            configs[name] = method.Config.model_validate(options or {})
        except ValidationError as error:
            raise SpecError(format_validation_error(error, method.Config, prefix=("methods", name))) from None
    return configs


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; every problem becomes a SpecError naming the key."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"{path}: YAML syntax error{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping of keys (name, data, models, ...) at the top level")
    spec = parse_spec(raw, base_dir=path.resolve().parent)
    return spec


def parse_spec(raw: dict, base_dir: Path | None = None) -> Spec:
    """Validate a spec given as a dict; local paths are made absolute against base_dir."""
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as error:
        raise SpecError(format_validation_error(error, Spec)) from None
    return _absolute_paths(spec, base_dir or Path.cwd())


def _absolute_paths(spec: Spec, base_dir: Path) -> Spec:
    def resolve(p: str) -> str:
        if "://" in p:
            return p
        return str((base_dir / Path(p).expanduser()).resolve())

    data = spec.data.model_copy(update={
        "root": resolve(spec.data.root),
        "folders": {k: resolve(v) for k, v in spec.data.folders.items()}})
    models = [m.model_copy(update={"checkpoint": resolve(m.checkpoint)}) if m.checkpoint else m
              for m in spec.models]
    return spec.model_copy(update={"storage": resolve(spec.storage), "data": data, "models": models})


def format_validation_error(error: ValidationError, root: type[BaseModel], prefix: tuple = ()) -> str:
    """One line per problem: the key's dotted path, what is wrong, and a did-you-mean."""
    lines = []
    for item in error.errors():
        loc = prefix + tuple(item["loc"])
        path = ".".join(str(p) for p in loc)
        if item["type"] == "extra_forbidden":
            known = _keys_at(root, tuple(item["loc"])[:-1])
            guess = did_you_mean(str(loc[-1]), known)
            message = f"{path}: unknown key"
            message += f"; did you mean {'.'.join(str(p) for p in loc[:-1] + (guess,))!r}?" if guess else ""
            message += f" (valid keys here: {', '.join(sorted(known))})" if known else ""
        else:
            message = f"{path}: {item['msg']}"
            if item["type"] not in ("missing",) and "input" in item and not isinstance(item["input"], dict):
                message += f" (got {item['input']!r})"
        lines.append(message)
    return "invalid spec:\n  " + "\n  ".join(lines) if len(lines) > 1 else "invalid spec: " + lines[0]


def _keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names valid at `loc` inside `model` (walks nested blocks and lists)."""
    current: Any = model
    for part in loc:
        current = _strip(current)
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = field.annotation
    current = _strip(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _strip(annotation: Any) -> Any:
    """Unwrap Optional[X], list[X] and X | Literal down to the block type X."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        blocks = [a for a in typing.get_args(annotation)
                  if isinstance(_strip(a), type) and issubclass(_strip(a), BaseModel)]
        return _strip(blocks[0]) if blocks else annotation
    if origin is list:
        return _strip(typing.get_args(annotation)[0])
    return annotation
