"""WiSE-FT and model soups: average finished weights, then evaluate. No training."""

from __future__ import annotations

from ribray.evaluate import evaluate
from ribray.interpolate import interpolate
from ribray.trials import register
from ribray.trials.common import Outcome, base_model, trial_device
from ribray.weights import load_weights


@register("interpolate")
def run(trial, context, run_log) -> Outcome:
    device = trial_device()
    loaded = base_model(trial)
    model = loaded.module
    pretrained = {k: v.detach().clone() for k, v in model.state_dict().items()}
    states = {name: pretrained if key is None else load_weights(context.weights, key)
              for name, key in trial.config["weights"].items()}
    model.load_state_dict(interpolate(states, trial.method, alpha=trial.config.get("alpha")))
    results = evaluate([model.to(device)], trial.config["eval_sets"], context,
                       loaded.data_config, device)[0]
    return Outcome(final=results)
