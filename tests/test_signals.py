"""SIGTERM is Ctrl-C, and its exit code is 143: before Ray starts (validation, the data
listing) the sweep stops at once, releases its lock and writes nothing; while a Ray Tune run
is on, SIGTERM goes to Tune's SIGINT handler; a stop whose lifeline is gone (the embedded Ray,
signalled with the whole process group) runs its cleanups and exits 143 at once. The sweeps
stopped by SIGTERM and resumed are in tests/engine/test_faults.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from click.testing import CliRunner

from ribray import signals
from ribray.cli import main

from conftest import tiny_spec, write_spec


@pytest.fixture
def sigterm_handler_restored(monkeypatch):
    """The test process's own SIGTERM handling, and no signal remembered, after the test; no
    watcher thread is started here (the one that abandons stops is tested in a subprocess)."""
    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(signals, "_received", None)
    started = threading.Event()
    started.set()
    monkeypatch.setattr(signals, "_watching", started)
    yield
    signal.signal(signal.SIGTERM, previous)


def _sigterm_to_myself(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    raise AssertionError("SIGTERM did not stop the sweep")


@pytest.mark.parametrize("where", ["check_spec", "verified_done"])  # before, and inside, the sweep lock
def test_sigterm_before_ray_starts_exits_143_and_leaves_nothing(where, fake_data, tmp_path, monkeypatch,
                                                                 sigterm_handler_restored):
    monkeypatch.setattr(f"ribray.engine.sweep.{where}", _sigterm_to_myself)
    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data))

    result = CliRunner().invoke(main, ["sweep", str(path)])

    assert result.exit_code == 143, result.output
    assert "interrupted" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists(), "no lock left, no folder made"


def test_sigterm_while_tune_runs_goes_to_its_sigint_handler(sigterm_handler_restored):
    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        signals.stop_on_sigterm()
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert calls == [signal.SIGINT] and signals.interrupted_exit_code() == 143


def test_ray_exiting_on_sigterm_within_its_start_is_an_interrupt(sigterm_handler_restored):
    with pytest.raises(KeyboardInterrupt), signals.sigterm_stays_an_interrupt():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(15))  # what ray.init installs
        os.kill(os.getpid(), signal.SIGTERM)
    assert signals.interrupted_exit_code() == 143
    assert signal.getsignal(signal.SIGTERM) is signals._as_interrupt  # SIGTERM is Ctrl-C again


def test_a_stop_whose_lifeline_is_gone_runs_its_cleanups_and_exits_143(tmp_path):
    script = textwrap.dedent("""
        import os, signal, time
        from ribray import signals

        signal.signal(signal.SIGINT, lambda *_: None)  # Ray Tune's: a stop that never ends
        signals.stop_on_sigterm()
        ray_up = [True]
        with signals.if_abandoned(lambda: print("lock released", flush=True)), \\
                signals.lifeline(lambda: ray_up[0]):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)
            print("still stopping", flush=True)
            ray_up[0] = False  # its GCS went down with the process group
            time.sleep(30)
        print("not abandoned", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 143, done.stderr
    assert done.stdout.splitlines() == ["still stopping", "lock released"]
