"""Typed hyper-parameter blocks shared by the spec and the methods."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Base for every spec block: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Precision = Literal["auto", "bf16", "fp16", "fp32"]


class TrainConfig(Strict):
    """The paper's fine-tuning schedule (ImageNet-RIB, all methods)."""

    epochs: int = Field(10, ge=1, description="passes over the whole downstream set")
    batch_size: int = Field(64, ge=1)
    lr: float = Field(1.0e-3, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(196, ge=0, description="linear warm-up, then cosine per step")
    precision: Precision = Field("auto", description="auto: bf16 autocast on CUDA, fp32 on CPU")
    compile: bool = Field(False, description="torch.compile the model (CUDA only)")
    workers: int = Field(8, ge=0, description="data-loading worker processes per trial")

    def merged(self, overrides: TrainOverrides | None) -> TrainConfig:
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
    compile: bool | None = None


class EvalConfig(Strict):
    """How evaluation runs; it does not change any accuracy."""

    batch_size: int = Field(256, ge=1, description="independent of the training batch size")
    workers: int = Field(8, ge=0)
    decode: Literal["auto", "cpu", "gpu"] = Field(
        "auto", description="auto: JPEG decode on the GPU when the trial has one")
    limit_per_set: int | None = Field(
        None, ge=1, description="evaluate on a fixed random subset of this size (for quick looks)")
