"""The driver's objects that older versions pickled into an interrupted run (tuner.pkl) and the
searcher states they saved, as this version's: what `ribray sweep --resume` of such a run reads.

Each function is called from the one place that meets such an old object:
`PlanSearcher.__setstate__` and `.set_state` (engine/searcher.py, only for an old pickle or
state), `Progress.__setstate__` (engine/progress.py, for every restored progress callback).
"""

from __future__ import annotations

from typing import Any

from ribray.compat.legacy_config import read_trial
from ribray.plan import Trial


def searcher_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """A PlanSearcher pickled by ribray 0.2.0 or older (no `_saved` state): its attributes made
    this version's, in place (0.1's cost function dropped: the saved state's hours replace it,
    see `saved_trials`), and the state to restore it with, from its order / done / failed /
    running attributes."""
    attributes.pop("cost", None)
    attributes.setdefault("hours", {})
    return {"order": list(attributes.get("order", [])), "done": sorted(attributes.get("done", ())),
            "failed": sorted(attributes.get("failed", ())), "running": dict(attributes.get("running", {}))}


def saved_trials(state: dict[str, Any]) -> tuple[dict[str, Trial], dict[str, float]]:
    """The trials (by plan id) and estimated hours of a searcher state saved by ribray 0.2.0 or
    older, which held every trial's config (0.1's untyped format in 0.1). 0.1 saved no hours (it
    kept a cost function): they are estimated from the packaged rates."""
    trials = {config["trial_id"]: read_trial(config) for config in state["trials"]}
    if "hours" in state:
        return trials, dict(state["hours"])
    from ribray.plan.estimate import load_throughput, trial_hours

    throughput = load_throughput()
    return trials, {plan_id: trial_hours(trial, throughput) for plan_id, trial in trials.items()}


def progress_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes of an unpickled Progress as this version's: an older ribray's lacks those
    added since (a 0.1 one has no plan ids, so it goes on counting from what its run had done,
    as it did), and 0.1 kept `done` and `failed` counts (now `already_done`, and `failed_ids`,
    which it has too). This version's pass through unchanged."""
    upgraded = {"planned": None, "results": None, "hours": {}, "timed_hours": 0.0, "lanes": 0,
                "already_done": attributes.get("done", 0)}
    return upgraded | {name: value for name, value in attributes.items() if name not in ("done", "failed")}
