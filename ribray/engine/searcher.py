"""PlanSearcher: hands Ray Tune the plan's trials as their dependencies finish."""

from __future__ import annotations

import json
from pathlib import Path

from ray.tune.search import Searcher

from ribray.errors import RibrayError
from ribray.plan import Trial
from ribray.plan.schedule import PlanOrder

METRIC = "trial_finished"  # Tune reserves "done" for itself
STATE_VERSION = 2  # ids only; ribray 0.2.0 and older saved every trial's config (still read)


class PlanSearcher(Searcher, PlanOrder):
    """Hands Ray Tune the plan's trials in the order `PlanOrder` (ribray/plan/schedule.py) states:
    ready trials (every dependency done) in plan order, interpolations first, then the longest
    ready trial; never a trial whose dependency failed for good (reported as skipped). The same
    policy drives `ribray plan --gpus N`'s simulated schedule.

    Every call is O(log n) amortised. Its saved state is ids, not configs: the trials come with
    the searcher that Tune pickled when the run began.
    """

    def __init__(self, trials: list[Trial], done: set[str] = frozenset(),
                 hours: dict[str, float] | None = None, failed: set[str] = frozenset()):
        Searcher.__init__(self, metric=METRIC, mode="max")
        PlanOrder.__init__(self, trials, done=done, hours=hours, failed=failed)

    # -- pickling (tuner.pkl): the trials and the state, not the derived indexes ----------
    def __getstate__(self) -> dict:
        kept = {k: v for k, v in self.__dict__.items() if not k.startswith("_ix_")}
        return kept | {"_saved": self.get_state()}

    def __setstate__(self, state: dict) -> None:
        saved = state.pop("_saved", None)
        if saved is None:  # pickled by ribray 0.2.0 or older
            from ribray.compat.pickles import searcher_attributes

            saved = searcher_attributes(state)
        self.__dict__.update(state)
        self.set_state(saved)

    # -- Tune's Searcher interface -------------------------------------------------------
    def suggest(self, trial_id: str) -> dict | str | None:
        ready = self.take()
        if ready is None:
            return Searcher.FINISHED if not self.running and not self._waiting() else None
        self.running[trial_id] = ready
        return self.trials[ready].to_config()

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        plan_id = self.running.pop(trial_id, None)
        if plan_id is None:
            return
        if error or not result or not result.get(METRIC):
            self.fail(plan_id)
        else:
            self.finish(plan_id)

    def save(self, checkpoint_path: str) -> None:
        Path(checkpoint_path).write_text(json.dumps(self.get_state()))

    def restore(self, checkpoint_path: str) -> None:
        self.set_state(json.loads(Path(checkpoint_path).read_text()))

    def get_state(self) -> dict:
        return {"version": STATE_VERSION, "order": self.pending_ids(), "done": sorted(self.done),
                "failed": sorted(self.failed), "running": self.running}

    def set_state(self, state: dict) -> None:
        """Also reads the states ribray 0.2.0 and older saved, with every trial's config."""
        if "trials" in state:
            from ribray.compat.pickles import saved_trials

            self.trials, self.hours = saved_trials(state)
        unknown = [i for i in (*state["order"], *state["running"].values()) if i not in self.trials]
        if unknown:
            raise RibrayError(f"the saved searcher state names {len(unknown)} trial(s) this searcher's plan does "
                              f"not have, e.g. {unknown[0]} (a state of another sweep?)")
        self._index(pending=list(state["order"]), done=set(state["done"]), failed=set(state["failed"]),
                    running=dict(state["running"]))
