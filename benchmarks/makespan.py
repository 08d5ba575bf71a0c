"""Early interpolation: the makespan of the PlanSearcher's order vs a barrier order (every
fine-tune first, interpolations only once all have finished), on the same plan, the same
trial durations and the same number of lanes (fake GPUs), with sleep-based trials.

Each order is both simulated (an event loop that drives the real searcher objects, no Ray)
and run as real Ray Tune trials; the two must agree, which shows the measured difference
comes from the order and not from Ray's noise.

Why an order can win: the two orders do the same work, so only idle lanes differ. A barrier
idles every lane but one while the last fine-tunes finish (nothing else may start), then
runs all interpolations. An order that hands out ready interpolations fills those idle
lanes, but only when a long fine-tune is still running then; and handing interpolations out
first also delays the fine-tunes behind them, which lengthens the tail when a long
fine-tune is on the critical path. Durations below follow ribray's costs: every trial
evaluates the eval sets once (1 unit), a fine-tune also trains (units by set size).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ray.tune.search import Searcher

from benchmarks.common import Check, Section, Sizes
from ribray.plan import Plan, Trial, make_plan
from ribray.searcher import METRIC, PlanSearcher
from ribray.spec import parse_spec

TARGET = 0.85
LANES = 2

# Three downstream sets listed as DESIGN.md lists them (the large one last), the methods a
# soup reads, one WiSE-FT alpha and the soup.
GRID = {
    "name": "makespan", "data": {"root": "/unused"}, "models": ["tiny_vit"],
    "downstream": ["imagenet_v2", "imagenet_a", "imagenet_c"],
    "methods": {"ft": {}, "ewc": {}, "lwf": {}},
    "interpolations": {"wise_ft": {"of": "ft", "alphas": [0.5]},
                       "soup": {"ingredients": ["pretrained", "ft", "ewc", "lwf"]}},
}


@dataclass(frozen=True)
class CostModel:
    """A trial's duration in units of one evaluation pass over the eval sets.

    Every trial evaluates once (1 unit); a fine-tune also trains for `train[downstream]`
    units times its method's factor (LwF runs the frozen teacher too, EWC adds a penalty).
    Defaults: ImageNet-V2/-A train in ~0.1 of an evaluation pass (10 epochs of 10k/7.5k
    images at 2219 img/s vs 4.04M eval images at 7800 img/s); ImageNet-C's 3.75M images
    would take ~32 passes, compressed to 8 here to keep the run short.
    """

    train: dict[str, float] = field(default_factory=lambda: {
        "imagenet_v2": 0.1, "imagenet_a": 0.1, "imagenet_c": 8.0})
    method_factor: dict[str, float] = field(default_factory=lambda: {
        "ft": 1.0, "ewc": 1.05, "lwf": 1.33})
    unit_s: float = 1.0

    def seconds(self, trial: Trial) -> float:
        units = 1.0
        if trial.kind == "finetune":
            units += self.train[trial.downstream] * self.method_factor.get(trial.method, 1.0)
        return units * self.unit_s


class BarrierSearcher(PlanSearcher):
    """A two-phase sweep: plan order, but no interpolation until every other trial is done."""

    def _next_ready(self) -> str | None:
        ready = [i for i in self.order if self._deps_done(i)]
        phase_one_left = any(t.kind != "interpolate" and i not in self.done | self.failed
                             for i, t in self.trials.items())
        if phase_one_left:
            ready = [i for i in ready if self.trials[i].kind != "interpolate"]
        return ready[0] if ready else None


class LongestFirstSearcher(PlanSearcher):
    """What-if, not in ribray: ready interpolations first, then the ready trial with the
    longest estimated duration (a long fine-tune starts early instead of last)."""

    def __init__(self, trials: list[Trial], seconds: Callable[[Trial], float]):
        super().__init__(trials)
        self.seconds = seconds

    def _next_ready(self) -> str | None:
        ready = [i for i in self.order if self._deps_done(i)]
        interpolations = [i for i in ready if self.trials[i].kind == "interpolate"]
        if interpolations or not ready:
            return interpolations[0] if interpolations else None
        return max(ready, key=lambda i: self.seconds(self.trials[i]))  # ties: plan order


ORDERS: dict[str, Callable[[Plan, CostModel], PlanSearcher]] = {
    "plan_searcher": lambda plan, cost: PlanSearcher(list(plan.trials)),
    "barrier": lambda plan, cost: BarrierSearcher(list(plan.trials)),
    "longest_first_what_if": lambda plan, cost: LongestFirstSearcher(list(plan.trials), cost.seconds),
}


def grid_plan(grid: dict | None = None) -> Plan:
    return make_plan(parse_spec(grid or GRID))


def simulate(searcher: PlanSearcher, seconds: Callable[[Trial], float], lanes: int) -> float:
    """Makespan when `lanes` trials run at once and each takes exactly `seconds(trial)`; the
    searcher is asked for a trial whenever a lane is free, as Tune does."""
    clock, running, asked, finished = 0.0, [], 0, False
    while True:
        while not finished and len(running) < lanes:
            config = searcher.suggest(f"sim{asked}")
            if config is None or config == Searcher.FINISHED:
                finished = config == Searcher.FINISHED
                break
            heapq.heappush(running, (clock + seconds(Trial.from_config(config)), f"sim{asked}"))
            asked += 1
        if not running:
            return clock
        clock, tune_id = heapq.heappop(running)
        searcher.on_trial_complete(tune_id, {METRIC: 1})


def _sleep_trial(config: dict, durations: dict[str, float]) -> None:
    """Sleeps for the planned trial's duration; reports when it started and finished."""
    from ray import tune

    started = time.time()
    time.sleep(durations[config["trial_id"]])
    tune.report({METRIC: 1, "started": started, "finished": time.time()})


