"""Runs a server command and stops it, with its whole process group, when the process that
started the guard is gone (`ribray ui` killed outright, even with SIGKILL).

    python -m ribray.results.ui_guard PARENT_PID -- COMMAND ARG...

Started in a process group of its own; exits with the command's exit code. The command's
output passes through, less the lines in QUIET (MLflow's hints that do not apply here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

# `mlflow server` says this on every start, whatever the flags: it advises --host 0.0.0.0
QUIET = ("[MLflow] Security middleware enabled with default settings",)


def _alive(pid: int) -> bool:
    """The parent still runs (and is still ours: a reused pid is not)."""
    import psutil

    return psutil.pid_exists(pid) and os.getppid() == pid


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[argv.index("--") + 1:]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    threading.Thread(target=_relay, args=(server.stdout,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: _stop_group())
    while server.poll() is None:
        if not _alive(parent):
            _stop_group()
        time.sleep(0.5)
    return server.returncode


def _relay(stream) -> None:
    for line in stream:
        if not line.startswith(QUIET):
            sys.stderr.write(line)
            sys.stderr.flush()


def _stop_group() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.killpg(0, signal.SIGTERM)  # the server, its workers, and this guard


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
