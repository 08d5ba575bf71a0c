"""Evaluate the pretrained model itself: the reference A_pre of every RI."""

from __future__ import annotations

from ribray.plan import PretrainedTrial
from ribray.trials import runs
from ribray.trials.common import Outcome, base_model
from ribray.trials.context import TrialContext
from ribray.trials.evaluate import evaluate


@runs(PretrainedTrial)
def run(trial: PretrainedTrial, ctx: TrialContext) -> Outcome:
    loaded = base_model(trial)
    model = loaded.module.to(ctx.device)
    results = evaluate([model], list(trial.eval_sets), ctx.sweep, loaded.data_config, ctx.device,
                       trial.evaluation)[0]
    return Outcome(final=results)
