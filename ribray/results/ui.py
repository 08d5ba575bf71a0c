"""`ribray ui`: the MLflow UI on a sweep's tracking store, on 127.0.0.1 by default.

The server is MLflow's own (`mlflow server`), started lean: one uvicorn worker, no job
consumers (MLflow 3 otherwise starts huey consumers and periodic GenAI tasks), no access log,
warnings only. It runs under a small guard process (`python -m ribray.results.ui_guard`) in a
process group of its own: Ctrl-C or a SIGTERM here stops the group (a deliberate stop, exit 0),
and if this process is killed outright the guard sees its parent gone and stops the server
itself. The link is printed once the server answers its /health check. A busy port is an error
that says so, before anything starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ribray.errors import RibrayError
from ribray.results.layout import resolve_target
from ribray.results.tracking import experiment_link
from ribray.secrets import redact

HEALTH_WAIT_S = 120  # one lean worker answers in 16-19 s on a loaded 2-core machine

# What `mlflow server` needs to start without its GenAI job machinery and its chatter
SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no huey consumers, no periodic tasks
              "MLFLOW_LOGGING_LEVEL": "WARNING",
              "PYTHONWARNINGS": "ignore:starlette.middleware.wsgi is deprecated"}  # per worker


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def check_port(host: str, port: int) -> None:
    """Raise RibrayError when (host, port) cannot be listened on (another server has it).
    SO_REUSEADDR as servers set it: a port left in TIME_WAIT by a stopped server is free."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise RibrayError(f"cannot serve on {host}:{port}: {error.strerror or error} (another `ribray ui` "
                              "or MLflow server?); pass --port N, or --port 0 for a free one") from None


def serve_ui(target: str, host: str, port: int, echo=print) -> None:
    """Run `mlflow ui` on the sweep's SQLite store (or point at its tracking server)."""
    found = resolve_target(target)
    uri = found.tracking_uri
    if uri.startswith(("http://", "https://")):
        echo(f"this sweep logs to a tracking server: open {redact(uri)}")
        return
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).is_file():
        raise RibrayError(f"no MLflow store at {uri[len('sqlite:///'):]}: has the sweep run?")
    port = port or free_port(host)
    check_port(host, port)
    guard = subprocess.Popen([sys.executable, "-m", "ribray.results.ui_guard", str(os.getpid()), "--",
                              *server_command(uri, host, port)],
                             start_new_session=True, env=os.environ | SERVER_ENV)
    stop = _stopper(guard)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        echo(f"starting the MLflow UI for {uri} ...")
        if _healthy(host, port, guard):
            link = experiment_link(uri, found.experiment, f"http://{host}:{port}")
            echo(f"MLflow UI at {link} (Ctrl-C to stop)")
        code = guard.wait()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM: a deliberate stop
        code = None
    finally:
        stop()
        signal.signal(signal.SIGTERM, previous)
    if code is None:
        echo("MLflow UI stopped")
    elif code:
        raise RibrayError(f"the MLflow UI exited with code {code} (its messages are above)")


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def server_command(uri: str, host: str, port: int) -> list[str]:
    """`mlflow server` with one worker, no access log and warnings only (its registry is the
    tracking store, said here so it does not print that it assumed so)."""
    return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--registry-store-uri", uri,
            "--host", host, "--port", str(port), "--workers", "1",
            "--uvicorn-opts", "--no-access-log --log-level warning"]


def _stopper(guard: subprocess.Popen):
    def stop() -> None:
        if guard.poll() is None:
            try:
                os.killpg(guard.pid, signal.SIGTERM)
                guard.wait(20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(guard.pid, signal.SIGKILL)
    return stop


def _healthy(host: str, port: int, guard: subprocess.Popen) -> bool:
    deadline = time.monotonic() + HEALTH_WAIT_S
    while time.monotonic() < deadline and guard.poll() is None:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False
