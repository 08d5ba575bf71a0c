"""ribray's evaluation input is timm's eval transform, exactly: the uint8 pixels its worker
processes make equal the resize and crop of `timm.data.create_transform(is_training=False)`
(difference 0), and its normalized batches equal that transform's output (<= 1e-6), for the
data config of every model the paper's sweeps name, on real photographs (scikit-image's
samples saved as JPEG and PNG) and on generated JPEGs; ObjectNet's frame is cut first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ribray.data import get_dataset
from ribray.data.tensors.loading import iter_eval_batches

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "immunohistochemistry")


def _sweep_configs() -> dict[str, dict]:
    """timm's eval data config of every model in sweeps/full.yaml and sweeps/resnet50.yaml
    (from timm's pretrained configs: nothing is downloaded), plus crop_pct 0.95."""
    from timm.data import resolve_data_config
    from timm.models import get_pretrained_cfg

    from ribray.spec import load_spec

    sweeps = Path(__file__).parents[2] / "sweeps"
    names = [m.name for f in ("full.yaml", "resnet50.yaml") for m in load_spec(sweeps / f).models]
    configs = {n: resolve_data_config({}, pretrained_cfg=get_pretrained_cfg(n).to_dict(), use_test_size=True)
               for n in names}
    configs["bilinear-crop0.95"] = {**configs["resnet50.tv2_in1k"], "crop_pct": 0.95}
    return configs


CONFIGS = _sweep_configs()


def test_the_configs_cover_the_variety_of_the_paper_models():
    values = list(CONFIGS.values())
    assert {c["interpolation"] for c in values} == {"bicubic", "bilinear"}
    assert {c["crop_pct"] for c in values} >= {0.875, 0.9, 0.95, 1.0}
    assert (0.48145466, 0.4578275, 0.40821073) in {tuple(c["mean"]) for c in values}  # CLIP's


def _timm(config: dict, crop_border: int = 0):
    """timm's eval transform (the reference), and its resize/crop steps alone (uint8)."""
    from timm.data import create_transform
    from torchvision.transforms import Compose, PILToTensor

    full = create_transform(**config, is_training=False)
    steps = list(full.transforms)
    assert type(steps[-1]).__name__ == "Normalize" and type(steps[-2]).__name__.endswith("ToTensor")
    pixels = Compose([*steps[:-2], PILToTensor()])

    def frame_cut(transform):
        def apply(image):
            if crop_border:
                b = crop_border
                image = image.crop((b, b, image.width - b, image.height - b))
            return transform(image)
        return apply

    return frame_cut(full), frame_cut(pixels)


def _ribray(entry, folder: Path, config: dict) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """ribray's uint8 worker output and its normalized batches, with the files in order."""
    batches = iter_eval_batches(entry, folder, config, batch_size=4, device="cpu", workers=0)
    assert batches.decoder == "pil"
    raw = torch.cat([images for images, _labels, _parts, _bad in batches.loader])
    normalized = torch.cat([images for images, _labels, _parts in batches])
    return raw, normalized, [s.path for s in entry.samples(folder)]


def _check(entry, folder: Path, config: dict, crop_border: int = 0) -> None:
    raw, normalized, paths = _ribray(entry, folder, config)
    full, pixels = _timm(config, crop_border)
    for i, path in enumerate(paths):
        with Image.open(path) as image:
            image = image.convert("RGB")
        assert raw.dtype == torch.uint8
        assert torch.equal(raw[i], pixels(image)), f"{path}: pixels differ from timm's"
        difference = (normalized[i] - full(image)).abs().max().item()
        assert difference <= 1e-6, f"{path}: {difference} after normalization"


@pytest.fixture(scope="module")
def photographs(tmp_path_factory) -> Path:
    """scikit-image's sample photographs in the ImageNet val layout, as JPEG q75, q90 and PNG."""
    import skimage.data

    root = tmp_path_factory.mktemp("photos")
    wnids = get_dataset("imagenet_val").wnids()
    for label, name in enumerate(PHOTOS):
        folder = root / wnids[label]
        folder.mkdir()
        image = Image.fromarray(getattr(skimage.data, name)())
        image.save(folder / f"{name}_q75.JPEG", quality=75)
        image.save(folder / f"{name}_q90.JPEG", quality=90)
        image.save(folder / f"{name}.png")
    return root


@pytest.mark.parametrize("model", sorted(CONFIGS))
def test_photographs_are_timms_eval_transform_exactly(photographs, model):
    _check(get_dataset("imagenet_val"), photographs, CONFIGS[model])


@pytest.mark.parametrize("model", ["vit_base_patch16_clip_224.laion2b_ft_in1k", "resnet50.tv2_in1k"])
def test_generated_jpegs_are_timms_eval_transform_exactly(tmp_path, model):
    from benchmarks.jpeg_files import LARGE, fill_dataset

    folder = tmp_path / "imagenet-sketch"
    fill_dataset(LARGE, folder, 8, workers=1, classes=2)
    _check(get_dataset("imagenet_sketch"), folder, CONFIGS[model])


def test_objectnet_frame_is_cut_before_timms_transform(tmp_path):
    import skimage.data

    entry = get_dataset("objectnet")
    folder = tmp_path / "objectnet"
    for name, wnid in zip(("coffee", "chelsea"), entry.wnids()[:2], strict=True):
        (folder / wnid).mkdir(parents=True)
        pixels = getattr(skimage.data, name)().copy()
        pixels[:2], pixels[-2:], pixels[:, :2], pixels[:, -2:] = (255, 0, 0), (255, 0, 0), (255, 0, 0), (255, 0, 0)
        Image.fromarray(pixels).save(folder / wnid / f"{name}.png")
    config = {**CONFIGS["vit_base_patch16_clip_224.laion2b_ft_in1k"]}  # crop_pct 1: the frame would show
    _check(entry, folder, config, crop_border=2)
    raw, _, _ = _ribray(entry, folder, config)
    red = torch.tensor([255, 0, 0], dtype=torch.uint8).view(3, 1)
    assert not (raw[:, :, 0, :] == red).all(dim=1).any(), "the red frame reached the model's input"


def test_png_sets_take_the_exact_path_even_when_nvjpeg_is_asked(photographs):
    batches = iter_eval_batches(get_dataset("imagenet_val"), photographs, CONFIGS["resnet50.tv2_in1k"],
                                batch_size=4, device="cpu", decode="nvjpeg")
    assert batches.decoder == "pil"  # nvjpeg reads JPEGs only: the set falls back, and says so


def test_grayscale_and_cmyk_jpegs_become_rgb_as_timm_makes_them(tmp_path):
    entry = get_dataset("imagenet_val")
    folder = tmp_path / "val"
    (folder / entry.wnids()[0]).mkdir(parents=True)
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    base.convert("L").save(folder / entry.wnids()[0] / "gray.JPEG")
    base.convert("CMYK").save(folder / entry.wnids()[0] / "cmyk.JPEG")
    _check(entry, folder, CONFIGS["vit_base_patch16_224.augreg_in1k"])
