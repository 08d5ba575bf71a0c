"""Commands run against a sweep that is running: readers see exactly its finished shards, and
of two `--resume` of one folder at once, one runs and the other is refused, naming it.

Marked slow (each runs real sweeps in driver processes, with their own local Ray)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from ribray.cli import main
from ribray.plan import make_plan
from ribray.spec import load_spec

from conftest import tiny_spec, write_spec
from faults.helpers import Driver, assert_exactly_once, shard_files, wait_for

pytestmark = pytest.mark.slow


def _stuck_in_ft(marker) -> dict[str, str]:
    """ft pauses at its first step, long enough for the other trials to finish (once: the
    marker records that it has)."""
    return {"RIBRAY_INJECT_FAULT": f"sleep:method=ft:epoch=0:step=0:seconds=180:marker={marker}"}


def test_status_and_report_during_a_sweep_show_exactly_its_finished_shards(fake_data, tmp_path):
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"],
                                                        methods={"ft": {}, "lp": {}}, interpolations={},
                                                        resources={"gpu": 0, "cpu": 1}))
    plan = make_plan(load_spec(path))
    ft = next(t.trial_id for t in plan.trials if t.method == "ft")
    results = tmp_path / "runs" / "t" / "results"
    driver = Driver(["sweep", str(path), "--max-concurrent", "2"], tmp_path / "sweep.log",
                    env=_stuck_in_ft(tmp_path / "paused"))
    try:
        wait_for(lambda: (tmp_path / "paused").exists() and len(shard_files(results)) == 2, 240,
                 "ft paused, pretrained and lp finished")
        finished = {f.stem for f in shard_files(results)}
        whole = (results / f"{min(finished)}.parquet").read_bytes()
        (results / f".{ft}.parquet.0a1b2c.tmp").write_bytes(whole[: len(whole) // 2])  # a shard being written

        status = CliRunner().invoke(main, ["status", str(path), "--json"])
        report = CliRunner().invoke(main, ["report", str(path), "--format", "json"])
        assert driver.process.poll() is None, "the sweep was still running"
    finally:
        driver.kill()
    assert status.exit_code == 0, status.output
    states = {t["trial_id"]: t["state"] for t in json.loads(status.output)["trials"]}
    assert {t for t, state in states.items() if state == "done"} == finished == set(plan.by_id()) - {ft}
    assert report.exit_code == 0, report.output
    [main_report] = json.loads(report.stdout)["reports"]
    assert {m["trial_id"] for m in main_report["missing"]} == {ft}  # read: exactly the finished shards


def test_two_resumes_of_one_folder_at_once_one_runs_the_other_is_refused(fake_data, tmp_path):
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"],
                                                        interpolations={}, resources={"gpu": 0, "cpu": 1}))
    results = tmp_path / "runs" / "t" / "results"
    first = Driver(["sweep", str(path)], tmp_path / "first.log", env=_stuck_in_ft(tmp_path / "paused"))
    try:
        wait_for(lambda: (tmp_path / "paused").exists(), 240, "ft to start")
    finally:
        first.kill()  # its sweep.lock stays, naming a dead process
    resumes = [Driver(["sweep", str(path), "--resume"], tmp_path / f"resume{n}.log") for n in (1, 2)]
    try:
        refused = wait_for(lambda: next((d for d in resumes if d.process.poll() is not None), None), 240,
                           "one resume to end")
        running = next(d for d in resumes if d is not refused)
        assert running.process.poll() is None, "the other resume was still running: they overlapped"
        assert refused.process.returncode == 1, refused.log.read_text()[-3000:]
        text = refused.log.read_text()
        assert re.search(rf"another sweep of this folder is running: .*sweep\.lock is held by pid "
                         rf"{running.process.pid} ", text), text[-3000:]
        assert "Traceback" not in text
        assert running.wait(400) == 0, running.log.read_text()[-3000:]
    finally:
        for driver in resumes:
            driver.kill()
    assert_exactly_once(load_spec(path), results, eval_sets=2)
    assert not (tmp_path / "runs" / "t" / "sweep.lock").exists()
