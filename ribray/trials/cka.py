"""CKA between the pretrained model and a fine-tuned one, per layer, on a probe set."""

from __future__ import annotations

import torch

from ribray.config import CkaConfig
from ribray.trials import register
from ribray.trials.common import Outcome, base_model, probe_batches, trial_device
from ribray.weights import load_weights


@register("cka")
def run(trial, context, run_log) -> Outcome:
    from ribray.analysis.cka import MinibatchCKA, block_outputs, layer_names

    device = trial_device()
    config = CkaConfig(**trial.config["cka"])
    loaded = base_model(trial)
    pretrained = loaded.module.to(device).eval()
    finetuned = _finetuned(trial, context).to(device).eval()
    layers = layer_names(pretrained) if config.layers == "blocks" else list(config.layers)
    cka = MinibatchCKA(len(layers))
    batches = probe_batches(context, config.probe_set, loaded.data_config, device,
                            config.batch_size, config.probe_images, seed=trial.seed or 0)
    with torch.inference_mode():
        for images, *_ in batches:
            cka.update(block_outputs(pretrained, images, layers), block_outputs(finetuned, images, layers))
    values = cka.compute().tolist()
    run_log.log_metrics({f"cka/{layer}": value for layer, value in zip(layers, values)})
    return Outcome(final=[], analysis=[{"eval_set": config.probe_set, "layer": layer, "value": value}
                                       for layer, value in zip(layers, values)])


def _finetuned(trial, context):
    """The fine-tuned weights in a fresh base model: the plan only asks CKA of interpolatable
    methods, whose export is keyed like the pretrained model (LoRA merged)."""
    model = base_model(trial).module
    model.load_state_dict(load_weights(context.weights, trial.config["weights"]))
    return model
