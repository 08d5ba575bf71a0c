"""SIGTERM is Ctrl-C. `timeout`, `kill`, systemd, Slurm and Kubernetes send SIGTERM before
SIGKILL; a sweep stops on it as on Ctrl-C (during a Ray Tune run, Tune's own SIGINT handler
ends the run and saves its state; elsewhere, KeyboardInterrupt), releases its lock, and exits
128 + the signal's number, as shells report a process a signal stopped: 130 after Ctrl-C, 143
after SIGTERM.

Ray replaces the SIGTERM handler when it starts (`ray.init`: exit at once; its embedded node:
kill Ray's processes under the running driver, which then dies with a native crash dump), so
`ray.init` runs inside `sigterm_stays_an_interrupt()`.

`timeout`, Slurm and systemd signal the whole process group, the embedded Ray's processes
included: their GCS gone, Ray Tune's stop would wait a minute for it and then Ray aborts the
driver. So a stop that needs something (`lifeline`: the embedded Ray) is abandoned as soon as
it is gone: the registered cleanups (`if_abandoned`: the lock, the resume hint) run and the process
exits with the same code. What a resume needs is on disk already (shards, each trial's last
epoch checkpoint, Tune's saved state), as after a killed driver.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

_received: int | None = None  # the signal that interrupted this process, if any
_cleanups: list[Callable[[], None]] = []
_lifelines: list[Callable[[], bool]] = []
_watching = threading.Event()


def stop_on_sigterm() -> None:
    """From now on, SIGTERM does what SIGINT does at the moment it arrives."""
    if threading.current_thread() is threading.main_thread():  # signal.signal works only there
        signal.signal(signal.SIGTERM, _as_interrupt)


@contextlib.contextmanager
def sigint_restored() -> Iterator[None]:
    """Run a block that installs its own SIGINT handler (a Ray Tune run: Tune restores the one
    before it only after a signal), and put back the handler it found: a later SIGTERM in this
    process (a notebook's next sweep, its validation) must not reach a finished run's handler."""
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if main else None
    try:
        yield
    finally:
        if main and handler is not None:
            signal.signal(signal.SIGINT, handler)


@contextlib.contextmanager
def sigterm_stays_an_interrupt() -> Iterator[None]:
    """Run a block that installs its own SIGTERM handler (`ray.init`): a SIGTERM within it,
    which Ray's handlers turn into SystemExit, still ends as an interrupt; after it, SIGTERM
    is Ctrl-C again."""
    global _received
    try:
        yield
    except SystemExit:  # only Ray's SIGTERM handlers exit from within ray.init
        _received = signal.SIGTERM
        raise KeyboardInterrupt from None
    finally:
        stop_on_sigterm()


@contextlib.contextmanager
def if_abandoned(cleanup: Callable[[], None]) -> Iterator[None]:
    """Should a stop be abandoned while the block runs, `cleanup` runs first (newest first)."""
    _cleanups.append(cleanup)
    try:
        yield
    finally:
        _cleanups.remove(cleanup)


@contextlib.contextmanager
def lifeline(alive: Callable[[], bool] | None) -> Iterator[None]:
    """While the block runs, a stop after SIGTERM needs what `alive()` checks (the embedded
    Ray); once it says False, the stop is abandoned. None: nothing to check."""
    if alive is None:
        yield
        return
    _lifelines.append(alive)
    try:
        yield
    finally:
        _lifelines.remove(alive)


def interrupted_exit_code() -> int:
    """128 + the signal that interrupted this process: 143 after SIGTERM, else 130 (Ctrl-C)."""
    return 128 + (_received or signal.SIGINT)


def _as_interrupt(signum: int, frame) -> None:
    global _received
    _received = signum
    handler = signal.getsignal(signal.SIGINT)
    if not callable(handler) or handler is signal.default_int_handler:
        raise KeyboardInterrupt  # Python's own (or SIGINT ignored, as for a background job)
    if not _watching.is_set():  # first: the embedded Ray may be going down at this moment
        _watching.set()
        threading.Thread(target=_abandon_without_lifelines, name="ribray-sigterm", daemon=True).start()
    handler(signal.SIGINT, frame)  # Ray Tune's, while a Tuner runs: the run ends, fit returns


def _abandon_without_lifelines(poll_s: float = 0.05) -> None:
    """Abandon the stop at the first lifeline that says it is gone. Soon: once the embedded
    raylet has exited, Ray's core worker ends this process itself (exit code 1, no cleanups);
    its GCS, signalled at the same moment, closes its port first. A lifeline says gone only
    when it is sure (a refused connection, a dead process), never for a slow answer."""
    while True:
        if any(not alive() for alive in list(_lifelines)):
            for cleanup in reversed(list(_cleanups)):
                with contextlib.suppress(Exception):
                    cleanup()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(interrupted_exit_code())
        time.sleep(poll_s)
