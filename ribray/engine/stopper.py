"""Ending a Tune run early when going on cannot succeed."""

from __future__ import annotations

import time

from ray.tune import Stopper

from ribray.storage import Location, is_full


class StopWhenStorageFull(Stopper):
    """Ends the run when the sweep's local storage is full: every trial would fail writing
    (and be retried, and fail again) and Tune could not save its own state. Looks at most once
    a second (one statvfs call); an object store is never full."""

    def __init__(self, root: str):
        self.root, self.checked, self.full = root, 0.0, False

    def __call__(self, trial_id: str, result: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        if not self.full and time.monotonic() - self.checked >= 1:
            self.checked, self.full = time.monotonic(), is_full(Location(self.root))
        return self.full
