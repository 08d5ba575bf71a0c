"""A re-run of a finished sweep of `sweeps/full.yaml`'s shape, to "nothing to do": the whole
`run_sweep` (spec checks, plan, every shard's footer, data fingerprints, data and code checks),
first without the sweep's shard index (every footer read, as a sweep of an older ribray, or
after the index was deleted) and then with it (as every re-run after a sweep of this version).

The spec is full.yaml with `--seeds` seeds (100: 50,407 trials), its 7 models replaced by tiny
random-init ViTs saved as checkpoints (check_spec builds every model; the paper's would need the
hub), fake data in the real layouts, and one synthetic shard per trial in the project's schema
(`benchmarks/engine_data.py`) that records the fake data's real fingerprints, so the data check
passes. Each re-run is a fresh process; wall and CPU seconds are written to `--out`.

    python -m benchmarks.rerun_scale --seeds 100 --folder /tmp/rerun --out rerun.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

SPEC = Path(__file__).resolve().parent.parent / "sweeps" / "full.yaml"
LABELS = ("augreg", "sam", "in21k", "miil", "augreg21k", "clip_openai", "clip_laion")


def spec_of(seeds: int, folder: Path):
    from ribray.spec import parse_spec

    raw = yaml.safe_load(SPEC.read_text())
    raw |= {"seeds": list(range(seeds)), "storage": str(folder / "runs"), "name": f"rerun-{seeds}",
            "data": {"root": str(folder / "data")}, "resources": {"gpu": 0, "cpu": 1},
            "models": [{"name": "tiny_vit", "checkpoint": str(folder / "checkpoints" / f"{label}.safetensors"),
                        "label": label} for label in LABELS]}
    raw["methods"]["vpt"] = {"prompt_size": 4}  # the tiny ViT has 16 patches
    return parse_spec(raw)


def set_up(seeds: int, folder: Path) -> int:
    """Checkpoints, fake data and every trial's shard; returns the trials."""
    from safetensors.torch import save_file

    from benchmarks.engine_data import synthetic_results
    from ribray.engine.sweep import _fingerprints
    from ribray.models import MODELS
    from ribray.plan import make_plan
    from ribray.results.layout import SweepLayout

    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    for label in LABELS:
        state = MODELS.get("tiny_vit").build(False).state_dict()
        save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "checkpoints" / f"{label}.safetensors"))
    if not (folder / "data").exists():  # the demo's generated sets, as `ribray data fake` writes them
        subprocess.run([sys.executable, "-m", "ribray", "data", "fake", str(folder / "data")], check=True,
                       capture_output=True)
    spec = spec_of(seeds, folder)
    plan = make_plan(spec)
    synthetic_results(spec, plan, SweepLayout.of(spec).results, fingerprints=_fingerprints(spec, plan, print))
    return len(plan)


def rerun(seeds: int, folder: Path) -> dict:
    """One re-run in this process: its wall and CPU seconds, and what it said."""
    from ribray.engine.sweep import run_sweep

    spec = spec_of(seeds, folder)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = run_sweep(spec, echo=lambda line: None)
    assert summary.already_done == summary.planned, "every trial's shard is there and unchanged"
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "trials": summary.planned}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(rerun(args.seeds, args.folder)))
        return 0
    from ribray.results.layout import SweepLayout

    trials = set_up(args.seeds, args.folder)
    index = Path(SweepLayout.of(spec_of(args.seeds, args.folder)).shard_index.path)
    index.unlink(missing_ok=True)
    found = {"trials": trials}
    for name in ("without_index", "with_index"):
        child = subprocess.run([sys.executable, "-m", "benchmarks.rerun_scale", "--child", "--seeds", str(args.seeds),
                                "--folder", str(args.folder), "--out", str(args.out)],
                               check=True, capture_output=True, text=True)
        found[name] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"re-run {name.replace('_', ' ')}: {found[name]['wall_s']:.1f} s wall, {found[name]['cpu_s']:.1f} s CPU")
    found["index_bytes"] = index.stat().st_size
    args.out.write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
