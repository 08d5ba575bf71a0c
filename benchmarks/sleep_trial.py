"""The makespan simulation's trainable, in a module that imports nothing heavy: a Tune actor
imports it when it starts, and the trials it runs last about a second."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

WARMUP = "warmup"  # the plan trial id of a lane warm-up (see makespan.WarmLanes)
IDLE = "idle"  # a lane with nothing ready polls again after IDLE_S
IDLE_S = 0.05


def sleep_trial(config: dict, durations: dict[str, float], metric: str) -> None:
    """Sleep for the planned trial's duration, or (a warm-up) until every lane has started."""
    from ray import tune

    started = time.time()
    if config["trial_id"] == WARMUP:
        meet(Path(config["rendezvous"]), config["lanes"], timeout_s=config["timeout_s"])
    elif config["trial_id"] == IDLE:
        time.sleep(IDLE_S)
    else:
        time.sleep(durations[config["trial_id"]])
    tune.report({metric: 1, "plan_trial_id": config["trial_id"], "started": started,
                 "finished": time.time()})


def meet(folder: Path, parties: int, timeout_s: float) -> bool:
    """Wait until `parties` processes of this machine have called meet() on `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.getpid()}-{uuid.uuid4().hex}").touch()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sum(1 for _ in folder.iterdir()) >= parties:
            return True
        time.sleep(0.01)
    return False
