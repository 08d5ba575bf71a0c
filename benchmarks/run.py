"""Run every measurement in one process on one device; print the table, write the JSON.

    python -m benchmarks.run --out results.json [--throughput-out throughput.json]
    python -m benchmarks.run --device cpu --quick --out results.json    # every code path, small
    python -m benchmarks.run --only engine --out engine.json             # the engine at 50k trials
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

MEASUREMENTS = ("train", "eval", "loader", "multi_model", "trial_overhead", "makespan", "engine")
NEED_RAY = {"train", "trial_overhead", "makespan"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="results JSON to write")
    parser.add_argument("--throughput-out", help="also write images/s for `ribray plan --throughput`")
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    parser.add_argument("--quick", action="store_true", help="small sizes (CPU, smoke runs)")
    parser.add_argument("--only", default=",".join(MEASUREMENTS),
                        help=f"comma-separated subset of {','.join(MEASUREMENTS)}")
    parser.add_argument("--data-dir", help="where to write the generated JPEGs and keep them "
                        "(default: a temporary folder, deleted afterwards)")
    args = parser.parse_args(argv)
    args.only = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = sorted(set(args.only) - set(MEASUREMENTS))
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose from {', '.join(MEASUREMENTS)}")
    if args.throughput_out and not {"train", "eval"} <= set(args.only):
        parser.error("--throughput-out needs the train and eval measurements")
    return args


@contextlib.contextmanager
def data_folder(path: str | None):
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
        return
    folder = Path(tempfile.mkdtemp(prefix="ribray-bench-jpegs-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prepare_jpegs(root: Path, sizes) -> tuple[dict, dict]:
    """The two generated JPEG sets (written before Ray and CUDA start), and what they hold."""
    from benchmarks.jpeg_files import LARGE, SMALL, fill_dataset

    folders, about = {}, {}
    for kind, count in ((SMALL, sizes.small_jpegs), (LARGE, sizes.large_jpegs)):
        folders[kind] = root / kind.dataset
        about[kind.name] = fill_dataset(kind, folders[kind], count, workers=os.cpu_count() or 1)
        print(f"wrote {about[kind.name]['images']} JPEGs {kind.name}, "
              f"{about[kind.name]['mean_kb']:.0f} KB each on average", flush=True)
    return folders, about


def measure_all(args, sizes, device, root: Path) -> tuple[list, dict]:
    """Every selected measurement, in an order that shares the model and the files."""
    from benchmarks import (
        engine_scale,
        eval_speed,
        loader_speed,
        makespan,
        multi_model,
        train_speed,
        trial_overhead,
    )
    from benchmarks.device import build_model, free_memory
    from benchmarks.jpeg_files import SMALL
    from benchmarks.tune_runner import ensure_ray, restart_ray

    sections, extra = [], {}
    folders = {}
    if {"eval", "loader", "multi_model"} & set(args.only):
        folders, extra["jpegs"] = prepare_jpegs(root, sizes)
    if NEED_RAY & set(args.only):
        ensure_ray()
    if "train" in args.only:
        sections.append(_announce(train_speed.measure(sizes, device)))
        free_memory()
    forward = None
    if "eval" in args.only:
        model, data_config = build_model(sizes)
        section = eval_speed.measure(model.to(device), data_config, folders, sizes, device)
        forward = section.numbers["forward_only_images_per_s"]
        sections.append(_announce(section))
        del model
        free_memory()
    if "loader" in args.only:
        sections.append(_announce(loader_speed.measure(build_model(sizes)[1], folders, sizes, device)))
    if "multi_model" in args.only:
        if forward is None:
            forward = eval_speed.forward_only(build_model(sizes)[0].to(device), sizes, device)
        sections.append(_announce(multi_model.measure(SMALL, folders[SMALL], forward, sizes, device)))
        free_memory()
    if "trial_overhead" in args.only:
        sections.append(_announce(trial_overhead.measure(sizes)))
    if "makespan" in args.only:
        restart_ray(num_gpus=makespan.LANES)  # fake GPUs: the lanes of the simulation
        sections.append(_announce(makespan.measure(sizes)))
    if "engine" in args.only:  # the driver's own work at 1x, 10x, 100x the paper's grid (no GPU)
        sections.append(_announce(engine_scale.measure(args.quick)))
    return sections, extra


def _announce(section):
    print(f"measured {section.name}", flush=True)
    return section


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    args = parse_args(argv)
    import torch

    from benchmarks import report
    from benchmarks.device import device_name, pick_device, versions
    from benchmarks.sizes import FULL, QUICK

    sizes = QUICK if args.quick else FULL
    device = pick_device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device is visible (use --device cpu --quick here)")
    started = time.time()
    with data_folder(args.data_dir) as root:
        sections, extra = measure_all(args, sizes, device, root)
    name = device_name(device)
    payload = {"device": name, "device_type": device.type, "quick": args.quick,
               "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "seconds": time.time() - started, "versions": versions(), **extra,
               "measurements": {s.name: s.to_dict() for s in sections}}
    print(report.table(sections, name, device.type, args.quick))
    report.write_json(args.out, payload)
    print(f"\nwrote {args.out}")
    if args.throughput_out:
        report.write_json(args.throughput_out, report.throughput_table(sections, name, sizes.model))
        print(f"wrote {args.throughput_out} (ribray plan --throughput {args.throughput_out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
