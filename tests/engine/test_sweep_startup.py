"""What `ribray sweep` says before Ray starts: its plan comes first, and Ray is neither
imported nor started until the plan has been printed (Ray's start takes seconds)."""

from __future__ import annotations

import subprocess
import sys

from conftest import tiny_spec, write_spec

# `ribray sweep` in a fresh process, with Ray's start replaced by a line saying what had been
# imported by then; the sweep then stops there (nothing is run)
UNTIL_RAY_STARTS = """
import sys
import ribray.engine.sweep as sweep

def start_ray(address, connect_timeout_s):
    print("<Ray starts here>", "ray imported:", "ray" in sys.modules, flush=True)
    raise SystemExit(7)

sweep.start_ray = start_ray
from ribray.cli import main
main(["sweep", sys.argv[1]])
"""


def test_the_plan_line_comes_before_ray_is_imported_or_started(tmp_path, fake_data):
    spec = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, resources={"gpu": 0, "cpu": 1}))
    run = subprocess.run([sys.executable, "-c", UNTIL_RAY_STARTS, str(spec)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 7, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:3] == ["data: listing 3 dataset folder(s) to fingerprint them",
                         "plan: 5 trials, 0 already done, 5 to run",
                         "<Ray starts here> ray imported: False"], run.stdout
