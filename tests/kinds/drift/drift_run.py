"""The runner of the drift kind (`drift_kind.py`): the L2 norm of (fine-tuned - pretrained)
weights, one analysis row per trial."""

from __future__ import annotations

from drift_kind import DriftTrial

from ribray.trials import runs
from ribray.trials.common import Outcome, base_model
from ribray.trials.weights import load_weights


@runs(DriftTrial)
def run(trial: DriftTrial, ctx) -> Outcome:
    import torch

    pretrained = base_model(trial).module.state_dict()
    tuned = load_weights(ctx.sweep.weights, trial.weights)
    moved = torch.sqrt(sum(((tuned[k].float() - v.float()) ** 2).sum() for k, v in pretrained.items()))
    if trial.drift.relative:
        moved = moved / torch.sqrt(sum((v.float() ** 2).sum() for v in pretrained.values()))
    ctx.run_log.log_metrics({"drift": float(moved)})
    return Outcome(final=[], analysis=[{"eval_set": trial.downstream, "value": float(moved)}])
