"""Early interpolation: the makespan of the PlanSearcher's order vs a barrier order (every
fine-tune first, interpolations only once all of them have finished) on the same plan, the
same trial durations and the same number of lanes (fake GPUs), with sleep-based trials.

Each order is simulated (ribray.plan.schedule.simulate driving the real searcher objects, no Ray) and run
as real Ray Tune trials; the two agree, so a measured difference comes from the order.

Why one order beats another: both do the same work, so only idle lanes differ. A barrier
idles every lane but one while the last fine-tunes finish (nothing else may start), then
runs every interpolation. Handing out ready interpolations fills those idle lanes only if a
long fine-tune is still running then; and handing them out first delays the fine-tunes
queued behind them, which lengthens the tail when a long fine-tune is on the critical path.
Durations follow ribray's costs: every trial evaluates the eval sets once (1 unit), and a
fine-tune also trains (units by downstream-set size).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from ray.tune.search import Searcher

from benchmarks.results import Check, Section
from benchmarks.sizes import Sizes
from benchmarks.sleep_trial import IDLE, WARMUP, sleep_trial
from ribray.engine.searcher import METRIC, PlanSearcher
from ribray.plan import FinetuneTrial, Plan, Trial, make_plan, schedule
from ribray.plan.schedule import Schedule, Spans
from ribray.spec import parse_spec

TARGET = 0.85
LANES = 2

# Three downstream sets listed in DESIGN.md's order (the large one last), the methods a soup
# reads, one WiSE-FT alpha and the soup: 16 trials.
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
    units times its method's factor (LwF also runs the frozen teacher; EWC adds a penalty).
    ImageNet-V2/-A train in ~0.1 of an evaluation pass (10 epochs of 10k/7.5k images at
    2219 img/s vs 4.04M eval images at 7800 img/s); ImageNet-C's 3.75M training images
    would take ~32 passes, compressed to 8 to keep the run short.
    """

    train: dict[str, float] = field(default_factory=lambda: {
        "imagenet_v2": 0.1, "imagenet_a": 0.1, "imagenet_c": 8.0})
    method_factor: dict[str, float] = field(default_factory=lambda: {
        "ft": 1.0, "ewc": 1.05, "lwf": 1.33})
    unit_s: float = 1.0

    def seconds(self, trial: Trial) -> float:
        units = 1.0
        if isinstance(trial, FinetuneTrial):
            units += self.train[trial.downstream] * self.method_factor.get(trial.method, 1.0)
        return units * self.unit_s


class BarrierSearcher(PlanSearcher):
    """A two-phase sweep: plan order, but no interpolation until every other trial is done."""

    def _next_ready(self) -> str | None:
        ready = [i for i in self.pending_ids() if self._deps_done(i)]
        if any(not t.early and i not in self.done | self.failed for i, t in self.trials.items()):
            ready = [i for i in ready if not self.trials[i].early]
        return ready[0] if ready else None


ORDERS: dict[str, Callable[[Plan, CostModel], PlanSearcher]] = {
    "plan_searcher": lambda plan, cost: PlanSearcher(list(plan.trials),
                                                     hours={t.trial_id: cost.seconds(t) for t in plan.trials}),
    "barrier": lambda plan, cost: BarrierSearcher(list(plan.trials)),
}


class WarmLanes(Searcher):
    """Hands Tune one warm-up trial per lane, which all wait until every lane has started,
    then the wrapped searcher's trials, and a 50 ms idle trial whenever it has nothing ready.

    Tune starts trial actors lazily, gives a pending trial a finished trial's actor
    (cancelling the one it was starting) and drops cached actors that no trial waits for:
    with trials shorter than an actor's start, lanes would otherwise go unused. A real
    sweep's trials run for minutes, so an actor's start (seconds) barely shows there.
    """

    def __init__(self, searcher: Searcher, lanes: int, rendezvous: str, timeout_s: float = 120):
        super().__init__(metric=METRIC, mode="max")
        self.searcher, self.lanes = searcher, lanes
        self.warmup = {"trial_id": WARMUP, "rendezvous": rendezvous, "lanes": lanes,
                       "timeout_s": timeout_s}
        self.warmups = 0
        self.fillers: set[str] = set()  # Tune ids of warm-up and idle trials

    def suggest(self, trial_id: str) -> dict | str | None:
        if self.warmups < self.lanes:
            self.warmups += 1
            self.fillers.add(trial_id)
            return dict(self.warmup)
        config = self.searcher.suggest(trial_id)
        if config is None:  # nothing ready: keep the lane's actor, Tune drops idle ones
            self.fillers.add(trial_id)
            return {"trial_id": IDLE}
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        if trial_id not in self.fillers:
            self.searcher.on_trial_complete(trial_id, result, error)

    # Tune checkpoints its searchers while it runs.
    def get_state(self) -> dict:
        return {"searcher": self.searcher.get_state(), "warmups": self.warmups,
                "fillers": sorted(self.fillers)}

    def set_state(self, state: dict) -> None:
        self.searcher.set_state(state["searcher"])
        self.warmups, self.fillers = state["warmups"], set(state["fillers"])

    def save(self, checkpoint_path: str) -> None:
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path: str) -> None:
        self.searcher.restore(checkpoint_path)


