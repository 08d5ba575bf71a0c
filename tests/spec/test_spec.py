"""The spec: strict keys with did-you-mean, typed values, paths resolved against the file."""

from __future__ import annotations

import pytest

from ribray.errors import SpecError
from ribray.spec import load_spec, parse_spec

BASE = {"name": "s", "data": {"root": "/data"}, "models": ["tiny_vit"], "downstream": ["imagenet_r"]}


def test_defaults_are_the_papers():
    spec = parse_spec(BASE)
    assert (spec.train.lr, spec.train.momentum, spec.train.batch_size) == (1e-3, 0.9, 64)
    assert (spec.train.epochs, spec.train.warmup_steps, spec.train.weight_decay) == (10, 196, 0.0)
    assert spec.seeds == [0] and spec.retries == 3
    assert spec.resolved_eval_sets() == ["imagenet_val", "imagenet_r"]


def test_unknown_key_names_its_path_and_the_closest_key():
    with pytest.raises(SpecError, match=r"train\.lrr: unknown key; did you mean 'train\.lr'"):
        parse_spec(BASE | {"train": {"lrr": 0.1}})
    with pytest.raises(SpecError, match=r"interpolations\.wise_ft\.alpha: unknown key; did you mean 'interpolations\.wise_ft\.alphas'"):
        parse_spec(BASE | {"interpolations": {"wise_ft": {"alpha": [0.5]}}})


def test_unknown_method_gets_did_you_mean():
    with pytest.raises(SpecError, match=r"methods\.fft: unknown method; did you mean 'ft'"):
        parse_spec(BASE | {"methods": {"fft": {}}})


def test_every_problem_of_a_spec_is_reported_at_once():
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE | {"downstream": ["imagenet_r", "imagenet_skech"], "eval_sets": ["objectnett"],
                           "methods": {"fx": {}, "ewc": {"bogus": 3}, "lp": {}},
                           "interpolations": {"wiseft": {"of": "ft"}}, "train": {"epochs": 0}})
    assert str(caught.value).splitlines() == [
        "invalid spec:",
        "  downstream.1: unknown dataset 'imagenet_skech'; did you mean 'imagenet_sketch'? "
        "(run `ribray data list` to list them)",
        "  eval_sets.0: unknown dataset 'objectnett'; did you mean 'objectnet'? (run `ribray data list` to list them)",
        "  methods.fx: unknown method (run `ribray methods` to list them)",
        "  methods.ewc.bogus: unknown key (valid keys here: train, weight)",
        "  interpolations.wiseft: unknown interpolation; did you mean 'wise_ft'? (run `ribray methods` to list them)",
        "  train.epochs: Input should be greater than or equal to 1 (got 0)",
    ]


def test_wrong_types_and_ranges_name_the_key():
    with pytest.raises(SpecError, match=r"train\.lr: Input should be greater than 0"):
        parse_spec(BASE | {"train": {"lr": -1}})
    with pytest.raises(SpecError, match=r"seeds\.0: Input should be a valid integer"):
        parse_spec(BASE | {"seeds": ["zero"]})
    with pytest.raises(SpecError, match=r"alpha 1\.5 is outside \[0, 1\]"):
        parse_spec(BASE | {"interpolations": {"wise_ft": {"alphas": [1.5]}}})


def test_empty_grid_is_refused():
    with pytest.raises(SpecError, match=r"models: List should have at least 1 item"):
        parse_spec(BASE | {"models": []})
    with pytest.raises(SpecError, match=r"downstream: List should have at least 1 item"):
        parse_spec(BASE | {"downstream": []})


def test_missing_file_and_yaml_syntax_error_with_line(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodels: [a, b\ndata: {root: /x}\n")
    with pytest.raises(SpecError, match=r"YAML syntax error at line \d+"):
        load_spec(bad)


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(SpecError, match="YAML syntax error"):
        load_spec(evil)


def test_relative_paths_resolve_against_the_spec_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "s.yaml"
    path.write_text("name: s\nstorage: ../runs\ndata: {root: data}\nmodels: [tiny_vit]\ndownstream: [imagenet_r]\n")
    spec = load_spec(path)
    assert spec.storage == str(tmp_path / "runs")
    assert spec.data.root == str(tmp_path / "sub" / "data")


def test_spec_hash_is_stable_and_changes_with_content():
    assert parse_spec(BASE).spec_hash() == parse_spec(dict(BASE)).spec_hash()
    assert parse_spec(BASE).spec_hash() != parse_spec(BASE | {"seeds": [1]}).spec_hash()


def test_validate_runs_each_prepared_model_at_its_evaluation_size(monkeypatch):
    """What VPT on torchvision's ResNet-50 V2 met: a prompt sized for the training input (176 px)
    while trials feed the evaluation size (224 px). validate feeds the prepared model one image
    at the evaluation size, so such a mismatch is an error before any trial."""
    from ribray.methods import vpt
    from ribray.spec.validate import check_spec

    spec = parse_spec(BASE | {"models": ["tiny_resnet"], "methods": {"vpt": {"prompt_size": 4}}})
    assert check_spec(spec, data=False, storage=False)
    monkeypatch.setattr(vpt, "_input_size", lambda model: (24, 24))  # the training size
    with pytest.raises(SpecError, match=r"methods.vpt \(vpt\(prompt_size=4\)\) x models.0 \(tiny_resnet\): the "
                                        r"prepared model fails on its 32x32 evaluation input"):
        check_spec(spec, data=False, storage=False)


def test_validate_names_cka_layers_the_model_does_not_have():
    from ribray.spec.validate import check_spec

    spec = parse_spec(BASE | {"methods": {"ft": {}}, "analyses": {"cka": {"probe_images": 64}}})
    with pytest.raises(SpecError, match=r"analyses.cka.layers x models.0 \(tiny_vit\): unknown layer of "
                                        r"VisionTransformer 'blocks.5.mlp.fc2'; did you mean 'blocks.1.mlp.fc2'"):
        check_spec(spec, data=False, storage=False)
    ok = parse_spec(BASE | {"methods": {"ft": {}}, "analyses": {"cka": {"probe_images": 64,
                                                                       "layers": ["blocks.1.mlp.fc2"]}}})
    assert check_spec(ok, data=False, storage=False)


@pytest.mark.parametrize(("fidelity", "missing", "expected"), [
    ("ribray", "ot", "analyses.otdd: needs pot (pip install 'ribray[analysis]'); not installed here"),
    ("reference", "geomloss", "analyses.otdd: needs geomloss (pip install 'ribray[analysis]'), the otdd "
                              "library's solver; not installed here"),
])
def test_validate_names_an_analysis_package_that_is_not_installed(fidelity, missing, expected, monkeypatch):
    """Before any trial: an OTDD trial would fail on the import only after its features were computed."""
    import importlib.util

    from ribray.spec.validate import check_spec

    spec = parse_spec(BASE | {"fidelity": fidelity, "analyses": {"otdd": {}}})
    assert check_spec(spec, data=False, storage=False, build=False)  # both installed here
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a))
    with pytest.raises(SpecError) as refused:
        check_spec(spec, data=False, storage=False, build=False)
    assert expected in str(refused.value)
    if fidelity == "ribray":  # the default exact estimator needs no geomloss
        assert "geomloss" not in str(refused.value)
