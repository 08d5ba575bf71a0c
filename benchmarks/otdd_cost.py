"""What OTDD's two estimators cost at the sample sizes they use: ribray's exact OT (at most 2,000
images per set by default) and the otdd library's debiased Sinkhorn (`fidelity: reference`, up
to 10,000 per set, three entropic problems: A-B, A-A, B-B). Features are random (ViT-B width
768, 200 classes as ImageNet-A/R), so the values mean nothing; only the seconds count.

    python -m benchmarks.otdd_cost --out otdd.json [--sizes 1000 2000 5000 10000] [--device cpu]

Each size is one `ribray.analysis.otdd.otdd` call per estimator on two sets of that many images
(`max_samples=None`), timed on `--device` (CPU by default; a GPU where one is there). The JSON is
written again after every call, so a run stopped at a size too large keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.device import device_name, pick_device, synchronize, versions

ESTIMATORS = {"exact": {"method": "exact"}, "debiased_sinkhorn": {"method": "debiased_sinkhorn", "reg": 0.1}}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.otdd_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="results JSON to write")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10_000],
                        help="images per set (default: 1000 2000 5000 10000)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto (default: cpu)")
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--width", type=int, default=768, help="feature size (ViT-B/16: 768)")
    return parser.parse_args(argv)


def features(n: int, classes: int, width: int, seed: int):
    """n random features around one centre per class, and their labels (each class n / classes times)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % classes
    centres = torch.randn(classes, width, generator=generator)
    return centres[labels] + 0.5 * torch.randn(n, width, generator=generator), labels


def measure(sizes: list[int], device, classes: int, width: int, save) -> list[dict]:
    """Time each estimator at each size; `save(found)` after every call."""
    from ribray.analysis.otdd import otdd

    found: list[dict] = []
    for n in sizes:
        xa, ya = features(n, classes, width, seed=1)
        xb, yb = features(n, classes, width, seed=2)
        for name, options in ESTIMATORS.items():
            synchronize(device)
            started = time.perf_counter()
            value = otdd(xa, ya, xb, yb, max_samples=None, device=device, **options)
            synchronize(device)
            seconds = time.perf_counter() - started
            found.append({"images_per_set": n, "estimator": name, "seconds": round(seconds, 2), "value": value})
            print(f"{n:>6} images per set  {name:<18} {seconds:8.1f} s", flush=True)
            save(found)
    return found


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    device = pick_device(args.device)
    results = {"device": device_name(device), "classes": args.classes, "width": args.width, "runs": [], **versions(),
               "command": "python -m benchmarks.otdd_cost " + " ".join(argv if argv is not None else sys.argv[1:])}

    def save(found: list[dict]) -> None:
        results.update(runs=found, measured_at=datetime.now(timezone.utc).isoformat())
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")

    measure(args.sizes, device, args.classes, args.width, save)


if __name__ == "__main__":
    main()
