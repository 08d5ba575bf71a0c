"""CKA between the pretrained model and a fine-tuned one, per layer, on a probe set."""

from __future__ import annotations

import torch

from ribray.plan import CkaTrial
from ribray.trials import runs
from ribray.trials.common import Outcome, base_model, probe_batches
from ribray.trials.context import TrialContext
from ribray.trials.weights import load_weights


@runs(CkaTrial)
def run(trial: CkaTrial, ctx: TrialContext) -> Outcome:
    from ribray.analysis.cka import MinibatchCKA, block_outputs, resolve_layers

    device, options = ctx.device, trial.cka
    loaded = base_model(trial)
    pretrained = loaded.module.to(device).eval()
    finetuned = _finetuned(trial, ctx).to(device).eval()
    layers = resolve_layers(pretrained, options.layers)
    cka = MinibatchCKA(len(layers))
    batches = probe_batches(ctx.sweep, options.probe_set, loaded.data_config, device,
                            options.batch_size, options.probe_images, trial.evaluation,
                            seed=trial.seed or 0)
    with torch.inference_mode():
        for images, *_ in batches:
            cka.update(block_outputs(pretrained, images, layers), block_outputs(finetuned, images, layers))
    values = cka.compute().tolist()
    ctx.run_log.log_metrics({f"cka {layer}": value for layer, value in zip(layers, values, strict=True)})
    return Outcome(final=[], analysis=[{"eval_set": options.probe_set, "layer": layer, "value": value}
                                       for layer, value in zip(layers, values, strict=True)])


def _finetuned(trial: CkaTrial, ctx: TrialContext):
    """The fine-tuned weights in a fresh base model: the plan only asks CKA of interpolatable
    methods, whose export is keyed like the pretrained model (LoRA merged)."""
    model = base_model(trial).module
    model.load_state_dict(load_weights(ctx.sweep.weights, trial.weights))
    return model
