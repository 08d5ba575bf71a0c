"""Fault injection for ribray's own fault tests: kill or fail a trial at a chosen step, once.

Set RIBRAY_INJECT_FAULT in the driver's environment, e.g.
``kill:method=ft:epoch=1:step=2:marker=/tmp/fired`` (SIGKILL the trial's worker process in
the second epoch, at its third step), ``raise:...`` (raise an exception there) or
``sleep:...:seconds=8`` (pause there, so a test can stop a node or a server mid-trial). The
driver hands it to the trials beside (not inside) the sweep's settings; the fault fires once:
the marker file records that it has. Unset, nothing here runs.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

ENV = "RIBRAY_INJECT_FAULT"


def from_environment() -> dict[str, str] | None:
    """The fault the driver's environment asks for, if any."""
    return parse(os.environ.get(ENV))


def parse(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    action, *fields = text.split(":")
    spec = dict(field.split("=", 1) for field in fields)
    return {"action": action, **spec}


def with_faults(batches: Iterable, fault: dict[str, str] | None, method: str, epoch: int) -> Iterable:
    """`batches`, unchanged unless a fault is set for this method and epoch."""
    if fault is None or fault.get("method", method) != method or int(fault.get("epoch", 0)) != epoch:
        return batches
    return _firing(batches, fault)


def _firing(batches: Iterable, fault: dict[str, str]) -> Iterator:
    marker = Path(fault["marker"])
    for step, batch in enumerate(batches):
        if step == int(fault.get("step", 0)) and not marker.exists():
            marker.write_text(str(os.getpid()))
            if fault["action"] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if fault["action"] == "sleep":
                time.sleep(float(fault.get("seconds", 10)))
            else:
                raise RuntimeError(f"injected fault at step {step}")
        yield batch
