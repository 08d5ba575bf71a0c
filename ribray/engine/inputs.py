"""Before dependents start: the final weights that the plan's unfinished trials read must be
there and whole. A finished fine-tune whose weights are gone or broken runs again (its shard
set aside, never deleted), so that the WiSE-FT, soups, LP-FT and CKA trials that read them
wait for it, instead of failing for good on a file that will never appear."""

from __future__ import annotations

from ribray.plan import Plan
from ribray.results.checks import set_aside
from ribray.results.layout import SweepLayout
from ribray.trials.weights import weights_problem


def rerun_producers_of_broken_weights(plan: Plan, layout: SweepLayout, done: set[str], echo) -> set[str]:
    """Ids of the finished trials set aside to run again because weights that an unfinished
    trial reads are missing or broken (a broken file is set aside too; an unfinished
    fine-tune then trains anew instead of reading it)."""
    by_id = plan.by_id()
    waiting = [t for t in plan.trials if t.trial_id not in done]
    readers: dict[str, list[str]] = {}  # producer id -> labels of unfinished trials reading its weights
    for trial in waiting:
        for producer in trial.depends_on:
            if producer in done and by_id[producer].produces_weights:
                readers.setdefault(producer, []).append(trial.label)
    keys = {by_id[p].weights_key: p for p in readers}
    keys |= {t.weights_key: None for t in waiting if t.produces_weights and t.weights_key not in keys}
    rerun = set()
    for key, producer in keys.items():
        location = layout.weights_file(key)
        problem = weights_problem(location)
        if problem is None or (problem == "missing" and producer is None):
            continue
        if problem != "missing":
            set_aside(location)
        if producer is None:
            echo(f"warning: {location.uri}: {problem}; moved to .set-aside/, its fine-tune trains again")
            continue
        set_aside(layout.shard(producer))
        rerun.add(producer)
        echo(f"warning: {location.uri}, the final weights of the finished trial {by_id[producer].label} "
             f"[{producer}], is {problem}; that trial runs again (its shard moved to .set-aside/) before the "
             f"{len(readers[producer])} trial(s) that read them ({', '.join(readers[producer][:3])}"
             f"{', ...' if len(readers[producer]) > 3 else ''})")
    return rerun
