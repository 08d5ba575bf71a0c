"""Planted credentials never land anywhere a sweep writes: a sweep with a password in its MLflow
tracking URI and cloud secrets in its environment, then every byte it left (its output, Ray's
log folder, the MLflow server's store and artifacts, the Parquet, the Tune folder, the report)
searched for them."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import tiny_spec, write_spec
from faults.helpers import Driver, MlflowServer

TRACKING_PASSWORD = "TrackPw-3f9c1e"
AWS_SECRET = "AwsSecret-7d2b8a"
OTHER_SECRET = "HfToken-51e0c4"


def _files_holding(folder: Path, secrets: list[str]) -> list[str]:
    """'path: secret' for every file under `folder` that holds one of `secrets` (in bytes)."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return found


@pytest.mark.slow
def test_no_planted_secret_reaches_output_logs_mlflow_results_or_report(fake_data, tmp_path):
    ray_tmp = Path(tempfile.mkdtemp(prefix="rs", dir="/tmp"))  # short: Ray's socket paths have a limit
    (tmp_path / "mlflow").mkdir()
    server = MlflowServer(tmp_path / "mlflow").start()
    try:
        tracking = server.uri.replace("http://", f"http://alice:{TRACKING_PASSWORD}@")
        spec = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={},
                         mlflow={"tracking_uri": tracking}, resources={"gpu": 0, "cpu": 1})
        path = write_spec(tmp_path / "spec.yaml", spec)
        env = {"AWS_ACCESS_KEY_ID": "AKIAPLANTED", "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
               "HF_TOKEN": OTHER_SECRET, "RAY_TMPDIR": str(ray_tmp)}
        sweep = Driver(["sweep", str(path)], tmp_path / "sweep.log", env=env)
        assert sweep.wait(300) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
        commands = (["report", str(path)], ["validate", str(path)], ["plan", str(path)], ["status", str(path)],
                    ["mlflow", "sync", str(path)], ["mlflow", "sync", str(path), "--tracking-uri", tracking])
        for number, command in enumerate(commands):
            log = tmp_path / f"{number}-{command[0]}.log"
            driver = Driver(command, log, env=env)
            assert driver.wait(300) == 0, log.read_text()[-3000:]
        assert "tiny_vit/ft@imagenet_r#0" in (tmp_path / "sweep.log").read_text()
        assert (tmp_path / "runs" / "t" / "report" / "report.html").is_file()
    finally:
        server.stop()
    assert list(ray_tmp.rglob("*.log")) and list(ray_tmp.rglob("runtime_env*")), "Ray's logs were written here"
    assert (tmp_path / "mlflow" / "mlflow.db").stat().st_size > 0
    secrets = [TRACKING_PASSWORD, AWS_SECRET, OTHER_SECRET]
    leaks = _files_holding(tmp_path, secrets) + _files_holding(ray_tmp, secrets)
    # The spec file itself holds the tracking password: the user wrote it there
    leaks = [leak for leak in leaks if not leak.startswith(f"{tmp_path / 'spec.yaml'}:")]
    shutil.rmtree(ray_tmp, ignore_errors=True)
    assert leaks == []
