"""Shared pieces of the fault tests: results checks, MLflow servers, driver subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from ribray.plan import make_plan

from cluster_fixtures import free_port


def wait_for(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def shard_files(results: Path) -> list[Path]:
    return sorted(results.glob("*.parquet")) if results.is_dir() else []


def assert_exactly_once(spec, results: Path, eval_sets: int = 3) -> None:
    """Every planned trial id appears in the results, in exactly (eval sets) final rows."""
    rows = [r for f in shard_files(results) for r in pq.read_table(f).to_pylist()]
    counts = Counter(r["trial_id"] for r in rows if r["final"])
    planned = {t.trial_id for t in make_plan(spec).trials}
    assert set(counts) == planned, f"missing {planned - set(counts)}, extra {set(counts) - planned}"
    assert set(counts.values()) == {eval_sets}


class MlflowServer:
    """`mlflow server` on 127.0.0.1 with a SQLite store; stoppable and restartable."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MlflowServer:
        command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", "1",
                   "--backend-store-uri", f"sqlite:///{self.folder / 'mlflow.db'}",
                   "--artifacts-destination", str(self.folder / "artifacts")]
        log = open(self.folder / "server.log", "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        wait_for(self._healthy, 90, "the MLflow server's health check")
        return self

    def _healthy(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited; see {self.folder / 'server.log'}") from None
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Driver:
    """`python -m ribray ...` in its own process group, with its own local Ray."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None):
        environment = os.environ | {"RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": "1"} | (env or {})
        self.log = log
        self.process = subprocess.Popen([sys.executable, "-m", "ribray", *args],
                                        stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                        env=environment, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the driver and every process of its group (its local Ray)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def interrupt(self) -> None:
        """Ctrl-C in the driver's terminal: SIGINT to its whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def terminate(self, group: bool) -> None:
        """SIGTERM to the driver alone (`kill PID`, Kubernetes), or to its whole process group,
        its embedded Ray included (`timeout`, Slurm, systemd)."""
        if group:
            os.killpg(self.process.pid, signal.SIGTERM)
        else:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"driver did not finish in {timeout}s:\n{self.log.read_text()[-3000:]}") from None
