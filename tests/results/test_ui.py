"""`ribray ui`: a busy port is an error (exit 1, no server); the link is printed only once the
server answers; SIGTERM is a deliberate stop (exit 0, "stopped"); MLflow's start-up chatter is
not shown; and the MLflow server it starts stops with it, even when it is killed outright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def test_the_link_is_printed_only_once_the_server_answers_and_sigterm_stops_it(sweep_folder, tmp_path,
                                                                                monkeypatch):
    from ribray.results import ui

    port, marker = free_port(), tmp_path / "answering"
    late = [sys.executable, str(Path(__file__).with_name("late_server.py")), str(port), "3", str(marker)]
    monkeypatch.setattr(ui, "server_command", lambda uri, host, port: late)
    lines, seen_at_link = [], []

    def echo(line: str) -> None:
        lines.append(line)
        if line.startswith("MLflow UI at"):
            seen_at_link.append(marker.exists())
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill` or a scheduler would stop it

    started = time.monotonic()
    ui.serve_ui(str(sweep_folder), "127.0.0.1", port, echo=echo)
    assert time.monotonic() - started >= 3
    assert lines == [f"starting the MLflow UI for sqlite:///{sweep_folder / 'mlflow.db'} ...",
                     f"MLflow UI at http://127.0.0.1:{port}/#/experiments/1/runs?workflowType=machine_learning "
                     "(Ctrl-C to stop)",
                     "MLflow UI stopped"]
    assert seen_at_link == [True]  # the server was answering when the link was printed
    assert signal.getsignal(signal.SIGTERM) is not ui._interrupt  # the caller's handler is back


@pytest.mark.slow
def test_ribray_ui_starts_quietly_and_a_sigterm_is_a_clean_stop(sweep_folder, tmp_path):
    port = free_port()
    ui = subprocess.Popen([sys.executable, "-m", "ribray", "ui", str(sweep_folder), "--port", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [ui.stdout.readline(), ui.stdout.readline()]
    assert lines[1].startswith(f"MLflow UI at http://127.0.0.1:{port}/"), lines
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
        assert answer.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:  # no access-log line
        assert answer.status == 200
    ui.send_signal(signal.SIGTERM)
    output = "".join(lines) + ui.stdout.read()
    assert ui.wait(30) == 0
    assert output.splitlines() == [lines[0].rstrip("\n"), lines[1].rstrip("\n"), "MLflow UI stopped"], output
    deadline = time.monotonic() + 30
    while _server_processes(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _server_processes(port), "the MLflow server outlived `ribray ui`"


def test_the_link_opens_the_sweeps_view_of_its_headline_metrics(tmp_path):
    import json

    from mlflow.tracking import MlflowClient

    from ribray.results.tracking import describe_sweep, experiment_link, start_sweep

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert experiment_link(uri, "s", "http://127.0.0.1:5000") == \
        "http://127.0.0.1:5000/#/experiments?workflowType=machine_learning"  # no sweep yet
    info = start_sweep(uri, "s", "s", None, {})
    describe_sweep(info, {}, {}, ["imagenet_val", "imagenet_r", "imagenet_sketch"])
    tags = MlflowClient(uri).get_experiment_by_name("s").tags
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    assert json.loads(tags["mlflow.sharedViewState.ribray"]) == {
        "selectedColumns": ["metrics.`top1 IN-1K`", "metrics.`top1 R`", "metrics.`top1 Sketch`"],
        "groupBy": {"aggregateFunction": "average", "groupByKeys": [{"mode": "param", "groupByData": "model"}]}}
    assert experiment_link(uri, "s", "http://127.0.0.1:5000") == (
        f"http://127.0.0.1:5000/#/experiments/{info.experiment_id}/runs"
        "?workflowType=machine_learning&viewStateShareKey=ribray")
