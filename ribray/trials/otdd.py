"""OTDD between every pair of downstream sets, and from each to ImageNet-1K val (the
reference the report correlates with the ImageNet-1K accuracy drop), in the pretrained
model's feature space."""

from __future__ import annotations

from itertools import combinations

from ribray.config import OtddConfig
from ribray.trials import register
from ribray.trials.common import Outcome, base_model, probe_batches, trial_device


@register("otdd")
def run(trial, context, run_log) -> Outcome:
    from ribray.analysis.features import extract_features
    from ribray.analysis.otdd import otdd

    device = trial_device()
    config = OtddConfig(**trial.config["otdd"])
    loaded = base_model(trial)
    model = loaded.module.to(device).eval()
    downstream = trial.config["downstream_sets"]
    reference = trial.config.get("reference_set")
    names = list(dict.fromkeys([*downstream, *([reference] if reference else [])]))
    features = {}
    for name in names:
        batches = probe_batches(context, name, loaded.data_config, device,
                                context.eval.batch_size, config.max_images)
        features[name] = extract_features(model, batches, device)
    rows = []
    pairs = list(combinations(downstream, 2))
    pairs += [(d, reference) for d in downstream if reference and d != reference]
    for first, second in pairs:
        distance = otdd(*features[first], *features[second], max_samples=config.max_images,
                        method=config.method, reg=config.reg)
        rows.append({"downstream": first, "eval_set": second, "value": float(distance)})
        run_log.log_metrics({f"otdd/{first}/{second}": float(distance)})
    return Outcome(final=[], analysis=rows)
