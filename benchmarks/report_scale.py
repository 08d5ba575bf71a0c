"""`ribray report` against the size of a sweep: sweeps/full.yaml (7 models, 9 methods, 8
downstream sets) with 1, 10 or 100 seeds (511, 5,047, 50,407 trials), every trial's shard
written by `benchmarks.engine_data.synthetic_results`; for each, the seconds to the tables
(`run_report(..., figures="none")`), the seconds of the default report, the peak RSS of each
(a fresh process per measurement) and the files written.

    python -m benchmarks.report_scale --seeds 1 100 --work /tmp/report-scale
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

FULL = Path(__file__).parents[1] / "sweeps" / "full.yaml"


def make_sweep(work: Path, seeds: int) -> Path:
    """The spec file of full.yaml with `seeds` seeds, its results written once (kept for reruns)."""
    from benchmarks.engine_data import synthetic_results
    from ribray.plan import make_plan
    from ribray.results import SweepLayout
    from ribray.spec import load_spec

    folder = work / f"seeds={seeds}"
    path = folder / "spec.yaml"
    raw = yaml.safe_load(FULL.read_text()) | {"storage": str(folder / "runs"), "seeds": list(range(seeds))}
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    spec = load_spec(path)
    layout = SweepLayout.of(spec)
    if not (folder / "written").is_file():
        started = time.perf_counter()
        rows = synthetic_results(spec, make_plan(spec), layout.results)
        layout.mark(spec.name, spec.name, spec.spec_hash())
        (folder / "written").write_text(f"{rows} rows in {time.perf_counter() - started:.1f} s\n")
    return path


def measure(spec_path: str, figures: str, out: str) -> dict:
    """In this process: one report of the spec; seconds, peak RSS (MB) and files written."""
    from ribray.report import run_report

    started = time.perf_counter()
    cpu = time.process_time()
    _, _, files = run_report(spec_path, out=out, figures=figures)
    return {"figures": figures, "seconds": round(time.perf_counter() - started, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "files": len(files)}


def in_child(spec_path: Path, figures: str, out: Path) -> dict:
    """`measure` in a fresh process, so that each peak RSS is its own."""
    code = ("import json, sys; from benchmarks.report_scale import measure; "
            "print(json.dumps(measure(*sys.argv[1:])))")
    done = subprocess.run([sys.executable, "-c", code, str(spec_path), figures, str(out)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--work", type=Path, required=True, help="where the synthetic sweeps go (kept)")
    parser.add_argument("--figures", nargs="+", default=["none", "auto"], help="the reports to time")
    args = parser.parse_args()
    for seeds in args.seeds:
        spec_path = make_sweep(args.work, seeds)
        trials = len(list((spec_path.parent / "runs").glob("*/results/*.parquet")))
        for figures in args.figures:
            found = in_child(spec_path, figures, spec_path.parent / f"report-{figures}")
            print(json.dumps({"seeds": seeds, "trials": trials, **found}), flush=True)


if __name__ == "__main__":
    main()
