"""Evaluate the pretrained model itself: the reference A_pre of every RI."""

from __future__ import annotations

from ribray.evaluate import evaluate
from ribray.trials import register
from ribray.trials.common import Outcome, base_model, trial_device


@register("pretrained")
def run(trial, context, run_log) -> Outcome:
    device = trial_device()
    loaded = base_model(trial)
    model = loaded.module.to(device)
    results = evaluate([model], trial.config["eval_sets"], context, loaded.data_config, device)[0]
    return Outcome(final=results)
