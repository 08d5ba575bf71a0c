"""Greedy soup (Wortsman et al. 2022, "Model soups", Algorithm 1): rank the candidate weights by
their accuracy on a held-out split; start the soup with the best; add each next candidate, in
that order, when the uniform average with it is at least as accurate on the held-out split as the
soup without it (the paper's >=; the authors' released script keeps a candidate only when the
accuracy strictly rises, which differs on ties only). The result is the uniform average of the
kept ingredients, one trial per cell (or, `across_seeds`, one per cell over every seed's fine-tunes).

The held-out split: a fixed, class-balanced subset (`held_out.images`, 1,000) of ImageNet-1K train
by default, which no trial evaluates on, as the paper holds out part of ImageNet's training set.
It must not be one of the sweep's eval sets (`ribray validate` refuses that): the soup would be
chosen on the data its results are then reported on."""

from __future__ import annotations

from pydantic import Field

from ribray.interpolations import register
from ribray.interpolations.base import HeldOut, Interpolation, InterpolationInputs, InterpolationOptions, State, Variant
from ribray.interpolations.soup import soup
from ribray.options import PRETRAINED, Strict


class HeldOutOptions(Strict):
    dataset: str = Field("imagenet_train", description="the held-out split's dataset (never an eval set)")
    images: int = Field(1000, ge=1, description="a fixed class-balanced subset of this many images")


class GreedySoupOptions(InterpolationOptions):
    ingredients: list[str] = Field(default_factory=lambda: [PRETRAINED, "ft", "ewc", "lwf"], min_length=1,
                                   description="candidates: pretrained and/or method labels (or patterns, ft(*)")
    across_seeds: bool = Field(False, description="candidates: each method's fine-tunes of every seed")
    held_out: HeldOutOptions = HeldOutOptions()


@register("greedy_soup")
class GreedySoup(Interpolation):
    summary = "add ingredients by held-out accuracy while the soup does not get worse (Wortsman et al. 2022)"
    Options = GreedySoupOptions
    planned_options = ("ingredients", "across_seeds")
    min_ingredients = 2

    def variants(self) -> list[Variant]:
        return [Variant(tuple(self.options.ingredients), across_seeds=self.options.across_seeds)]

    def held_out(self) -> HeldOut:
        return HeldOut(self.options.held_out.dataset, self.options.held_out.images)

    def build(self, inputs: InterpolationInputs) -> State:
        return greedy_soup(inputs)


def greedy_soup(inputs: InterpolationInputs) -> State:
    """Algorithm 1 of the paper on `inputs.states`, scored by `inputs.evaluate`; records the kept
    ingredients in `inputs.chosen` and every held-out accuracy in `inputs.notes`."""
    names, states, evaluate = inputs.names, inputs.states, inputs.evaluate
    accuracy = [evaluate(state) for state in states]
    inputs.notes |= {f"held-out top1 {name}": value for name, value in zip(names, accuracy, strict=True)}
    order = sorted(range(len(states)), key=lambda i: -accuracy[i])  # stable: ties keep the listed order
    kept, best, souped = [order[0]], accuracy[order[0]], states[order[0]]
    for i in order[1:]:
        candidate = soup([states[j] for j in (*kept, i)])
        score = evaluate(candidate)
        if score >= best:
            kept, best, souped = [*kept, i], score, candidate
    inputs.chosen = [names[i] for i in kept]
    inputs.notes["held-out top1 greedy soup"] = best
    return {key: value.clone() for key, value in souped.items()} if len(kept) == 1 else souped
