"""A trial worker told to exit (Ray's SIGTERM handler raises SystemExit) exits, and prints no
traceback into the sweep's output, even where the SystemExit lands in a finalizer."""

import subprocess
import sys

import pytest

WORKER = """
import sys
{install}
class Finalized:
    def __del__(self):
        raise {error}
Finalized()  # its __del__ runs here, as a weakref callback or a __del__ does in a Ray worker
print("went on", flush=True)
"""


def _worker(error: str, quiet: bool) -> subprocess.CompletedProcess:
    install = "from ribray.trials.trainable import sigterm_exits_quietly; sigterm_exits_quietly()" if quiet else ""
    return subprocess.run([sys.executable, "-c", WORKER.format(install=install, error=error)],
                          capture_output=True, text=True, timeout=120)


def test_python_alone_prints_the_exit_as_a_traceback_and_goes_on():
    worker = _worker("SystemExit(1)", quiet=False)
    assert "Exception ignored" in worker.stderr and "Traceback" in worker.stderr
    assert worker.stdout == "went on\n" and worker.returncode == 0


@pytest.mark.parametrize("code", [1, 3])
def test_the_trial_worker_exits_quietly_with_the_code(code):
    worker = _worker(f"SystemExit({code})", quiet=True)
    assert (worker.returncode, worker.stdout, worker.stderr) == (code, "", "")


def test_other_errors_in_finalizers_still_print():
    worker = _worker("ValueError('a real bug')", quiet=True)
    assert "ValueError: a real bug" in worker.stderr and worker.stdout == "went on\n"
