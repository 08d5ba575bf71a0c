"""Named variants and option grids: two variants of one method, two checkpoints of one model,
every value of a grid, each its own row with its own label; the trial ids of earlier specs kept."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ribray.cli import main
from ribray.errors import SpecError
from ribray.plan import make_plan
from ribray.spec import parse_spec

BASE = {"name": "v", "data": {"root": "/data"}, "models": ["tiny_vit"], "downstream": ["imagenet_r"]}


def _labels(spec) -> list[str]:
    return [t.label for t in make_plan(spec).trials]


def test_variants_of_one_method_are_rows_of_their_own():
    spec = parse_spec(BASE | {"methods": {"ewc": {}, "ewc_w10": {"method": "ewc", "weight": 10},
                                          "ewc": {}, "lwf": {"temperature": 4}}})  # noqa: F601
    assert list(spec.methods) == ["ewc", "ewc_w10", "lwf(temperature=4)"]
    plan = make_plan(spec)
    tuned = {t.label: t for t in plan.trials if t.kind == "finetune"}
    assert set(tuned) == {"tiny_vit/ewc@imagenet_r#0", "tiny_vit/ewc_w10@imagenet_r#0",
                          "tiny_vit/lwf(temperature=4)@imagenet_r#0"}
    paper, strong = tuned["tiny_vit/ewc@imagenet_r#0"], tuned["tiny_vit/ewc_w10@imagenet_r#0"]
    assert (paper.method, strong.method, strong.variant) == ("ewc", "ewc", "ewc_w10")
    assert strong.options.weight == 10 and paper.trial_id != strong.trial_id
    # the label is not part of the id: the paper's EWC has the id an EWC of ribray 0.2 had
    assert paper.trial_id == make_plan(parse_spec(BASE | {"methods": {"ewc": {}}})).trials[1].trial_id


def test_a_grid_expands_into_labelled_variants_and_plan_shows_it(tmp_path):
    spec = parse_spec(BASE | {"methods": {"ft": {}, "ewc": {"weight": {"grid": [0.1, 1, 10]}}},
                              "interpolations": {"wise_ft": {"of": {"grid": ["ft", "ewc(weight=10)"]}}}})
    assert list(spec.methods) == ["ft", "ewc(weight=0.1)", "ewc(weight=1)", "ewc(weight=10)"]
    assert list(spec.interpolations) == ["wise_ft(of=ft)", "wise_ft(of=ewc(weight=10))"]
    assert [spec.methods[m].options.weight for m in list(spec.methods)[1:]] == [0.1, 1.0, 10.0]
    assert "tiny_vit/wise_ft(of=ewc(weight=10), 0.5)@imagenet_r#0" in _labels(spec)
    path = tmp_path / "grid.yaml"
    path.write_text("name: g\ndata: {root: /data}\nmodels: [tiny_vit]\ndownstream: [imagenet_r]\n"
                    "methods: {ewc: {weight: {grid: [0.1, 1, 10]}}}\nresources: {gpu: 1}\n")
    shown = CliRunner().invoke(main, ["plan", str(path), "--summary"])
    assert shown.exit_code == 0, shown.output
    assert "grid methods.ewc over weight: 3 variants, 3 trials" in shown.output
    assert "ewc(weight=0.1), ewc(weight=1), ewc(weight=10)" in shown.output


def test_a_train_grid_makes_every_method_a_grid():
    spec = parse_spec(BASE | {"train": {"lr": {"grid": [0.01, 0.1]}, "epochs": 2},
                              "methods": {"ft": {}, "lp": {"train": {"lr": 0.5}}, "lp_ft": {}}})
    assert list(spec.methods) == ["ft(lr=0.01)", "ft(lr=0.1)", "lp(lr=0.5)", "lp_ft(lr=0.01)", "lp_ft(lr=0.1)"]
    plan = make_plan(spec)
    by_label = {t.label: t for t in plan.trials}
    assert by_label["tiny_vit/ft(lr=0.1)@imagenet_r#0"].train.lr == 0.1
    assert by_label["tiny_vit/ft(lr=0.1)@imagenet_r#0"].train.epochs == 2
    assert by_label["tiny_vit/lp(lr=0.5)@imagenet_r#0"].train.lr == 0.5  # its own value wins
    # LP-FT of a grid starts from LP with the same grid values when there is one, else the paper's LP
    first = by_label["tiny_vit/lp_ft(lr=0.1)@imagenet_r#0"].depends_on
    assert [plan.by_id()[d].label for d in first] == ["tiny_vit/lp@imagenet_r#0"]


@pytest.mark.parametrize(("methods", "extra", "words"), [
    ({"ft": {}, "ft_again": {"method": "ft"}}, {}, ["methods: 'ft' and 'ft_again' are the same configuration"]),
    ({"ewc": {"weight": {"grid": []}}}, {}, ["methods.ewc.weight: a grid is a non-empty list"]),
    ({"x": {"method": "fft"}}, {}, ["methods.x.method: unknown method; did you mean 'ft'?"]),
    ({"bad label!": {"method": "ft"}}, {}, ["methods.bad label!: a label is up to 64 letters"]),
    ({"mix": {"method": "ft"}}, {"interpolations": {"mix": {"interpolation": "wise_ft", "of": "mix"}}},
     ["interpolations.mix: 'mix' is also a method's label"]),
    ({"pretrained": {"method": "ft"}}, {}, ["methods.pretrained: 'pretrained' is the pretrained model's row"]),
])
def test_label_mistakes_are_refused_with_their_key(methods, extra, words):
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE | {"methods": methods} | extra)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_two_checkpoints_of_one_architecture_are_two_models(tmp_path):
    spec = parse_spec(BASE | {"models": ["tiny_vit", {"name": "tiny_vit", "checkpoint": str(tmp_path / "mine.pt")},
                                         {"label": "my-vit", "name": "tiny_vit", "checkpoint": str(tmp_path / "b.pt")}],
                              "methods": {"ft": {}}})
    assert [m.resolved_label for m in spec.models] == ["tiny_vit", "tiny_vit(checkpoint=mine.pt)", "my-vit"]
    pretrained = [t for t in make_plan(spec).trials if t.kind == "pretrained"]
    assert [t.label for t in pretrained] == ["tiny_vit/pretrained", "tiny_vit(checkpoint=mine.pt)/pretrained",
                                             "my-vit/pretrained"]
    assert len({t.trial_id for t in pretrained}) == 3
    assert pretrained[0].trial_id == make_plan(parse_spec(BASE)).trials[0].trial_id  # ids as before
    with pytest.raises(SpecError, match=r"models\.1: the same model as models\.0"):
        parse_spec(BASE | {"models": ["tiny_vit", {"name": "tiny_vit", "label": "other"}]})
    with pytest.raises(SpecError, match=r"models\.1: the label 'a' is also models\.0's"):
        parse_spec(BASE | {"models": [{"name": "tiny_vit", "label": "a"},
                                      {"name": "tiny_resnet", "label": "a"}]})


def test_interpolations_name_their_ingredients_by_label_or_pattern():
    spec = parse_spec(BASE | {"methods": {"ft": {"train": {"lr": {"grid": [0.01, 0.1]}}}, "ewc_w10":
                                          {"method": "ewc", "weight": 10}},
                              "interpolations": {"wise_ft": {"of": "ewc_w10"},
                                                 "all_ft": {"interpolation": "soup", "ingredients": ["ft(*"]}}})
    plan = make_plan(spec)
    by_label = {t.label: t for t in plan.trials}
    wise = by_label["tiny_vit/wise_ft(of=ewc_w10, 0.5)@imagenet_r#0"]
    assert [plan.by_id()[d].label for d in wise.depends_on] == ["tiny_vit/ewc_w10@imagenet_r#0"]
    souped = by_label["tiny_vit/all_ft@imagenet_r#0"]
    assert souped.ingredients == ("ft(lr=0.01)", "ft(lr=0.1)")
    with pytest.raises(SpecError, match=r"interpolations\.wise_ft\.of: method 'ewc' is not in the sweep's methods"):
        from ribray.spec.validate import check_spec

        check_spec(parse_spec(BASE | {"methods": {"ewc_w10": {"method": "ewc", "weight": 10}},
                                      "interpolations": {"wise_ft": {"of": "ewc"}}}),
                   data=False, weights=False, storage=False, build=False)


def test_model_stock_plans_one_trial_over_every_seed():
    spec = parse_spec(BASE | {"methods": {"ft": {}}, "seeds": [0, 1, 2], "interpolations": {"model_stock": {}}})
    plan = make_plan(spec)
    stock = [t for t in plan.trials if t.method == "model_stock"]
    assert len(stock) == 1 and stock[0].seed is None and stock[0].label == "tiny_vit/model_stock@imagenet_r"
    assert stock[0].ingredients == ("pretrained", "ft#0", "ft#1", "ft#2")
    assert sorted(plan.by_id()[d].seed for d in stock[0].depends_on) == [0, 1, 2]
    from ribray.spec.validate import check_spec

    with pytest.raises(SpecError, match=r"interpolations\.model_stock: model_stock combines the fine-tunes of 2 or "
                                        r"more seeds; the sweep has seeds \[0\]"):
        check_spec(parse_spec(BASE | {"methods": {"ft": {}}, "interpolations": {"model_stock": {}}}),
                   data=False, weights=False, storage=False, build=False)


def test_a_held_out_split_may_not_be_an_eval_set():
    from ribray.spec.validate import check_spec

    spec = parse_spec(BASE | {"methods": {"ft": {}, "lp": {}}, "interpolations": {
        "greedy_soup": {"ingredients": ["pretrained", "ft", "lp"], "held_out": {"dataset": "imagenet_val"}}}})
    with pytest.raises(SpecError, match=r"interpolations\.greedy_soup\.held_out: imagenet_val is one of the sweep's "
                                        r"eval or downstream sets"):
        check_spec(spec, data=False, weights=False, storage=False, build=False)
    default = parse_spec(BASE | {"methods": {"ft": {}, "lp": {}},
                                 "interpolations": {"greedy_soup": {"ingredients": ["pretrained", "ft", "lp"]}}})
    assert "imagenet_train" in default.datasets_read()  # fingerprinted and checked like the others


def test_spec_hashes_of_earlier_specs_are_kept():
    """A spec that uses none of plugins, datasets or labels hashes as it did under ribray 0.2 (its
    results and the new ones are one spec's: reports do not call them mixed)."""
    base = BASE | {"storage": "/runs"}
    spec = parse_spec(base | {"methods": {"ft": {}, "ewc": {"weight": 10}},
                              "interpolations": {"wise_ft": {"of": "ft", "alphas": [0.5]}}})
    assert spec.spec_hash() == "6ccf89dbff69b88f"  # computed by ribray 0.2 (main at ffa49c0)
    models = parse_spec(base | {"models": ["tiny_vit", {"name": "tiny_resnet", "checkpoint": "/x/y.pt"}],
                                "seeds": [0, 1]})
    assert models.spec_hash() == "042f4877e101b739"


def test_the_spec_as_written_loads_back_the_same_variants():
    """spec.yaml (the sweep's MLflow artifact) holds the spec as written, grids as grids: read
    back, it is the same spec, with the same labels."""
    spec = parse_spec(BASE | {"methods": {"ewc": {"weight": {"grid": [1, 10]}}, "ewc_w3": {"method": "ewc", "weight": 3},
                                          "lwf": {"temperature": 4}, "lp": {}},
                              "train": {"lr": {"grid": [0.01, 0.1]}},
                              "interpolations": {"mix": {"interpolation": "wise_ft", "of": "lp(lr=0.1)"}}})
    written = spec.model_dump(mode="json")
    again = parse_spec(BASE | {"methods": written["methods"], "interpolations": written["interpolations"],
                               "train": written["train"]})
    assert list(again.methods) == list(spec.methods) and list(again.interpolations) == ["mix"]
    assert again.spec_hash() == spec.spec_hash()
    assert written["methods"]["ewc"]["weight"] == {"grid": [1.0, 10.0]}
    assert written["methods"]["ewc_w3"]["method"] == "ewc"
