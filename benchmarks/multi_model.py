"""Scoring k models per decoded batch (WiSE-FT alphas, a soup and its ingredients): ribray's
evaluation takes a list of models and decodes each batch once for all of them. Measured as
model-images/s (k x images / seconds) against one model's forward-only speed, and against
k separate evaluation passes (which decode everything k times)."""

from __future__ import annotations

from pathlib import Path

import torch

from benchmarks.device import build_model
from benchmarks.eval_speed import ribray_eval
from benchmarks.jpeg_files import JpegKind
from benchmarks.results import Check, Section, ratio
from benchmarks.sizes import Sizes

TARGET_VS_FORWARD = 0.9


def measure(kind: JpegKind, folder: Path, forward_images_per_s: float, sizes: Sizes,
            device: torch.device) -> Section:
    """k differently initialized models (stand-ins for k interpolated weights) on one set."""
    k = sizes.models_per_batch
    built = [build_model(sizes, seed=i) for i in range(k)]
    models, data_config = [m.to(device).eval() for m, _ in built], built[0][1]
    together, images = ribray_eval(models, kind.dataset, folder, data_config, sizes, device)
    apart = sum(ribray_eval([m], kind.dataset, folder, data_config, sizes, device)[0] for m in models)
    shared = k * images / together
    separate = k * images / apart
    numbers = {"set": kind.name, "models": k, "images": images,
               "shared_model_images_per_s": shared, "separate_model_images_per_s": separate,
               "forward_only_images_per_s": forward_images_per_s}
    return Section("multi_model", numbers, [
        Check(f"eval k={k} models: model-images/s / forward-only",
              ratio(shared, forward_images_per_s), TARGET_VS_FORWARD),
        Check(f"eval k={k} models: shared decode / {k} separate passes", ratio(shared, separate),
              None, note="reported, no target"),
    ])
