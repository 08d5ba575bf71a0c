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
        # A searcher pickled by ribray 0.1 (tuner.pkl of an interrupted run) held a cost
        # function; its saved state (restore, below) replaces what it held right after.
        state.setdefault("hours", {})
        state.pop("cost", None)
        saved = state.pop("_saved", None)
        self.__dict__.update(state)
        if saved is not None:
            self.set_state(saved)
        else:  # pickled by ribray 0.2.0 and older: order / done / failed / running as attributes
            self._index(pending=list(state.get("order", [])), done=set(state.get("done", ())),
                        failed=set(state.get("failed", ())), running=dict(state.get("running", {})))

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
        """Also reads the states ribray 0.1 (its trial configs, no hours) and 0.2.0 (every
        trial's config) saved."""
        if "trials" in state:
            self.trials = {c["trial_id"]: Trial.from_config(c) for c in state["trials"]}
        if "hours" in state:
            self.hours = dict(state["hours"])
        elif "trials" in state:  # ribray 0.1 kept a cost function instead: estimate from the packaged rates
            from ribray.plan.estimate import load_throughput, trial_hours

            throughput = load_throughput()
            self.hours = {i: trial_hours(t, throughput) for i, t in self.trials.items()}
        unknown = [i for i in (*state["order"], *state["running"].values()) if i not in self.trials]
        if unknown:
            raise RibrayError(f"the saved searcher state names {len(unknown)} trial(s) this searcher's plan does "
                              f"not have, e.g. {unknown[0]} (a state of another sweep?)")
        self._index(pending=list(state["order"]), done=set(state["done"]), failed=set(state["failed"]),
                    running=dict(state["running"]))
