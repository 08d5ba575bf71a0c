"""Evaluation counts exactly: per part (ImageNet-C's corruption/severity) and in all, for every
model scored on the shared batches, with the input's decoder and precision recorded."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from ribray.data import get_dataset
from ribray.options import EvalOptions, Evaluation
from ribray.trials.context import SweepContext
from ribray.trials.evaluate import evaluate

CONFIG = {"input_size": (3, 16, 16), "interpolation": "bilinear", "mean": (0.5, 0.5, 0.5),
          "std": (0.5, 0.5, 0.5), "crop_pct": 1.0, "crop_mode": "center"}


class Constant(torch.nn.Module):
    """Predicts ImageNet class `index` for every image (1000 logits)."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def forward(self, images):
        logits = torch.zeros(images.shape[0], 1000)
        logits[:, self.index] = 1.0
        return logits


def test_counts_per_part_and_imagenet_c_mean_of_means(tmp_path):
    entry = get_dataset("imagenet_c")
    wnids = entry.wnids()[:2]  # classes 0 and 1
    layout = {("gaussian_noise", 1): [0, 0, 1], ("gaussian_noise", 2): [0, 1], ("fog", 5): [1, 1, 1, 0]}
    for (corruption, severity), labels in layout.items():
        for n, label in enumerate(labels):
            folder = tmp_path / "imagenet-c" / corruption / str(severity) / wnids[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (20, 20), (n * 30, 0, 0)).save(folder / f"{n}.JPEG")
    sweep = SweepContext(sweep="s", spec_hash="h", sweep_dir=str(tmp_path / "runs"), data_root=str(tmp_path),
                         eval=EvalOptions(batch_size=3, workers=0))
    always_0, always_1 = evaluate([Constant(0), Constant(1)], ["imagenet_c"], sweep, CONFIG,
                                  torch.device("cpu"), Evaluation())
    zero = always_0[0]
    parts = {p["part"]: (p["correct"], p["n_images"]) for p in zero.parts}
    assert parts == {"gaussian_noise/1": (2, 3), "gaussian_noise/2": (1, 2), "fog/5": (1, 4)}
    assert (zero.correct, zero.n_images) == (4, 9)
    # mean over corruptions of the mean over severities: noise (2/3 + 1/2) / 2, fog 1/4
    assert zero.top1 == pytest.approx(100 * ((2 / 3 + 1 / 2) / 2 + 1 / 4) / 2)
    assert (always_1[0].correct, always_1[0].n_images) == (5, 9)
    assert (zero.decode, zero.precision) == ("pil", "fp32")


def test_one_unreadable_image_is_counted_out_a_mostly_unreadable_set_fails_with_the_count(tmp_path):
    from ribray.errors import PermanentError

    entry = get_dataset("imagenet_r")
    folder = tmp_path / "imagenet-r" / entry.wnids()[0]
    folder.mkdir(parents=True)
    for n in range(3):
        Image.new("RGB", (20, 20), (n * 30, 0, 0)).save(folder / f"{n}.jpg")
    (folder / "broken.jpg").write_bytes(b"not an image")
    sweep = SweepContext(sweep="s", spec_hash="h", sweep_dir=str(tmp_path / "runs"), data_root=str(tmp_path),
                         eval=EvalOptions(batch_size=2, workers=0))
    [[result]] = evaluate([Constant(0)], ["imagenet_r"], sweep, CONFIG, torch.device("cpu"), Evaluation())
    assert result.n_images == 3
    for n in range(3):
        (folder / f"{n}.jpg").write_bytes(b"truncated")
    Image.new("RGB", (20, 20)).save(folder / "whole.jpg")
    with pytest.raises(PermanentError, match=r"imagenet_r: 4 of 5 images could not be read \(e\.g\. .*0\.jpg"):
        evaluate([Constant(0)], ["imagenet_r"], sweep, CONFIG, torch.device("cpu"), Evaluation())
