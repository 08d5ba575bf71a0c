"""Typed option blocks of the sweep spec, shared by the spec, the plan and the registries.

Every block is strict (unknown keys are errors) and frozen; its field defaults are the
paper's settings. The spec (`ribray.spec`) composes them; methods and interpolations
declare their own options by subclassing `Strict`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ribray.fidelity import (
    REFERENCE,
    REFERENCE_EVAL_PRECISION,
    REFERENCE_OTDD,
    REFERENCE_TRAIN_PRECISION,
    RIBRAY,
    Fidelity,
)
from ribray.registry import Registry

# The pretrained model's name wherever a method, an ingredient or a table row is named.
PRETRAINED = "pretrained"
# Where a model's starting weights come from, as result rows record it (`model_weights`)
PRETRAINED_WEIGHTS, RANDOM_INIT, CHECKPOINT = "pretrained", "random init", "checkpoint"


class Strict(BaseModel):
    """Base for every spec block: unknown keys are errors, values are immutable."""

    # .inf / .nan are YAML floats: a learning rate of .inf trains a model into NaN
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Precision = Literal["auto", "bf16", "fp16", "fp32"]


class TrainOptions(Strict):
    """The paper's fine-tuning schedule (ImageNet-RIB, all methods)."""

    epochs: int = Field(10, ge=1, description="passes over the whole downstream set")
    batch_size: int = Field(64, ge=1)
    lr: float = Field(1.0e-3, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(196, ge=0, description="linear warm-up, then cosine per step")
    precision: Precision = Field("auto", description="auto: bf16 autocast on CUDA, fp32 on CPU")
    compile: bool | Literal["auto"] = Field(
        "auto", description="torch.compile the training forward; auto: on CUDA, eager where compiling fails")
    workers: int = Field(8, ge=0, description="data-loading worker processes per trial")

    def identity(self) -> dict:
        """The schedule as part of a fine-tune's identity. `compile: auto` (a speed setting)
        counts as ribray 0.1's default `false`, so the ids of earlier runs stay valid."""
        dumped = self.model_dump(mode="json")
        return dumped | {"compile": False} if self.compile == "auto" else dumped

    def for_fidelity(self, fidelity: Fidelity) -> TrainOptions:
        """The schedule a fine-tune runs under `fidelity`: `reference` trains in fp16 with a
        GradScaler, as the reference code (the spec refuses another precision with it)."""
        if fidelity == REFERENCE:
            return self.model_copy(update={"precision": REFERENCE_TRAIN_PRECISION})
        return self

    def merged(self, overrides: TrainOverrides | None) -> TrainOptions:
        """This schedule with a method's overrides applied."""
        if overrides is None:
            return self
        changes = overrides.model_dump(exclude_none=True)
        return self.model_copy(update=changes) if changes else self


class TrainOverrides(Strict):
    """Per-method changes to the sweep's training schedule (unset = the sweep's value)."""

    epochs: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    lr: float | None = Field(None, gt=0)
    momentum: float | None = Field(None, ge=0, lt=1)
    weight_decay: float | None = Field(None, ge=0)
    warmup_steps: int | None = Field(None, ge=0)
    precision: Precision | None = None
    compile: bool | Literal["auto"] | None = None


Decode = Literal["auto", "pil", "nvjpeg"]
LEGACY_DECODE = {"cpu": "pil", "gpu": "nvjpeg"}  # the names ribray 0.1 used


class EvaluationSettings(Strict):
    """What of evaluation changes the numbers, as the spec's `eval:` sets it."""

    decode: Decode = Field("auto", description=(
        "auto / pil: timm's eval transform exactly (PIL in worker processes, normalized on the "
        "device); nvjpeg: JPEGs decoded on the GPU, faster on few cores but not PIL's pixels"))
    precision: Precision = Field("auto", description="autocast dtype; auto: bf16 on CUDA, fp32 on CPU")
    limit_per_set: int | None = Field(
        None, ge=1, description="evaluate on a fixed random subset of this size (for quick looks)")

    @field_validator("decode", mode="before")
    @classmethod
    def _legacy_names(cls, decode):
        return LEGACY_DECODE.get(decode, decode)

    def decoder(self) -> str:
        """The decoder used: 'pil' (exact, the default) or 'nvjpeg'."""
        return "nvjpeg" if self.decode == "nvjpeg" else "pil"


class Evaluation(EvaluationSettings):
    """What of evaluation changes the numbers, with the spec's fidelity mode (`ribray.fidelity`):
    recorded in every trial that reads images, and part of its id when not the default (so
    changing it re-evaluates, never reuses)."""

    fidelity: Fidelity = RIBRAY

    def identity(self) -> dict:
        """The part of a trial's id: only what differs from the default."""
        found = {"decode": "nvjpeg"} if self.decoder() == "nvjpeg" else {}
        if self.precision != "auto":
            found["precision"] = self.precision
        if self.limit_per_set is not None:
            found["limit_per_set"] = self.limit_per_set
        if self.fidelity != RIBRAY:
            found["fidelity"] = self.fidelity
        return found


class EvalOptions(EvaluationSettings):
    """How evaluation runs: what changes the numbers (`Evaluation`), and what only changes
    its speed (batch size, worker processes)."""

    batch_size: int = Field(256, ge=1, description="independent of the training batch size")
    workers: int | Literal["auto"] = Field(
        "auto", description="decoding worker processes per trial; auto: the CPUs the trial claims")

    @field_validator("workers")
    @classmethod
    def _not_negative(cls, workers):
        if workers != "auto" and workers < 0:
            raise ValueError("workers must be 0 or more, or auto")
        return workers

    def evaluation(self, fidelity: Fidelity = RIBRAY) -> Evaluation:
        """What a trial's evaluation records; `fidelity: reference` evaluates in fp32 (the spec
        refuses another `eval.precision` with it)."""
        precision = REFERENCE_EVAL_PRECISION if fidelity == REFERENCE else self.precision
        return Evaluation(decode=self.decode, precision=precision, limit_per_set=self.limit_per_set,
                          fidelity=fidelity)


class CurvesOptions(Strict):
    """Learning curves: evaluate after every epoch (and before the first) during fine-tuning."""

    eval_sets: Literal["default"] | list[str] = Field(
        "default", description="default: the downstream set plus every other eval set")
    limit_per_set: int | None = Field(
        1000, ge=1, description="a fixed random subset of each set (per seed); null: all images")


class TrainSubset(Strict):
    """Fine-tune on part of the downstream set: K images per class, or a fraction of each class.
    Subsets are class-balanced, fixed per seed, and nested (2-shot contains 1-shot)."""

    shots_per_class: int | None = Field(None, ge=1)
    fraction: float | None = Field(None, gt=0, le=1)

    def label(self) -> str:
        """'all', 'shots=K' or 'fraction=F': the `train_subset` column of the results."""
        if self.shots_per_class is not None:
            return f"shots={self.shots_per_class}"
        return f"fraction={self.fraction:g}" if self.fraction is not None else "all"

    @classmethod
    def from_label(cls, label: str) -> TrainSubset:
        """The subset a `label()` names."""
        kind, _, value = label.partition("=")
        if kind == "shots":
            return cls(shots_per_class=int(value))
        if kind == "fraction":
            return cls(fraction=float(value))
        return cls()


class AnalysisOptions(Strict):
    """Base of a trial kind's options block (`Trial.Options`, the spec's `analyses.<kind>`)."""

    def datasets_read(self) -> list[str]:
        """Datasets its trials read besides the sweep's downstream and eval sets (validate checks them)."""
        return []

    def packages_needed(self) -> dict[str, str]:
        """{module: what installs it} that its trials import (validate checks they are installed)."""
        return {}

    def for_fidelity(self, fidelity: Fidelity) -> AnalysisOptions:
        """The options its trials run with under `fidelity` (the block itself unless it deviates)."""
        return self


class CkaOptions(AnalysisOptions):
    """Linear CKA between the pretrained and each fine-tuned model, per layer, on a probe set."""

    probe_set: str = "imagenet_val"
    probe_images: int = Field(512, ge=2)
    batch_size: int = Field(64, ge=2)
    layers: Literal["blocks"] | list[str] = Field(
        default_factory=lambda: ["blocks.5.mlp.fc2"], min_length=1,
        description="module names of the model (the paper: blocks.5.mlp.fc2 of a ViT-B/16); "
                    "'blocks': every block output")

    def datasets_read(self) -> list[str]:
        return [self.probe_set]

    @model_validator(mode="after")
    def _probe_fits_a_batch(self) -> CkaOptions:
        if self.probe_images < self.batch_size:
            raise ValueError(f"probe_images ({self.probe_images}) is smaller than one batch "
                             f"(batch_size {self.batch_size}): lower batch_size or raise probe_images")
        return self


class OtddOptions(AnalysisOptions):
    """Optimal-transport dataset distance between downstream sets in the pretrained features."""

    max_images: int = Field(2000, ge=2, description=(
        "per set: max_images // classes images of every class (a class-balanced subset, fixed)"))
    method: Literal["exact", "sinkhorn", "debiased_sinkhorn"] = Field("exact", description=(
        "exact: network simplex; sinkhorn: entropic OT, reg relative to the cost's scale; "
        "debiased_sinkhorn: the otdd library's estimator, by its solver geomloss (cost halved, reg absolute)"))
    reg: float = Field(0.1, gt=0)

    def datasets_read(self) -> list[str]:
        return ["imagenet_val"]  # the reference set its distances are measured to

    def packages_needed(self) -> dict[str, str]:
        needed = {"ot": "pot (pip install 'ribray[analysis]')"}
        if self.method == "debiased_sinkhorn":
            needed["geomloss"] = "geomloss (pip install 'ribray[analysis]'), the otdd library's solver"
        return needed

    def for_fidelity(self, fidelity: Fidelity) -> OtddOptions:
        """The estimator an OTDD trial runs under `fidelity`: `reference` uses the otdd library's
        defaults (debiased Sinkhorn, reg 0.1, up to 10,000 samples)."""
        return self.model_copy(update=REFERENCE_OTDD) if fidelity == REFERENCE else self


# The options class of every trial kind that has one, by kind (`Trial.Options`, registered with
# the kind): what the spec's `analyses.<kind>` blocks are validated against.
ANALYSES: Registry[type[AnalysisOptions]] = Registry("analysis")


class AnalysesOptions(Strict):
    """`analyses:`: one block per trial kind with options (absent or null: that kind plans no
    trial). The paper's analyses are typed fields, so that a spec reads them without the plan;
    a plugin kind's block is an extra key, validated against its registered `Options` (by
    the spec, `ribray.spec.schema`)."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    cka: CkaOptions | None = None
    otdd: OtddOptions | None = None

    def of(self, kind: str) -> AnalysisOptions | None:
        """The block of trial kind `kind`, or None."""
        return getattr(self, kind, None)

    def datasets_read(self) -> list[str]:
        """What every block's trials read besides the sweep's downstream and eval sets."""
        return [name for _, block in self.blocks() for name in block.datasets_read()]

    def blocks(self) -> list[tuple[str, AnalysisOptions]]:
        """(kind, options) of every kind that plans trials."""
        named = {"cka": self.cka, "otdd": self.otdd, **(self.model_extra or {})}
        return [(kind, block) for kind, block in named.items() if block is not None]
