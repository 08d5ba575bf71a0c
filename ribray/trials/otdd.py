"""OTDD between every pair of downstream sets, and from each to ImageNet-1K val (the
reference the report correlates with the ImageNet-1K accuracy drop), in the pretrained
model's feature space."""

from __future__ import annotations

from itertools import combinations

from ribray.data import short_name
from ribray.plan import OtddTrial
from ribray.trials import runs
from ribray.trials.common import Outcome, base_model, probe_batches
from ribray.trials.context import TrialContext


@runs(OtddTrial)
def run(trial: OtddTrial, ctx: TrialContext) -> Outcome:
    from ribray.analysis.features import extract_features
    from ribray.analysis.otdd import otdd

    device, options = ctx.device, trial.otdd
    loaded = base_model(trial)
    model = loaded.module.to(device).eval()
    features = {}
    for name in trial.sets():
        batches = probe_batches(ctx.sweep, name, loaded.data_config, device, ctx.sweep.eval.batch_size,
                                options.max_images, trial.evaluation, balanced=True)
        features[name] = extract_features(model, batches, device)
    reference = trial.reference_set
    pairs = list(combinations(trial.downstream_sets, 2))
    pairs += [(d, reference) for d in trial.downstream_sets if reference and d != reference]
    rows = []
    for first, second in pairs:
        distance = otdd(*features[first], *features[second], max_samples=options.max_images,
                        method=options.method, reg=options.reg)
        rows.append({"downstream": first, "eval_set": second, "value": float(distance)})
        ctx.run_log.log_metrics({f"otdd {short_name(first)}-{short_name(second)}": float(distance)})
    return Outcome(final=[], analysis=rows)