def grid_plan(grid: dict | None = None) -> Plan:
    return make_plan(parse_spec(grid or GRID))


def makespan(spans: Spans) -> float:
    return Schedule(spans, lanes=1).makespan


def simulate(searcher: PlanSearcher, seconds: Callable[[Trial], float], lanes: int) -> Spans:
    """When each trial runs if `lanes` run at once and each takes exactly `seconds(trial)`:
    `ribray plan --gpus`'s simulation, driving the searcher's own order."""
    return schedule.simulate(searcher, {i: seconds(t) for i, t in searcher.trials.items()}, lanes).spans


def run_on_ray(plan: Plan, searcher: PlanSearcher, cost: CostModel, lanes: int) -> Spans:
    """When each trial ran as a real Tune trial claiming one (fake) GPU. Needs a Ray with
    at least `lanes` GPUs and CPUs."""
    from ray import tune

    from benchmarks.tune_runner import run_trials

    durations = {t.trial_id: cost.seconds(t) for t in plan.trials}
    trainable = tune.with_parameters(sleep_trial, durations=durations, metric=METRIC)
    with tempfile.TemporaryDirectory(prefix="ribray-bench-lanes-") as rendezvous:
        results = run_trials(trainable, {"cpu": 1, "gpu": 1}, num_samples=-1,
                             search_alg=WarmLanes(searcher, lanes, rendezvous),
                             max_concurrent=lanes, reuse_actors=True)
    spans = {r["plan_trial_id"]: (r["started"], r["finished"])
             for r in results if r["plan_trial_id"] not in (WARMUP, IDLE)}
    if set(spans) != set(durations):
        raise RuntimeError(f"{len(spans)} of {len(plan)} planned trials reported")
    return spans


def compare(cost: CostModel, lanes: int = LANES, on_ray: bool = True, grid: dict | None = None,
            orders: tuple[str, ...] = ("plan_searcher", "barrier")) -> dict:
    """Each order's simulated and (with `on_ray`) measured makespan, in seconds."""
    plan = grid_plan(grid)
    found: dict = {"trials": len(plan), "lanes": lanes, "unit_s": cost.unit_s}
    for name in orders:
        found[name] = {"simulated_s": makespan(simulate(ORDERS[name](plan, cost), cost.seconds, lanes))}
        if on_ray:
            found[name]["measured_s"] = makespan(run_on_ray(plan, ORDERS[name](plan, cost), cost, lanes))
    return found


def makespan_ratio(found: dict, order: str = "plan_searcher", kind: str = "measured_s") -> float:
    """An order's makespan over the barrier's."""
    return found[order][kind] / found["barrier"][kind]


def measure(sizes: Sizes) -> Section:
    """Needs a Ray with at least LANES (fake) GPUs and LANES CPUs."""
    found = compare(CostModel(unit_s=sizes.makespan_unit_s), orders=tuple(ORDERS))
    found["ratios_vs_barrier"] = {
        "plan_searcher": {kind: makespan_ratio(found, "plan_searcher", kind)
                          for kind in ("simulated_s", "measured_s")}}
    ratios = found["ratios_vs_barrier"]
    note = f"simulated {ratios['plan_searcher']['simulated_s']:.3f}"
    return Section("makespan", found, [Check("makespan: PlanSearcher / barrier",
                                             ratios["plan_searcher"]["measured_s"], TARGET,
                                             at_least=False, note=note)])
