"""Interpolations (WiSE-FT, soups): combine finished weights, then evaluate. No training."""

from __future__ import annotations

from ribray.interpolations import INTERPOLATIONS
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
    states = [pretrained if name == PRETRAINED else load_weights(ctx.sweep.weights, trial.weights[name])
              for name in trial.ingredients]
    model.load_state_dict(INTERPOLATIONS.get(trial.method).combine(states, trial.alpha))
    results = evaluate([model.to(ctx.device)], list(trial.eval_sets), ctx.sweep, loaded.data_config, ctx.device,
                       trial.evaluation)[0]
    return Outcome(final=results)
