"""PlanSearcher: dependencies first, interpolations as soon as ready, save/restore, failures."""

from __future__ import annotations

import json
import pickle

import pytest
from ray.tune.search import Searcher

from ribray.engine.searcher import PlanSearcher
from ribray.errors import RibrayError
from ribray.plan import make_plan
from ribray.spec import parse_spec

SPEC = {"name": "s", "data": {"root": "/data"}, "models": ["tiny_vit"],
        "downstream": ["imagenet_r", "imagenet_sketch"], "methods": {"ft": {}, "lp": {}},
        "interpolations": {"wise_ft": {"of": "ft", "alphas": [0.5]}}}


def _searcher(done=frozenset()):
    plan = make_plan(parse_spec(SPEC))
    return plan, PlanSearcher(list(plan.trials), done=set(done))


def _label(plan, config):
    return plan.by_id()[config["trial_id"]].label


def test_interpolation_is_suggested_as_soon_as_its_finetune_is_done():
    plan, searcher = _searcher()
    started = [searcher.suggest(f"t{i}") for i in range(3)]
    assert [_label(plan, c) for c in started] == [
        "tiny_vit/pretrained", "tiny_vit/ft@imagenet_r#0", "tiny_vit/lp@imagenet_r#0"]
    searcher.on_trial_complete("t1", {"trial_finished": 1})
    assert _label(plan, searcher.suggest("t3")) == "tiny_vit/wise_ft(0.5)@imagenet_r#0"


def test_waits_then_finishes():
    plan, searcher = _searcher()
    seen, tune_id = [], 0
    while True:
        config = searcher.suggest(f"t{tune_id}")
        if config is None:  # everything runnable is running: complete the oldest
            oldest = next(iter(searcher.running))
            searcher.on_trial_complete(oldest, {"trial_finished": 1})
            continue
        if config == Searcher.FINISHED:
            break
        seen.append(config["trial_id"])
        tune_id += 1
    assert sorted(seen) == sorted(t.trial_id for t in plan.trials)


def test_done_trials_are_not_suggested_and_count_as_dependencies():
    plan, _ = _searcher()
    ft = next(t for t in plan.trials if t.label == "tiny_vit/ft@imagenet_r#0")
    _, searcher = _searcher(done={ft.trial_id})
    first_two = [_label(plan, searcher.suggest(f"t{i}")) for i in range(2)]
    assert first_two == ["tiny_vit/wise_ft(0.5)@imagenet_r#0", "tiny_vit/pretrained"]


def test_failed_dependency_skips_dependents_and_the_search_finishes():
    plan, searcher = _searcher()
    for i in range(len(plan)):
        config = searcher.suggest(f"t{i}")
        if config in (None, Searcher.FINISHED):
            break
        ok = plan.by_id()[config["trial_id"]].method != "ft"
        searcher.on_trial_complete(f"t{i}", {"trial_finished": 1} if ok else None, error=not ok)
    assert searcher.suggest("last") == Searcher.FINISHED
    skipped = {plan.by_id()[i].label for i in searcher.skipped()}
    assert skipped == {"tiny_vit/wise_ft(0.5)@imagenet_r#0", "tiny_vit/wise_ft(0.5)@imagenet_sketch#0"}


def test_state_round_trips(tmp_path):
    plan, searcher = _searcher()
    searcher.suggest("a")
    searcher.suggest("b")
    searcher.on_trial_complete("a", {"trial_finished": 1})
    searcher.save(str(tmp_path / "state.json"))
    restored = PlanSearcher(list(plan.trials))  # as Tune unpickles it from tuner.pkl
    restored.restore(str(tmp_path / "state.json"))
    assert restored.get_state() == searcher.get_state()
    assert restored.suggest("c") == searcher.suggest("c")
    state = json.loads((tmp_path / "state.json").read_text())
    assert set(state) == {"version", "order", "done", "failed", "running"}  # ids, not configs


def test_a_state_of_another_plan_is_refused(tmp_path):
    plan, searcher = _searcher()
    searcher.save(str(tmp_path / "state.json"))
    with pytest.raises(RibrayError, match=rf"names {len(plan)} trial\(s\) this searcher's plan does not have"):
        PlanSearcher([]).restore(str(tmp_path / "state.json"))


def test_a_pickled_searcher_keeps_its_place(tmp_path):
    plan, searcher = _searcher()
    searcher.suggest("a")
    searcher.on_trial_complete("a", {"trial_finished": 1})
    searcher.suggest("b")
    copy = pickle.loads(pickle.dumps(searcher))
    assert copy.get_state() == searcher.get_state()
    assert [copy.suggest(f"c{i}") for i in range(3)] == [searcher.suggest(f"c{i}") for i in range(3)]
