"""`ribray ui`: a busy port is an error (exit 1, no server), and the MLflow server it starts
stops with it, even when it is killed outright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest
from click.testing import CliRunner

from ribray.cli import main

from cluster_fixtures import free_port


@pytest.fixture
def sweep_folder(tmp_path):
    from mlflow.tracking import MlflowClient

    from ribray.results import SweepLayout
    from ribray.storage import Location

    folder = tmp_path / "runs" / "s"
    (folder / "results").mkdir(parents=True)
    SweepLayout(Location(str(folder))).mark("s", "s", "spec")
    MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").create_experiment("s")
    return folder


def test_a_busy_port_is_an_error_and_starts_nothing(sweep_folder):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["ui", str(sweep_folder), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.output
    assert "--port 0 for a free one" in result.output
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(port) in " ".join(p.info["cmdline"] or [])]


def _server_processes(port: int) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"])
            if "mlflow" in " ".join(p.info["cmdline"] or []) and str(port) in " ".join(p.info["cmdline"] or [])]


@pytest.mark.slow
def test_killing_ribray_ui_stops_the_mlflow_server(sweep_folder, tmp_path):
    port = free_port()
    log = open(tmp_path / "ui.log", "wb")
    ui = subprocess.Popen([sys.executable, "-m", "ribray", "ui", str(sweep_folder), "--port", str(port)],
                          stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        ui.kill()
        pytest.fail(f"the UI never answered: {(tmp_path / 'ui.log').read_text()[-2000:]}")
    assert _server_processes(port), "no server process found"
    os.kill(ui.pid, signal.SIGKILL)
    ui.wait()
    deadline = time.monotonic() + 30
    while _server_processes(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _server_processes(port), "the MLflow server outlived `ribray ui`"
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is fine
        probe.bind(("127.0.0.1", port))  # nothing listens on the port any more
