"""Loading: the exact PIL path and the opt-in nvJPEG path agree closely; unreadable files are
left out, never crash a trial; training order is fixed per seed. (Exactness against timm:
test_exact_input.py.)"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ribray.data import get_dataset
from ribray.data.tensors.loading import ImageFiles, iter_eval_batches, pixel_transform, train_loader

CONFIG_224 = {"input_size": (3, 224, 224), "interpolation": "bicubic", "mean": (0.485, 0.456, 0.406),
              "std": (0.229, 0.224, 0.225), "crop_pct": 0.875, "crop_mode": "center"}
CONFIG_32 = {"input_size": (3, 32, 32), "interpolation": "bilinear", "mean": (0.5, 0.5, 0.5),
             "std": (0.5, 0.5, 0.5), "crop_pct": 0.9}
SIZES = [(180, 240), (240, 180), (150, 150), (120, 90), (64, 200), (180, 240)]


def photo(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth gradients plus mild noise: resampling behaves as on photos."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    pixels = np.stack([np.sin(7 * x + seed), np.cos(5 * y), np.sin(3 * (x + y) + seed)], -1) * 110 + 128
    return np.clip(pixels + rng.normal(0, 8, pixels.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """ImageNet val layout, 4 classes x 6 JPEGs of varied sizes, one grayscale, one CMYK."""
    root = tmp_path_factory.mktemp("photos")
    entry = get_dataset("imagenet_val")
    for label, wnid in enumerate(entry.wnids()[:4]):
        (root / wnid).mkdir()
        for i, (height, width) in enumerate(SIZES):
            image = Image.fromarray(photo(height, width, seed=10 * label + i))
            if (label, i) == (1, 2):
                image = image.convert("L")
            if (label, i) == (2, 3):
                image = image.convert("CMYK")
            image.save(root / wnid / f"{wnid}_{i}.JPEG", quality=90)
    return root


def batches_of(entry, folder, config, decode, **kwargs):
    batches = iter_eval_batches(entry, folder, config, batch_size=5, device="cpu", decode=decode, **kwargs)
    images, labels, parts = zip(*batches, strict=True)
    return torch.cat(images), torch.cat(labels), torch.cat(parts), batches


@pytest.mark.parametrize("config", [CONFIG_224, CONFIG_32], ids=["224-bicubic", "32-bilinear"])
def test_device_decode_matches_the_pil_path(photos, config):
    entry = get_dataset("imagenet_val")
    pil, pil_labels, _, pil_batches = batches_of(entry, photos, config, "pil")
    dev, dev_labels, _, dev_batches = batches_of(entry, photos, config, "nvjpeg")
    assert type(dev_batches).__name__ == "DeviceBatches"  # not a silent fallback
    assert pil.shape == dev.shape == (24, 3, *config["input_size"][1:])
    assert torch.equal(pil_labels, dev_labels)
    difference = (pil - dev).abs()
    assert difference.mean() < 2e-3, difference.mean()
    assert difference.mean(dim=(1, 2, 3)).max() < 1e-2  # no image is off, grayscale and CMYK too
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 5, stride=4), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(32, 1000))
    with torch.no_grad():
        assert torch.equal(model(pil).argmax(1), model(dev).argmax(1))


def test_png_sets_fall_back_to_the_pil_path(tmp_path):
    entry = get_dataset("objectnet")
    entry.write_fake(tmp_path / "on", per_class=2, classes=2)
    batches = iter_eval_batches(entry, tmp_path / "on", CONFIG_32, 4, "cpu", decode="nvjpeg")
    assert type(batches).__name__ == "Batches"
    assert sum(x.shape[0] for x, _, _ in batches) == 4


def test_objectnet_red_frame_is_cut_before_the_transform(tmp_path):
    pixels = np.full((40, 40, 3), (20, 120, 200), dtype=np.uint8)
    pixels[:2, :], pixels[-2:, :], pixels[:, :2], pixels[:, -2:] = (255, 0, 0), (255, 0, 0), (255, 0, 0), (255, 0, 0)
    path = tmp_path / "framed.png"
    Image.fromarray(pixels).save(path)
    from ribray.data.base import Sample

    config = {**CONFIG_32, "crop_pct": 1.0}
    for border, frame_seen in ((2, False), (0, True)):
        image, label, part = ImageFiles([Sample(str(path), 3)], pixel_transform(config, border))[0]
        assert (label, part) == (3, 0) and image.dtype == torch.uint8
        red_error = (image[0].int() - 20).abs().max().item()
        assert (red_error > 100) == frame_seen


def write_corrupt_files(folder: Path) -> list[Path]:
    """A truncated JPEG and a file that is not an image, in the first class folder."""
    first_class = sorted(p for p in folder.iterdir() if p.is_dir())[0]
    good = sorted(first_class.iterdir())[0].read_bytes()
    truncated, garbage = first_class / "truncated.jpg", first_class / "garbage.jpg"
    truncated.write_bytes(good[: len(good) // 2])
    garbage.write_bytes(b"this is not an image")
    return [truncated, garbage]


@pytest.mark.parametrize("decode", ["pil", "nvjpeg"])
def test_unreadable_files_are_left_out_with_a_warning(tmp_path, caplog, decode):
    entry = get_dataset("imagenet_r")
    folder = tmp_path / "imagenet-r"
    written = entry.write_fake(folder, per_class=3, classes=3, size=64)
    bad = write_corrupt_files(folder)
    with caplog.at_level(logging.WARNING, logger="ribray.data"):
        images, labels, _, batches = batches_of(entry, folder, CONFIG_32, decode)
    assert images.shape[0] == labels.shape[0] == written  # every good image, no bad one
    assert sorted(u.path for u in batches.skipped) == sorted(str(p) for p in bad)
    for path in bad:
        assert str(path) in caplog.text


def test_training_skips_unreadable_files(tmp_path, caplog):
    entry = get_dataset("imagenet_r")
    folder = tmp_path / "imagenet-r"
    written = entry.write_fake(folder, per_class=3, classes=2)
    write_corrupt_files(folder)
    loader = train_loader(entry, folder, CONFIG_32, batch_size=4, workers=0, seed=0)
    with caplog.at_level(logging.WARNING, logger="ribray.data"):
        seen = sum(images.shape[0] for images, _, _ in loader)
    assert seen == written and "truncated.jpg" in caplog.text


def test_a_batch_of_only_unreadable_files_is_skipped(tmp_path):
    entry = get_dataset("imagenet_r")
    folder = tmp_path / "imagenet-r"
    entry.write_fake(folder, per_class=1, classes=1)
    first = next(folder.glob("*/*.jpg"))
    first.write_bytes(b"broken")
    for decode in ("pil", "nvjpeg"):
        batches = iter_eval_batches(entry, folder, CONFIG_32, 4, "cpu", decode=decode)
        assert list(batches) == [] and len(batches.skipped) == 1


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("r") / "imagenet-r"
    get_dataset("imagenet_r").write_fake(folder, per_class=5, classes=4, size=32)
    return folder


def test_training_order_is_fixed_per_seed_and_covers_the_set(small_set):
    entry = get_dataset("imagenet_r")

    def order(seed, indices=None):
        loader = train_loader(entry, small_set, CONFIG_32, batch_size=6, workers=0, seed=seed, indices=indices)
        assert len(loader) == -(-len(indices or range(20)) // 6)
        return [(images.sum().item(), label) for images, labels, _ in loader for label in labels.tolist()]

    assert order(0) == order(0)
    assert order(0) != order(1)
    assert sorted(label for _, label in order(0)) == sorted([0, 1, 2, 3] * 5)
    subset = order(0, indices=[0, 5, 10, 15])
    assert sorted(label for _, label in subset) == [0, 1, 2, 3]


def test_worker_processes_give_the_same_batches(small_set):
    entry = get_dataset("imagenet_r")
    alone = list(iter_eval_batches(entry, small_set, CONFIG_32, 8, "cpu", workers=0))
    workers = list(iter_eval_batches(entry, small_set, CONFIG_32, 8, "cpu", workers=2))
    assert len(alone) == len(workers) == 3
    for (a, la, pa), (b, lb, pb) in zip(alone, workers, strict=True):
        assert torch.equal(a, b) and torch.equal(la, lb) and torch.equal(pa, pb)


def test_eval_limit_is_a_fixed_subset_in_order(small_set):
    entry = get_dataset("imagenet_r")

    def labels(seed):
        return torch.cat([y for _, y, _ in iter_eval_batches(entry, small_set, CONFIG_32, 4, "cpu",
                                                             limit=7, seed=seed)]).tolist()

    assert len(labels(0)) == 7 and labels(0) == labels(0) and labels(0) == sorted(labels(0))
    assert labels(0) != labels(1) or labels(0) != labels(2)


def test_stopping_early_does_not_hang_the_device_path(small_set):
    entry = get_dataset("imagenet_r")
    batches = iter_eval_batches(entry, small_set, CONFIG_32, 2, "cpu", decode="nvjpeg")
    for _ in batches:
        break
    assert len(batches) == 10


def test_imagenet_c_part_ids_name_the_right_folders(tmp_path):
    from ribray.data.imagenet_c import CORRUPTIONS, SEVERITIES

    entry = get_dataset("imagenet_c")
    folder = tmp_path / "imagenet-c"
    for n, (corruption, severity) in enumerate((c, s) for c in CORRUPTIONS for s in SEVERITIES):
        for wnid in entry.wnids()[:2]:  # a distinct colour per part, in the real layout
            (folder / corruption / str(severity) / wnid).mkdir(parents=True)
            Image.new("RGB", (32, 32), (3 * n, 0, 0)).save(folder / corruption / str(severity) / wnid / "a.JPEG")
    for decode in ("pil", "nvjpeg"):
        batches = iter_eval_batches(entry, folder, CONFIG_32, 16, "cpu", decode=decode)
        part_ids = torch.cat([p for _, _, p in batches])
        assert len(batches.parts) == 75 and part_ids.shape == (150,)
        expected = [s.part for s in entry.samples(folder)]
        assert [batches.parts[i] for i in part_ids.tolist()] == expected


def test_unknown_decode_mode_is_refused(small_set):
    with pytest.raises(ValueError, match="auto, pil or nvjpeg"):
        iter_eval_batches(get_dataset("imagenet_r"), small_set, CONFIG_32, 4, "cpu", decode="fast")


def test_a_balanced_subset_takes_the_same_number_from_every_class(tmp_path):
    """What OTDD reads: max_images // classes images of every class (all of a smaller class),
    where a uniform draw follows the classes' sizes."""
    from collections import Counter

    from ribray.data.tensors.loading import eval_samples

    entry = get_dataset("imagenet_r")
    folder = tmp_path / "imagenet-r"
    sizes = {0: 10, 1: 6, 2: 3, 3: 20}
    for label, count in sizes.items():
        (folder / entry.wnids()[label]).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (8, 8)).save(folder / entry.wnids()[label] / f"{i}.jpg")

    def per_class(limit, balanced, seed=0):
        return dict(Counter(s.label for s in eval_samples(entry, folder, limit, seed, balanced)))

    assert per_class(8, True) == {0: 2, 1: 2, 2: 2, 3: 2}
    assert per_class(13, True) == {0: 3, 1: 3, 2: 3, 3: 3}
    assert per_class(30, True) == {0: 7, 1: 6, 2: 3, 3: 7}  # 30 // 4 = 7, or all a class has
    assert per_class(8, True, seed=1) == {0: 2, 1: 2, 2: 2, 3: 2}
    assert sum(per_class(8, False).values()) == 8  # uniform: whatever the classes' sizes give
    chosen = eval_samples(entry, folder, 8, 0, balanced=True)
    assert [s.path for s in chosen] == sorted(s.path for s in chosen)  # in the set's order


def test_otdd_reads_a_class_balanced_subset_of_each_set(monkeypatch):
    from ribray.plan import ModelRef, OtddTrial
    from ribray.trials import otdd

    asked = []

    def record(*args, **kwargs):
        asked.append(kwargs)
        raise StopIteration

    monkeypatch.setattr(otdd, "probe_batches", record)
    monkeypatch.setattr(otdd, "base_model", lambda trial: type("M", (), {"module": torch.nn.Identity(),
                                                                         "data_config": {}})())
    trial = OtddTrial(model=ModelRef("tiny_vit"), downstream_sets=("imagenet_r", "imagenet_sketch"))
    ctx = type("C", (), {"device": torch.device("cpu"), "sweep": type("S", (), {"eval": type("E", (), {
        "batch_size": 4})()})()})()
    with pytest.raises(StopIteration):
        otdd.run(trial, ctx)
    assert asked == [{"balanced": True}]
