"""Interpolations (WiSE-FT, soups, Model Stock): combine finished weights, then evaluate. No
training; an interpolation that declares a held-out split evaluates candidates on it first."""

from __future__ import annotations

from ribray.interpolations import InterpolationInputs
from ribray.options import PRETRAINED
from ribray.plan import InterpolateTrial
from ribray.trials import runs
from ribray.trials.common import Outcome, base_model
from ribray.trials.context import TrialContext
from ribray.trials.evaluate import evaluate
from ribray.trials.weights import load_weights


@runs(InterpolateTrial)
def run(trial: InterpolateTrial, ctx: TrialContext) -> Outcome:
    loaded = base_model(trial)
    model = loaded.module
    pretrained = {k: v.detach().clone() for k, v in model.state_dict().items()}
    interpolation = trial.interpolation()
    states = [pretrained if name == PRETRAINED else load_weights(ctx.sweep.weights, trial.weights[name])
              for name in trial.ingredients]
    inputs = InterpolationInputs(names=list(trial.ingredients), states=states, pretrained=pretrained,
                                 alpha=trial.alpha, evaluate=_held_out_evaluation(trial, ctx, model, loaded))
    model.load_state_dict(interpolation.build(inputs))
    if inputs.notes:
        ctx.run_log.log_metrics(inputs.notes)
    results = evaluate([model.to(ctx.device)], list(trial.eval_sets), ctx.sweep, loaded.data_config, ctx.device,
                       trial.evaluation)[0]
    chosen = {"ingredients": ",".join(inputs.chosen)} if inputs.chosen is not None else {}
    return Outcome(final=results, row_fields=chosen)


def _held_out_evaluation(trial: InterpolateTrial, ctx: TrialContext, model, loaded):
    """top-1 (%) of given weights on the interpolation's held-out split (a fixed class-balanced
    subset, the trial's decoder and precision), or None when it declares none."""
    held_out = trial.interpolation().held_out()
    if held_out is None:
        return None
    subset = trial.evaluation.model_copy(update={"limit_per_set": held_out.images})

    def top1(state) -> float:
        model.load_state_dict(state)
        return evaluate([model.to(ctx.device)], [held_out.dataset], ctx.sweep, loaded.data_config, ctx.device,
                        subset, balanced=True)[0][0].top1

    return top1
