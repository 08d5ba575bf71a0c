"""What an interpolation is: its options in the spec, the trials it asks for in each cell
(model, downstream set, seed, train subset), and how it combines the finished weights.

Inputs are state dicts of one architecture keyed alike (what interpolatable methods
`export`); floating tensors are combined, integer buffers (e.g. BatchNorm's
`num_batches_tracked`) are copied. No torch at import: `ribray methods` lists them.

Beyond one cell's weights, a variant may ask for every seed's fine-tunes of its methods
(`Variant.across_seeds`: one trial per cell without a seed, e.g. Model Stock), and an
interpolation may declare a held-out split (`held_out()`) on which it evaluates candidate
weights while it combines them (`InterpolationInputs.evaluate`, e.g. the greedy soup). A
held-out split is never one of the sweep's eval sets (`ribray validate` refuses that)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from ribray.errors import RibrayError
from ribray.options import PRETRAINED, Strict

if TYPE_CHECKING:
    import torch

State = dict[str, "torch.Tensor"]


class InterpolationOptions(Strict):
    """Options of one interpolation; subclasses add theirs with the paper's defaults."""


@dataclass(frozen=True)
class Variant:
    """One interpolation trial of a cell: the weights it combines, in order (method labels or
    `pretrained`; a label may be a pattern, `ft(*` matches every variant of a grid over ft),
    and its mixing weight when it has one (a table row per alpha). `across_seeds`: each method's
    fine-tunes of every seed of the sweep, in seed order (one trial for all seeds)."""

    ingredients: tuple[str, ...]
    alpha: float | None = None
    across_seeds: bool = False


@dataclass(frozen=True)
class HeldOut:
    """A held-out split an interpolation evaluates candidates on: a fixed, class-balanced subset
    of `images` images of `dataset` (never one of the sweep's eval sets)."""

    dataset: str
    images: int


@dataclass
class InterpolationInputs:
    """Everything `Interpolation.build` may use. `names[i]` names `states[i]`: its ingredient
    (and `#seed` across seeds). `evaluate(state)` is the top-1 (%) of those weights on the
    held-out split, when the interpolation declares one. `chosen` (optional) records which
    ingredients the result is made of (the `ingredients` column of its rows)."""

    names: list[str]
    states: list[State]
    pretrained: State
    alpha: float | None = None
    evaluate: Callable[[State], float] | None = None
    chosen: list[str] | None = None
    notes: dict[str, float] = field(default_factory=dict)  # logged to the trial's MLflow run


class Interpolation:
    """Combines finished weights without training: one subclass per file in
    ribray/interpolations, registered by name."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    # Its rows in a report without a spec, after the methods': ascending (the paper's WiSE-FT 10,
    # soup 20); interpolations without one after, by name.
    order: ClassVar[int | None] = None
    Options: ClassVar[type[InterpolationOptions]] = InterpolationOptions
    # Options that `variants()` already spells out (ingredients, alphas): the rest are part of
    # every trial's id (e.g. a greedy soup's held-out split).
    planned_options: ClassVar[tuple[str, ...]] = ()
    min_seeds: ClassVar[int] = 1  # seeds the sweep needs for this interpolation's across-seed variants
    min_ingredients: ClassVar[int] = 1  # ingredients a variant needs once patterns are expanded
    # Options each of whose values is a trial of its own, shown as its alpha (`wise_ft(0.5)`), not
    # in the label
    alpha_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: InterpolationOptions):
        self.options = options

    def variants(self) -> list[Variant]:
        """The trials this interpolation asks for in every cell."""
        raise NotImplementedError

    @staticmethod
    def combine(states: Sequence[State], alpha: float | None) -> State:
        """The weights of one variant from its ingredients' states, in the variant's order."""
        raise NotImplementedError

    def build(self, inputs: InterpolationInputs) -> State:
        """The weights of one trial; by default `combine(states, alpha)`. Override it to use more
        of the inputs (the held-out evaluation, the pretrained weights, the names)."""
        return self.combine(inputs.states, inputs.alpha)

    def held_out(self) -> HeldOut | None:
        """The held-out split `build` evaluates candidates on, if any."""
        return None

    def identity_options(self) -> dict:
        """The options a trial's id depends on beyond its ingredients and alpha."""
        dumped = self.options.model_dump(mode="json")
        return {k: v for k, v in dumped.items() if k not in self.planned_options}

    def methods_read(self) -> list[str]:
        """The fine-tuning methods whose weights the variants read, in order (no pretrained)."""
        names = (i for v in self.variants() for i in v.ingredients if i != PRETRAINED)
        return list(dict.fromkeys(names))


def check_compatible(states: dict[str, State]) -> None:
    """Same keys and shapes in every state, or an error saying which ones differ."""
    from ribray.models.state import state_mismatch

    (first_name, first), *others = states.items()
    for name, state in others:
        problem = state_mismatch(first, state, expected_name=repr(first_name), found_name=repr(name))
        if problem:
            raise RibrayError(f"cannot average {first_name!r} with {name!r}: their weights are not "
                              f"of one model ({problem})")


