"""The plan: a pure function of the spec, hashed ids, dependencies, interpolation-first order."""

from __future__ import annotations

from ribray.plan import make_plan
from ribray.spec import parse_spec

BASE = {"name": "p", "data": {"root": "/data"}, "models": ["tiny_vit"],
        "downstream": ["imagenet_r", "imagenet_sketch"],
        "methods": {"ft": {}, "ewc": {}, "lwf": {}, "lp": {}},
        "interpolations": {"wise_ft": {"of": "ft", "alphas": [0.5, 0.2]},
                           "soup": {"ingredients": ["pretrained", "ft", "ewc", "lwf"]}}}


def _labels(plan):
    return [t.label for t in plan.trials]


def test_same_spec_same_plan():
    assert make_plan(parse_spec(BASE)) == make_plan(parse_spec(dict(BASE)))


def test_grid_size_and_kinds():
    plan = make_plan(parse_spec(BASE | {"seeds": [0, 1]}))
    kinds = [t.kind for t in plan.trials]
    # 1 pretrained eval + 2 seeds x 2 sets x (4 fine-tunes + 2 WiSE-FT alphas + 1 soup)
    assert kinds.count("pretrained") == 1
    assert kinds.count("finetune") == 16
    assert kinds.count("interpolate") == 12
    assert len({t.trial_id for t in plan.trials}) == len(plan)


def test_interpolations_depend_on_the_finetunes_they_average():
    plan = make_plan(parse_spec(BASE))
    by_label = {t.label: t for t in plan.trials}
    soup = by_label["tiny_vit/soup@imagenet_r#0"]
    assert {plan.by_id()[d].method for d in soup.depends_on} == {"ft", "ewc", "lwf"}
    assert all(plan.by_id()[d].downstream == "imagenet_r" for d in soup.depends_on)
    wise = by_label["tiny_vit/wise_ft(0.5)@imagenet_r#0"]
    assert [plan.by_id()[d].method for d in wise.depends_on] == ["ft"]
    assert wise.weights == {"pretrained": None, "ft": plan.by_id()[wise.depends_on[0]].weights_key}


def test_first_interpolation_comes_before_the_rest_of_the_grid():
    labels = _labels(make_plan(parse_spec(BASE)))
    first_wise = labels.index("tiny_vit/wise_ft(0.2)@imagenet_r#0")
    assert first_wise < labels.index("tiny_vit/lp@imagenet_r#0")
    assert first_wise < labels.index("tiny_vit/ft@imagenet_sketch#0")
    assert labels[0] == "tiny_vit/pretrained"


def test_ids_change_with_config_and_weights_survive_new_eval_sets():
    plan = make_plan(parse_spec(BASE))
    lr = make_plan(parse_spec(BASE | {"train": {"lr": 0.1}}))
    more = make_plan(parse_spec(BASE | {"downstream": ["imagenet_r", "imagenet_sketch", "imagenet_a"]}))
    ft = {t.label: t for t in plan.trials}["tiny_vit/ft@imagenet_r#0"]
    ft_lr = {t.label: t for t in lr.trials}["tiny_vit/ft@imagenet_r#0"]
    ft_more = {t.label: t for t in more.trials}["tiny_vit/ft@imagenet_r#0"]
    assert ft.trial_id != ft_lr.trial_id and ft.weights_key != ft_lr.weights_key
    # a new eval set re-evaluates, but the trained weights are the same: no re-training
    assert ft.trial_id != ft_more.trial_id and ft.weights_key == ft_more.weights_key


def test_extending_the_spec_keeps_existing_ids():
    before = {t.trial_id for t in make_plan(parse_spec(BASE)).trials}
    after = make_plan(parse_spec(BASE | {"models": ["tiny_vit", "tiny_resnet"]}))
    assert before < {t.trial_id for t in after.trials}


def test_per_method_train_overrides():
    plan = make_plan(parse_spec(BASE | {"methods": {"ft": {"train": {"lr": 0.5}}, "lp": {}}}))
    by_method = {t.method: t for t in plan.trials if t.downstream == "imagenet_r"}
    assert by_method["ft"].train.lr == 0.5
    assert by_method["lp"].train.lr == 1e-3


def test_evaluation_settings_that_change_numbers_change_ids_but_not_weights():
    base = make_plan(parse_spec(BASE))
    ft = {t.label: t for t in base.trials}["tiny_vit/ft@imagenet_r#0"]
    for changed in ({"decode": "nvjpeg"}, {"precision": "fp32"}, {"limit_per_set": 100}):
        other = {t.label: t for t in make_plan(parse_spec(BASE | {"eval": changed})).trials}
        assert other["tiny_vit/ft@imagenet_r#0"].trial_id != ft.trial_id, changed
        assert other["tiny_vit/ft@imagenet_r#0"].weights_key == ft.weights_key  # no re-training
        assert other["tiny_vit/pretrained"].trial_id != base.trials[0].trial_id
    same = make_plan(parse_spec(BASE | {"eval": {"batch_size": 999, "workers": 3, "decode": "pil"}}))
    assert [t.trial_id for t in same.trials] == [t.trial_id for t in base.trials]  # speed only
    legacy = parse_spec(BASE | {"eval": {"decode": "gpu"}})  # ribray 0.1's name for nvjpeg
    assert legacy.eval.decode == "nvjpeg"