def run_on_ray(plan: Plan, searcher: PlanSearcher, cost: CostModel, lanes: int) -> float:
    """Makespan of the plan as real Tune trials claiming one (fake) GPU each."""
    from ray import tune

    from benchmarks.tune_runner import run_trials

    durations = {t.trial_id: cost.seconds(t) for t in plan.trials}
    results = run_trials(tune.with_parameters(_sleep_trial, durations=durations),
                         {"cpu": 1, "gpu": 1}, num_samples=-1, search_alg=searcher,
                         max_concurrent=lanes, reuse_actors=True)
    if len(results) != len(plan):
        raise RuntimeError(f"{len(results)} of {len(plan)} trials reported")
    return max(r["finished"] for r in results) - min(r["started"] for r in results)


def compare(cost: CostModel, lanes: int = LANES, on_ray: bool = True, grid: dict | None = None,
            orders: tuple[str, ...] = ("plan_searcher", "barrier")) -> dict:
    """Simulated (and, with `on_ray`, measured) makespans of each order, in seconds."""
    plan = grid_plan(grid)
    found: dict = {"trials": len(plan), "lanes": lanes, "unit_s": cost.unit_s}
    for name in orders:
        found[name] = {"simulated_s": simulate(ORDERS[name](plan, cost), cost.seconds, lanes)}
        if on_ray:
            found[name]["measured_s"] = run_on_ray(plan, ORDERS[name](plan, cost), cost, lanes)
    return found


def makespan_ratio(found: dict, order: str = "plan_searcher", kind: str = "measured_s") -> float:
    """An order's makespan over the barrier's."""
    return found[order][kind] / found["barrier"][kind]


def measure(sizes: Sizes) -> Section:
    """Needs a Ray with at least LANES (fake) GPUs and LANES CPUs."""
    found = compare(CostModel(unit_s=sizes.makespan_unit_s),
                    orders=("plan_searcher", "barrier", "longest_first_what_if"))
    ratios = {name: {kind: makespan_ratio(found, name, kind) for kind in ("simulated_s", "measured_s")}
              for name in ("plan_searcher", "longest_first_what_if")}
    found["ratios_vs_barrier"] = ratios
    what_if = ratios["longest_first_what_if"]["measured_s"]
    return Section("makespan", numbers=found, checks=[Check(
        "makespan: PlanSearcher / barrier", ratios["plan_searcher"]["measured_s"], TARGET,
        at_least=False, note=f"simulated {ratios['plan_searcher']['simulated_s']:.3f}; "
                             f"longest-first what-if {what_if:.3f}")])
