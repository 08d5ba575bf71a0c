"""PlanSearcher: hands Ray Tune the plan's trials as their dependencies finish."""

from __future__ import annotations

import heapq
import json
from collections import deque
from pathlib import Path

from ray.tune.search import Searcher

from ribray.errors import RibrayError
from ribray.plan import Trial

METRIC = "trial_finished"  # Tune reserves "done" for itself
STATE_VERSION = 2  # ids only; ribray 0.2.0 and older saved every trial's config (still read)


class PlanSearcher(Searcher):
    """Suggests ready trials (every dependency done) in plan order, interpolations first.

    The plan orders trials cell by cell (the fine-tunes an interpolation reads, then the
    interpolation), so the first WiSE-FT/soup trials start while the grid is still running,
    and a ready trial of an `early` kind (interpolations) jumps the queue. With estimated
    `hours` per trial, once the first early trial has started the longest ready trial goes
    next, so long fine-tunes do not leave GPUs idle at the end of the sweep.
    Trials whose dependency failed for good are never suggested; they are reported as skipped.

    Every call is O(log n) amortised: trials become ready when their last dependency finishes
    (a count per trial), ready trials wait in heaps (plan position; longest first), and a
    failure marks everything downstream of it blocked once. Its saved state is ids, not
    configs: the trials come with the searcher that Tune pickled when the run began.
    """

    def __init__(self, trials: list[Trial], done: set[str] = frozenset(),
                 hours: dict[str, float] | None = None, failed: set[str] = frozenset()):
        super().__init__(metric=METRIC, mode="max")
        self.hours = dict(hours or {})  # estimated GPU-hours per plan id: longest ready first
        self.trials = {t.trial_id: t for t in trials}
        self._index(pending=[t.trial_id for t in trials if t.trial_id not in done and t.trial_id not in failed],
                    done=set(done), failed=set(failed), running={})

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
        ready = self._next_ready()
        if ready is None:
            return Searcher.FINISHED if not self.running and not self._waiting() else None
        self._hand_out(ready)
        self.running[trial_id] = ready
        return self.trials[ready].to_config()

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        plan_id = self.running.pop(trial_id, None)
        if plan_id is None:
            return
        if error or not result or not result.get(METRIC):
            self._fail(plan_id)
        else:
            self._finish(plan_id)

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

    # -- plan bookkeeping ----------------------------------------------------------------
    def _index(self, pending: list[str], done: set[str], failed: set[str], running: dict[str, str]) -> None:
        """Build the indexes from the state: O(trials + dependencies)."""
        self.done, self.failed, self.running = done, failed, running  # running: Tune's id -> plan id
        self._ix_position = {plan_id: i for i, plan_id in enumerate(self.trials)}
        self._ix_pending = set(pending)
        self._ix_dependents: dict[str, list[str]] = {}
        self._ix_unmet: dict[str, int] = {}  # pending trial -> its dependencies not done yet
        for plan_id in pending:
            unmet = 0
            for dependency in self.trials[plan_id].depends_on:
                self._ix_dependents.setdefault(dependency, []).append(plan_id)
                unmet += dependency not in done
            self._ix_unmet[plan_id] = unmet
        self._ix_early: list[int] = []  # heaps of ready trials: plan position
        self._ix_ready: list[int] = []
        self._ix_longest: list[tuple[float, int]] = []  # (-hours, plan position)
        self._ix_ids = list(self.trials)
        for plan_id in pending:
            if not self._ix_unmet[plan_id]:
                self._push_ready(plan_id)
        handed_out = [*done, *failed, *running.values()]
        self._ix_early_started = any(self.trials[i].early for i in handed_out if i in self.trials)
        self._ix_blocked: set[str] = set()
        self._block_downstream_of(failed)

    def _push_ready(self, plan_id: str) -> None:
        position = self._ix_position[plan_id]
        if self.trials[plan_id].early:
            heapq.heappush(self._ix_early, position)
        else:
            heapq.heappush(self._ix_ready, position)
            heapq.heappush(self._ix_longest, (-self.hours.get(plan_id, 0.0), position))

    def _first(self, heap: list) -> str | None:
        """The heap's best trial still pending (entries of trials handed out are dropped)."""
        while heap:
            top = heap[0]
            plan_id = self._ix_ids[top[1] if isinstance(top, tuple) else top]
            if plan_id in self._ix_pending:
                return plan_id
            heapq.heappop(heap)
        return None

    def _next_ready(self) -> str | None:
        early = self._first(self._ix_early)
        if early is not None:
            return early
        if not self.hours or not self._ix_early_started:
            return self._first(self._ix_ready)
        # Then the longest ready trial (LPT): the big sets' fine-tunes do not trail at the end
        # of the sweep while GPUs idle; ties keep plan order.
        return self._first(self._ix_longest)

    def _hand_out(self, plan_id: str) -> None:
        self._ix_pending.discard(plan_id)
        self._ix_early_started = self._ix_early_started or self.trials[plan_id].early

    def _finish(self, plan_id: str) -> None:
        self.done.add(plan_id)
        for dependent in self._ix_dependents.get(plan_id, ()):
            if dependent in self._ix_pending:
                self._ix_unmet[dependent] -= 1
                if not self._ix_unmet[dependent]:
                    self._push_ready(dependent)

    def _fail(self, plan_id: str) -> None:
        self.failed.add(plan_id)
        self._block_downstream_of([plan_id])

    def _block_downstream_of(self, failed) -> None:
        """Mark every pending trial that waits, directly or further down, on a failed trial."""
        queue = deque(failed)
        while queue:
            for dependent in self._ix_dependents.get(queue.popleft(), ()):
                if dependent in self._ix_pending and dependent not in self._ix_blocked:
                    self._ix_blocked.add(dependent)
                    queue.append(dependent)

    def first_early_started(self) -> bool:
        """Until then plan order, so the first cell's interpolations become ready early."""
        return self._ix_early_started

    def _deps_done(self, plan_id: str) -> bool:
        return all(d in self.done for d in self.trials[plan_id].depends_on)

    def _waiting(self) -> bool:
        """True while some unsuggested trial can still become ready."""
        return len(self._ix_pending) > len(self._ix_blocked)  # blocked trials are pending, never ready

    def pending_ids(self) -> list[str]:
        """Plan ids not handed out yet, in plan order."""
        return sorted(self._ix_pending, key=self._ix_position.__getitem__)

    def runnable(self) -> list[str]:
        """Plan ids still to run that no failed dependency blocks."""
        return [i for i in self.pending_ids() if i not in self._ix_blocked]

    def skipped(self) -> list[str]:
        """Plan ids never run because a dependency failed."""
        return [i for i in self.pending_ids() if i in self._ix_blocked]
