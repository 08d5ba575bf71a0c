"""The order in which a sweep runs its plan (`PlanOrder`, the policy that ribray's Ray Tune
searcher, engine/searcher.py, hands trials out by), and `simulate`: when each trial would run on
N GPUs if each took its estimated time, by driving that same policy in a discrete-event loop
(`ribray plan --gpus N`). No Ray here: `ribray plan` answers without importing it."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ribray.plan.trial import Trial


class PlanOrder:
    """Ready trials (every dependency done) in plan order, interpolations first.

    The plan orders trials cell by cell (the fine-tunes an interpolation reads, then the
    interpolation), so the first WiSE-FT/soup trials start while the grid is still running,
    and a ready trial of an `early` kind (interpolations) jumps the queue. With estimated
    `hours` per trial, once the first early trial has started the longest ready trial goes
    next, so long fine-tunes do not leave GPUs idle at the end of the sweep.
    Trials whose dependency failed for good are never handed out; they are reported as skipped.

    Every call is O(log n) amortised: trials become ready when their last dependency finishes
    (a count per trial), ready trials wait in heaps (plan position; longest first), and a
    failure marks everything downstream of it blocked once.
    """

    def __init__(self, trials: list[Trial], done: set[str] = frozenset(),
                 hours: dict[str, float] | None = None, failed: set[str] = frozenset()):
        self.hours = dict(hours or {})  # estimated GPU-hours per plan id: longest ready first
        self.trials = {t.trial_id: t for t in trials}
        self._index(pending=[t.trial_id for t in trials if t.trial_id not in done and t.trial_id not in failed],
                    done=set(done), failed=set(failed), running={})

    def take(self) -> str | None:
        """The next trial to start (now handed out), or None while none is ready."""
        ready = self._next_ready()
        if ready is not None:
            self._ix_pending.discard(ready)
            self._ix_early_started = self._ix_early_started or self.trials[ready].early
        return ready

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

    def _first(self, heap: list[int] | list[tuple[float, int]]) -> str | None:
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

    def finish(self, plan_id: str) -> None:
        """`plan_id` is done: the trials waiting on it may become ready."""
        self.done.add(plan_id)
        for dependent in self._ix_dependents.get(plan_id, ()):
            if dependent in self._ix_pending:
                self._ix_unmet[dependent] -= 1
                if not self._ix_unmet[dependent]:
                    self._push_ready(dependent)

    def fail(self, plan_id: str) -> None:
        """`plan_id` failed for good: everything downstream of it is blocked."""
        self.failed.add(plan_id)
        self._block_downstream_of([plan_id])

    def _block_downstream_of(self, failed: Iterable[str]) -> None:
        """Mark every pending trial that waits, directly or further down, on a failed trial."""
        queue = deque(failed)
        while queue:
            for dependent in self._ix_dependents.get(queue.popleft(), ()):
                if dependent in self._ix_pending and dependent not in self._ix_blocked:
                    self._ix_blocked.add(dependent)
                    queue.append(dependent)

    def _deps_done(self, plan_id: str) -> bool:
        return all(d in self.done for d in self.trials[plan_id].depends_on)

    def _waiting(self) -> bool:
        """True while some trial not handed out can still become ready."""
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


Spans = dict[str, tuple[float, float]]  # plan id -> (start, end), in the durations' unit


@dataclass(frozen=True)
class Schedule:
    """When each trial runs in a simulated sweep on `lanes` trials at once."""

    spans: Spans
    lanes: int

    @property
    def makespan(self) -> float:
        """From the first start to the last end: the sweep's wall time."""
        if not self.spans:
            return 0.0
        return max(end for _, end in self.spans.values()) - min(start for start, _ in self.spans.values())

    @property
    def busy(self) -> float:
        """The lanes' busy time summed (the trials' durations)."""
        return sum(end - start for start, end in self.spans.values())

    @property
    def utilisation(self) -> float:
        """The share of `lanes` x makespan the lanes are busy."""
        return self.busy / (self.lanes * self.makespan) if self.makespan else 1.0


def simulate(order: PlanOrder, durations: Mapping[str, float], lanes: int) -> Schedule:
    """When each trial `order` hands out runs if `lanes` trials run at once and each takes exactly
    `durations[plan id]`: whenever a lane is free the order is asked for its next trial, as Ray
    Tune asks ribray's searcher; a trial finishing makes its dependents ready. O(n log n)."""
    if lanes < 1:
        raise ValueError(f"lanes must be at least 1, got {lanes}")
    clock, running, spans, started = 0.0, [], {}, 0
    while True:
        while len(running) < lanes and (plan_id := order.take()) is not None:
            spans[plan_id] = (clock, clock + durations[plan_id])
            heapq.heappush(running, (spans[plan_id][1], started, plan_id))  # ties: first started first
            started += 1
        if not running:
            return Schedule(spans, lanes)
        clock, _, plan_id = heapq.heappop(running)
        order.finish(plan_id)


def on_gpus(trials: list[Trial], gpus: int, gpu_per_trial: float, durations: Mapping[str, float],
            order_hours: Mapping[str, float] | None = None, done: set[str] = frozenset()) -> Schedule:
    """The schedule of the trials not `done` on `gpus` GPUs, `gpu_per_trial` each, in the order
    the sweep's searcher hands them out (`order_hours`: the estimates it orders by; `durations`:
    how long each trial takes)."""
    from ribray.errors import RibrayError

    lanes = int(gpus // gpu_per_trial) if gpu_per_trial > 0 else 0
    if lanes < 1:
        raise RibrayError(f"--gpus {gpus}: each trial claims {gpu_per_trial:g} GPU(s) (resources.gpu), so not one "
                          "trial fits; give at least that many")
    order = PlanOrder(trials, done=done, hours=dict(order_hours if order_hours is not None else durations))
    return simulate(order, durations, lanes)
