"""Faults lose nothing and duplicate nothing: every trial id exactly once in the results.

Marked slow (they run in CI; `-m "not slow"` skips them locally). Every server and Ray node
they start listens on 127.0.0.1 and is stopped by the test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from ribray.cli import main
from ribray.engine import run_sweep
from ribray.plan import make_plan
from ribray.spec import load_spec, parse_spec

from conftest import tiny_spec, write_spec
from faults.helpers import Driver, MlflowServer, assert_exactly_once, shard_files, wait_for

pytestmark = pytest.mark.slow


def _trial_runs(tracking_uri: str, experiment: str):
    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id])
    return [r for r in runs if r.data.tags.get("ribray.role") == "trial"]


def _fault(kind: str, marker: Path, **where) -> str:
    fields = ":".join(f"{k}={v}" for k, v in where.items())
    return f"{kind}:{fields}:marker={marker}"


def test_killed_trial_worker_resumes_from_its_checkpoint(ray_cluster, fake_data, tmp_path, monkeypatch):
    marker = tmp_path / "fired"
    monkeypatch.setenv("RIBRAY_INJECT_FAULT", _fault("kill", marker, method="ft", epoch=1, step=1))
    spec = parse_spec(tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], retries=2,
                                train={"epochs": 3, "batch_size": 8, "lr": 0.01, "warmup_steps": 1, "workers": 0}))
    summary = run_sweep(spec, max_concurrent=2)
    assert marker.exists(), "the fault never fired"
    assert summary.complete and not summary.failed
    assert_exactly_once(spec, tmp_path / "runs" / "t" / "results", eval_sets=2)
    runs = _trial_runs(f"sqlite:///{tmp_path}/runs/t/mlflow.db", "t")
    ft = [r for r in runs if r.data.params["method"] == "ft"]
    assert len(ft) == 1, "the retry must continue the trial's MLflow run, not add one"
    assert ft[0].data.metrics["resumed_from_epoch"] == 1  # resumed after epoch 1, not restarted


def test_killed_driver_then_resume_completes(fake_data, tmp_path):
    spec_dict = tiny_spec(tmp_path, fake_data, methods={"ft": {}, "lp": {}},
                          resources={"gpu": 0, "cpu": 1})
    path = write_spec(tmp_path / "spec.yaml", spec_dict)
    results = tmp_path / "runs" / "t" / "results"
    driver = Driver(["sweep", str(path), "--max-concurrent", "1"], tmp_path / "driver1.log")
    try:
        wait_for(lambda: len(shard_files(results)) >= 2, 240, "two finished trials")
    finally:
        driver.kill()
    done_before = {f.name: f.stat().st_mtime for f in shard_files(results)}
    assert 2 <= len(done_before) < 7
    resumed = Driver(["sweep", str(path), "--resume"], tmp_path / "driver2.log")
    assert resumed.wait(400) == 0, (tmp_path / "driver2.log").read_text()[-3000:]
    for log in ("driver1.log", "driver2.log"):  # a pipe gets ribray's lines, not Ray's and MLflow's
        text = (tmp_path / log).read_text()
        assert "[ribray " in text
        for noise in ("Number of trials", "9223372036854775807", "╭", "View detailed results",
                      "Token authentication is enabled", "Creating initial MLflow database tables",
                      "Started a local Ray instance", "Wrote the latest version",
                      "resuming a run started by ribray 0.1"):  # this version's run: no compatibility warning
            assert noise not in text, (log, noise)
    assert_exactly_once(load_spec(path), results)
    kept = {f.name: f.stat().st_mtime for f in shard_files(results) if f.name in done_before}
    assert kept == done_before, "finished trials must not run again"
    left = {p.name for p in (tmp_path / "runs" / "t" / "tune").glob("run-*/*/checkpoint_*/*")}
    assert left == {"ribray-finished.txt"}, "every trial finished: no resume checkpoint is left"


def test_ctrl_c_stops_a_resumed_sweep_before_the_trials_the_spec_gained(fake_data, tmp_path):
    spec_dict = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={},
                          resources={"gpu": 0, "cpu": 1})
    path = write_spec(tmp_path / "spec.yaml", spec_dict)
    results = tmp_path / "runs" / "t" / "results"

    def stuck_in_ft(name: str) -> dict[str, str]:  # ft pauses at its first step, once per marker
        return {"RIBRAY_INJECT_FAULT": _fault("sleep", tmp_path / name, method="ft", epoch=0, step=0,
                                              seconds=60)}

    first = Driver(["sweep", str(path)], tmp_path / "driver1.log", env=stuck_in_ft("fired1"))
    try:
        wait_for(lambda: (tmp_path / "fired1").exists(), 120, "ft to start")
    finally:
        first.kill()
    write_spec(path, {**spec_dict, "methods": {"ft": {}, "lp": {}}})  # the spec gains lp
    resumed = Driver(["sweep", str(path), "--resume"], tmp_path / "driver2.log", env=stuck_in_ft("fired2"))
    wait_for(lambda: (tmp_path / "fired2").exists(), 120, "the resumed ft to start")
    resumed.interrupt()
    assert resumed.wait(120) == 130  # interrupted: as shells expect after Ctrl-C
    log = (tmp_path / "driver2.log").read_text()
    assert "interrupted" in log and "the spec gained" not in log, log[-3000:]
    lp = next(t.trial_id for t in make_plan(load_spec(path)).trials if t.method == "lp")
    assert not any(lp in f.name for f in shard_files(results)), "lp ran after Ctrl-C"

    last = Driver(["sweep", str(path), "--resume"], tmp_path / "driver3.log")
    assert last.wait(300) == 0, (tmp_path / "driver3.log").read_text()[-3000:]
    assert "running the 1 trial(s) the spec gained" in (tmp_path / "driver3.log").read_text()
    assert_exactly_once(load_spec(path), results, eval_sets=2)


def test_sigterm_stops_like_ctrl_c_and_resume_counts_each_trial_once(fake_data, tmp_path):
    spec_dict = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={},
                          resources={"gpu": 0, "cpu": 1})
    path = write_spec(tmp_path / "spec.yaml", spec_dict)
    results, lock = tmp_path / "runs" / "t" / "results", tmp_path / "runs" / "t" / "sweep.lock"
    for number, group in ((1, False), (2, True)):  # `kill PID`, then `timeout` / Slurm: the whole group
        marker = tmp_path / f"fired{number}"
        fault = {"RIBRAY_INJECT_FAULT": _fault("sleep", marker, method="ft", epoch=0, step=0, seconds=120)}
        driver = Driver(["sweep", str(path)] + (["--resume"] if number > 1 else []),
                        tmp_path / f"driver{number}.log", env=fault)
        wait_for(marker.exists, 180, "ft to start")
        signalled = time.monotonic()
        driver.terminate(group=group)
        assert driver.wait(60) == 143, (tmp_path / f"driver{number}.log").read_text()[-3000:]
        assert time.monotonic() - signalled < 30, "within the 30 s Slurm and Kubernetes give before SIGKILL"
        log = (tmp_path / f"driver{number}.log").read_text()
        assert f"interrupted: `ribray sweep {path} --resume` continues" in log, log[-3000:]
        assert "Traceback" not in log and not lock.exists(), log[-3000:]

    last = Driver(["sweep", str(path), "--resume"], tmp_path / "driver3.log")
    assert last.wait(300) == 0, (tmp_path / "driver3.log").read_text()[-3000:]
    assert_exactly_once(load_spec(path), results, eval_sets=2)
    lines = [line for n in (1, 2, 3) for line in (tmp_path / f"driver{n}.log").read_text().splitlines()
             if line.startswith("[ribray ")]
    counts = [re.search(r"\] (\d+)/(\d+) done, \d+ running, \d+ waiting, \d+ failed(, ETA \d+(h\d\dm|m\d\ds))? \|", line)
              for line in lines]
    assert lines and all(counts), lines  # no negative count, no negative ETA
    assert all(int(c.group(1)) <= int(c.group(2)) for c in counts), lines  # never more done than planned
    assert lines[-1].startswith("[ribray") and "2/2 done" in lines[-1]


def test_killed_worker_node_reschedules_the_trial(fake_data, tmp_path):
    marker = tmp_path / "paused"
    spec_dict = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={}, retries=2,
                          train={"epochs": 2, "batch_size": 8, "lr": 0.01, "warmup_steps": 1, "workers": 0})
    path = write_spec(tmp_path / "spec.yaml", spec_dict)
    out = tmp_path / "summary.json"
    env = {"RIBRAY_INJECT_FAULT": _fault("sleep", marker, method="ft", epoch=1, step=1, seconds=30),
           "RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1"}
    script = Path(__file__).parents[1] / "faults" / "node_kill.py"
    done = subprocess.run([sys.executable, str(script), str(path), str(marker), str(out)],
                          env={**__import__("os").environ, **env}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["complete"] and not summary["failed"] and summary["nodes_left"] == 1
    spec = load_spec(path)
    assert_exactly_once(spec, tmp_path / "runs" / "t" / "results", eval_sets=2)
    ft = [r for r in _trial_runs(f"sqlite:///{tmp_path}/runs/t/mlflow.db", "t")
          if r.data.params["method"] == "ft"]
    assert len(ft) == 1 and ft[0].data.metrics["resumed_from_epoch"] == 1


def test_mlflow_server_down_mid_sweep_then_sync(ray_cluster, fake_data, tmp_path, monkeypatch):
    server = MlflowServer(tmp_path).start()
    marker = tmp_path / "paused"
    monkeypatch.setenv("RIBRAY_INJECT_FAULT", _fault("sleep", marker, method="ft", epoch=0, step=0, seconds=6))
    spec_dict = tiny_spec(tmp_path, fake_data, mlflow={"tracking_uri": server.uri})
    path = write_spec(tmp_path / "spec.yaml", spec_dict)
    spec = load_spec(path)
    summary = {}
    sweep = threading.Thread(target=lambda: summary.update(s=run_sweep(spec, max_concurrent=2)))
    try:
        sweep.start()
        wait_for(marker.exists, 300, "the paused fine-tune")
        server.stop()
        sweep.join(300)
        assert summary["s"].complete, "trials must keep running without MLflow"
        assert_exactly_once(spec, tmp_path / "runs" / "t" / "results")
        server.start()  # same port, same store
        for _ in range(2):  # the second sync must change nothing
            result = CliRunner().invoke(main, ["mlflow", "sync", str(path)])
            assert result.exit_code == 0, result.output
        assert "0 runs created, 0 completed, 5 already complete" in result.output
        runs = _trial_runs(server.uri, "t")
        assert sorted(r.data.tags["ribray.trial_id"] for r in runs) == sorted(
            t.trial_id for t in __import__("ribray.plan", fromlist=["make_plan"]).make_plan(spec).trials)
        assert {r.info.status for r in runs} == {"FINISHED"}
    finally:
        server.stop()


def test_full_disk_fails_fast_in_one_message_and_keeps_finished_shards(ray_cluster, fake_data, tmp_path, capfd):
    """ENOSPC is not retried (the fine-tune trains its epoch once, though 3 retries are
    allowed), Tune's tracebacks become one line each, and the sweep stops with the cause."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        tracking = f"sqlite:///{tmp_path}/mlflow.db"
        spec = parse_spec(tiny_spec(tmp_path, fake_data, storage=str(disk), downstream=["imagenet_r"],
                                    retries=3, mlflow={"tracking_uri": tracking}))
        summary = run_sweep(spec, max_concurrent=1)
        assert not summary.complete and set(summary.failed) == {t.trial_id for t in make_plan(spec).trials
                                                                if t.kind != "pretrained"}
        assert all(f"storage {disk}" in e and "is full" in e and "No space left on device" in e
                   for e in summary.failed.values()), summary.failed
        output = capfd.readouterr()
        assert "Traceback" not in output.out + output.err
        assert (output.out + output.err).count("No space left on device") <= 4
        ft = next(r for r in _trial_runs(tracking, "t") if r.data.params["method"] == "ft")
        assert len(MlflowClient(tracking).get_metric_history(ft.info.run_id, "train_loss")) == 1, "retrained"
        shards = shard_files(disk / "t" / "results")
        assert shards, "the pretrained evaluation finished before the disk filled"
        for shard in shards:  # intact, readable, complete
            assert pq.read_table(shard).num_rows == 2
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_storage_that_is_not_a_folder_is_refused_before_any_trial(fake_data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    spec = parse_spec(tiny_spec(tmp_path, fake_data, storage=str(blocker)))
    from ribray.errors import SpecError

    with pytest.raises(SpecError, match="is not writable"):
        run_sweep(spec)


def test_ray_processes_left_by_a_killed_driver_are_stopped_by_the_next_start(tmp_path):
    import psutil

    from ribray.engine.tune_run import stop_orphaned_ray_processes

    script = tmp_path / "driver.py"
    script.write_text("import time\nfrom ribray.engine.tune_run import start_ray\nstart_ray(None)\n"
                      "print('up', flush=True)\ntime.sleep(600)\n")
    driver = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert driver.stdout.readline().strip() == "up"
    started = psutil.Process(driver.pid).children(recursive=True)
    agents = [p for p in started if p.name().startswith("ray::")]
    daemons = [p for p in started if p.name() in ("raylet", "gcs_server")]
    assert agents and daemons, "the embedded Ray starts a raylet, a GCS and agents"
    driver.kill()  # SIGKILL the driver alone, as an OOM killer would
    driver.wait()
    wait_for(lambda: not any(_running(p) for p in daemons), 60, "the killed driver's raylet and GCS to go")
    left = [p for p in agents if _running(p)]
    assert stop_orphaned_ray_processes(echo=lambda _: None) >= len(left)
    wait_for(lambda: not [p for p in agents if _running(p)], 15, "the stopped processes to exit")
    assert stop_orphaned_ray_processes(echo=lambda _: None) == 0


def _running(process) -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_an_eval_image_deleted_mid_sweep_fails_the_trial_that_read_it(ray_cluster, fake_data, tmp_path, monkeypatch):
    """Rows never claim data they were not computed on: the trial that read the set after an
    image went fails for good, naming both listings; the next sweep refuses the older rows."""
    import shutil

    from ribray.data import get_dataset
    from ribray.errors import RibrayError

    data = tmp_path / "data"
    shutil.copytree(fake_data, data)
    marker = tmp_path / "paused"
    monkeypatch.setenv("RIBRAY_INJECT_FAULT", _fault("sleep", marker, method="ft", epoch=0, step=0, seconds=6))
    spec = parse_spec(tiny_spec(tmp_path, data, downstream=["imagenet_r"], interpolations={}, retries=2))
    victim = sorted(get_dataset("imagenet_val").path(data).glob("*/*"))[0]
    image = victim.read_bytes()
    deleted = threading.Thread(target=lambda: (wait_for(marker.exists, 300, "the paused fine-tune"), victim.unlink()))
    deleted.start()
    summary = run_sweep(spec, max_concurrent=1)  # the pretrained evaluation first, then the paused fine-tune
    deleted.join()
    ft = next(t for t in make_plan(spec).trials if t.kind == "finetune")
    assert list(summary.failed) == [ft.trial_id], summary
    error = summary.failed[ft.trial_id]
    assert "failed for good (not retried): data changed while the sweep ran (imagenet_val at" in error
    assert "24 files (listing" in error and "23 files (listing" in error and "--rerun-changed-data" in error
    assert [p.stem for p in shard_files(tmp_path / "runs" / "t" / "results")] == [
        t.trial_id for t in make_plan(spec).trials if t.kind == "pretrained"]
    victim.write_bytes(image + b"\0")  # the image back, re-encoded: the count is right again, the listing not
    with pytest.raises(RibrayError, match="1 finished trial.s. were computed on other data"):
        run_sweep(spec)
