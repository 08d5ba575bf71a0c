"""Fault injection for ribray's own fault tests: kill or fail a trial at a chosen step, once.

Set RIBRAY_INJECT_FAULT in the driver's environment, e.g.
``kill:method=ft:epoch=1:step=2:marker=/tmp/fired`` (SIGKILL the trial's worker process in
the second epoch, at its third step), ``raise:...`` (raise an exception there) or
``sleep:...:seconds=8`` (pause there, so a test can stop a node or a server mid-trial). The
driver hands it to the trials beside (not inside) the sweep's settings, and the trainable arms it
around the trial's runner (`injected`): the training loop itself knows nothing of faults. The
fault fires once: the marker file records that it has. Unset, nothing here runs.
"""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def injected(fault: dict[str, str] | None) -> Iterator[None]:
    """While the block runs, every `Trainer.train_epoch` of this process passes its batches through
    `with_faults` (for its method and epoch); without a fault, nothing changes. Tune runs one trial
    per worker process, so the trial that armed it is the one that trains."""
    if fault is None:
        yield
        return
    from ribray.trials.loop import Trainer

    train_epoch = Trainer.train_epoch

    def faulty_epoch(trainer: Trainer, batches: Iterable):
        return train_epoch(trainer, with_faults(batches, fault, trainer.method.name, trainer.epoch))

    Trainer.train_epoch = faulty_epoch
    try:
        yield
    finally:
        Trainer.train_epoch = train_epoch


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
