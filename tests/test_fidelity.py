"""`fidelity: reference`: every difference from the reference code switched in one place, each
checked against the reference's own behaviour computed here by hand."""

from __future__ import annotations

import re

import pytest
import torch
from reference_code import REFERENCE_MASK, REUSED

from ribray.data import get_dataset
from ribray.data.tensors.scoring import LabelProjector
from ribray.fidelity import DEVIATIONS, REFERENCE
from ribray.plan import FinetuneTrial, OtddTrial, PretrainedTrial, make_plan
from ribray.spec import parse_spec

from conftest import tiny_spec


def _reference_spec(tmp_path, **overrides):
    return parse_spec(tiny_spec(tmp_path, tmp_path, fidelity="reference", **overrides))


@pytest.fixture(scope="module")
def objectnet_root(tmp_path_factory):
    """A generated ObjectNet with one image in each of its 113 classes."""
    entry = get_dataset("objectnet")
    root = tmp_path_factory.mktemp("objectnet")
    entry.write_fake(entry.path(root), per_class=1, classes=113, size=8)
    return entry.path(root)


def test_reference_objectnet_labels_and_logits_are_the_reference_codes(objectnet_root):
    """By hand, as the reference does: label = position of the class's (possibly reused) id in
    the sorted 105-id mask, prediction = argmax of logits[:, mask]."""
    from ribray.data.objectnet import objectnet_classes

    entry = get_dataset("objectnet").scored_as(REFERENCE)
    assert entry.name == "objectnet" and entry.rib  # the RIB set itself: RI and mRI use it
    assert [g[0] for g in entry.class_indices()] == REFERENCE_MASK
    samples = entry.samples(objectnet_root)
    assert len(samples) == 113
    for sample in samples:
        folder = sample.path.split("/")[-2]
        own = REUSED.get(folder, objectnet_classes()[folder]["reference"])
        assert sample.label == REFERENCE_MASK.index(own), folder
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(len(samples), 1000, generator=generator)
    for i, sample in enumerate(samples):  # each image's best logit: the one its class is named by
        logits[i, objectnet_classes()[sample.path.split("/")[-2]]["reference"]] = 10.0
    labels = torch.tensor([s.label for s in samples])
    by_hand = logits[:, REFERENCE_MASK].argmax(1) == labels
    ribray = LabelProjector(entry.class_indices())(logits).argmax(1) == labels
    assert ribray.tolist() == by_hand.tolist()
    wrong = {samples[i].path.split("/")[-2] for i in range(len(samples)) if not by_hand[i]}
    assert wrong == set(REUSED)  # the collision: exactly the 8 classes are scored wrong


def test_the_default_and_objectnet_reference_keep_their_own_scoring():
    assert get_dataset("objectnet").scored_as("ribray").num_classes == 113
    assert get_dataset("objectnet_reference").scored_as(REFERENCE).num_classes == 113
    assert get_dataset("imagenet_r").scored_as(REFERENCE) is get_dataset("imagenet_r")
    assert "collide" in get_dataset("objectnet").scored_as(REFERENCE).scoring()


def test_reference_mode_evaluates_in_fp32_trains_in_fp16_and_changes_only_its_ids(tmp_path):
    default = make_plan(parse_spec(tiny_spec(tmp_path, tmp_path)))
    reference = make_plan(_reference_spec(tmp_path))
    assert {t.evaluation.fidelity for t in default.trials} == {"ribray"}
    assert {(t.evaluation.fidelity, t.evaluation.precision) for t in reference.trials} == {(REFERENCE, "fp32")}
    assert {t.train.precision for t in reference.trials if isinstance(t, FinetuneTrial)} == {"fp16"}
    assert not {t.trial_id for t in default.trials} & {t.trial_id for t in reference.trials}
    weights = {t.weights_key for t in default.trials if isinstance(t, FinetuneTrial)}
    assert not weights & {t.weights_key for t in reference.trials if isinstance(t, FinetuneTrial)}
    # the default's ids are those of a spec that does not say fidelity (existing shards keep theirs)
    spec = parse_spec(tiny_spec(tmp_path, tmp_path, fidelity="ribray"))
    assert [t.trial_id for t in make_plan(spec).trials] == [t.trial_id for t in default.trials]
    assert spec.spec_hash() == parse_spec(tiny_spec(tmp_path, tmp_path)).spec_hash()
    pretrained = next(t for t in reference.trials if isinstance(t, PretrainedTrial))
    assert pretrained.evaluation.identity()["fidelity"] == REFERENCE


@pytest.mark.parametrize("overrides, key", [
    ({"train": {"precision": "bf16", "epochs": 1}}, "train.precision: bf16 contradicts fidelity: reference"),
    ({"eval": {"precision": "bf16"}}, "eval.precision: bf16 contradicts fidelity: reference"),
    ({"methods": {"ft": {"train": {"precision": "fp32"}}}}, "methods.ft(precision=fp32).train.precision: fp32 contradicts"),
    ({"analyses": {"otdd": {"method": "exact"}}}, "analyses.otdd.method: exact contradicts"),
])
def test_a_setting_that_contradicts_reference_mode_is_refused_with_its_key(tmp_path, overrides, key):
    from ribray.errors import SpecError

    with pytest.raises((SpecError, ValueError), match=re.escape(key)):
        _reference_spec(tmp_path, **overrides)


def test_reference_mode_plans_otdd_with_the_otdd_librarys_defaults(tmp_path):
    spec = _reference_spec(tmp_path, analyses={"otdd": {}})
    otdd = next(t for t in make_plan(spec).trials if isinstance(t, OtddTrial)).otdd
    assert (otdd.method, otdd.reg, otdd.max_images) == ("debiased_sinkhorn", 0.1, 10_000)
    default = parse_spec(tiny_spec(tmp_path, tmp_path, analyses={"otdd": {}}))
    otdd = next(t for t in make_plan(default).trials if isinstance(t, OtddTrial)).otdd
    assert (otdd.method, otdd.max_images) == ("exact", 2000)


def test_the_fp16_grad_scaler_runs_in_the_training_loop(monkeypatch):
    from ribray.methods import get_method
    from ribray.options import TrainOptions
    from ribray.trials.loop import Trainer

    options = TrainOptions(epochs=1, warmup_steps=1).for_fidelity(REFERENCE)
    assert options.precision == "fp16"
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 1000))
    trainer = Trainer(model, get_method("ft")(get_method("ft").Options()), options, torch.device("cpu"),
                      lambda x: x, 2)
    assert trainer.dtype == torch.float16 and trainer.scaler.is_enabled()
    scaled, dtypes = [], []
    original = trainer.scaler.scale
    monkeypatch.setattr(trainer.scaler, "scale", lambda loss: scaled.append(loss) or original(loss))
    model.register_forward_hook(lambda module, inputs, output: dtypes.append(output.dtype))
    trainer.train_epoch([(torch.randn(4, 3, 2, 2), torch.randint(0, 1000, (4,)))] * 2)
    assert len(scaled) == 2 and set(dtypes) == {torch.float16}  # every step: fp16 autocast, scaled loss
    assert trainer.scaler.get_scale() > 0 and "scaler" in trainer.state_dict()


def test_reference_mode_resizes_the_resnet50_to_256_as_torchvision_does():
    from PIL import Image
    from skimage import data as samples
    from torchvision import transforms

    from ribray.data.tensors.loading import pixel_transform
    from ribray.models.paper import reference_data_config

    timm_config = {"input_size": (3, 224, 224), "interpolation": "bilinear", "crop_pct": 0.965,
                   "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225), "crop_mode": "center"}
    config = reference_data_config("resnet50.tv2_in1k", timm_config)
    assert config == reference_data_config("resnet50_tv2", timm_config)
    assert reference_data_config("vit_base_patch16_224.augreg_in1k", timm_config) is timm_config
    image = Image.fromarray(samples.chelsea())  # 451 x 300
    torchvision = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.PILToTensor()])
    assert torch.equal(torch.as_tensor(pixel_transform(config)(image)), torchvision(image))
    default = transforms.Compose([transforms.Resize(232), transforms.CenterCrop(224), transforms.PILToTensor()])
    assert torch.equal(torch.as_tensor(pixel_transform(timm_config)(image)), default(image))


def _entropic_cost(cost, reg):
    """min <P, cost> + reg KL(P | a b^T) over couplings with uniform marginals, by POT's
    log-domain Sinkhorn with epsilon scaling run to convergence (not geomloss's schedule)."""
    import warnings

    import ot

    a = torch.full((cost.shape[0],), 1.0 / cost.shape[0], dtype=torch.float64)
    b = torch.full((cost.shape[1],), 1.0 / cost.shape[1], dtype=torch.float64)
    with warnings.catch_warnings():  # its inner solver warns at every scale; the marginals are checked here
        warnings.simplefilter("ignore", UserWarning)
        plan = ot.bregman.sinkhorn_epsilon_scaling(a, b, cost, reg, numItermax=1000, stopThr=1e-10, warn=False)
    assert float((plan.sum(0) - b).abs().sum() + (plan.sum(1) - a).abs().sum()) < 1e-6
    kl = torch.where(plan > 0, plan * torch.log((plan / (a[:, None] * b[None, :])).clamp(min=1e-300)), 0.0).sum()
    return float((plan * cost).sum() + reg * kl)


def test_the_otdd_library_estimator_is_a_debiased_sinkhorn_divergence():
    from ribray.analysis.otdd import class_gaussians, label_distances, library_otdd, otdd, squared_distances

    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat_interleave(8)
    xa = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])[labels] + 0.3 * torch.randn(24, 2, generator=generator)
    xb = 1.3 * xa + torch.tensor([0.5, 0.0])
    labels_b = labels + 10  # B's own class ids: classes are compared by their features, never by id
    assert library_otdd(xa, labels, xa, labels) == pytest.approx(0.0, abs=1e-6)  # debiased: 0 to itself

    def cost(x, y, label_x, label_y):  # (||x - x'||^2 + W2^2(y, y')) / 2, W2 between the classes' Gaussians
        gx, gy = class_gaussians(x, label_x), class_gaussians(y, label_y)
        between = label_distances(gx, gy)[torch.searchsorted(gx.labels, label_x)][:, torch.searchsorted(gy.labels, label_y)]
        return (squared_distances(x, y) + between) / 2

    def divergence(cost_ab, cost_aa, cost_bb):
        return _entropic_cost(cost_ab, 0.1) - _entropic_cost(cost_aa, 0.1) / 2 - _entropic_cost(cost_bb, 0.1) / 2

    by_hand = divergence(cost(xa, xb, labels, labels_b), cost(xa, xa, labels, labels), cost(xb, xb, labels_b, labels_b))
    found = otdd(xa, labels, xb, labels_b, method="debiased_sinkhorn", reg=0.1)
    assert found == pytest.approx(by_hand, rel=5e-3)  # geomloss's annealing ends at reg, not converged there
    def half(x, y):
        return squared_distances(x, y) / 2
    plain = library_otdd(xa, labels, xb, labels_b, label_weight=0.0)
    assert plain == pytest.approx(divergence(half(xa, xb), half(xa, xa), half(xb, xb)), rel=5e-3)
    assert found > plain  # the label term adds: B's classes are wider than A's
    exact = otdd(xa, labels, xb, labels_b, method="exact")  # ribray's: full cost, no entropy
    assert found == pytest.approx(exact / 2, rel=0.35)  # at reg 0.1 near half the exact cost


def test_the_otdd_library_estimator_calls_geomloss_as_the_library_does(monkeypatch):
    """otdd's DatasetDistance with its defaults: SamplesLoss("sinkhorn", p=2, blur=entreg ** (1/p),
    debias=True, backend="tensorized") with its own ground cost, and geomloss's default scaling."""
    geomloss = pytest.importorskip("geomloss")
    from ribray.analysis.otdd import library_otdd

    made = []
    real = geomloss.SamplesLoss

    def recording(*args, **kwargs):
        made.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(geomloss, "SamplesLoss", recording)
    labels = torch.arange(2).repeat_interleave(4)
    library_otdd(torch.randn(8, 3), labels, torch.randn(8, 3), labels, reg=0.1)
    [(args, kwargs)] = made
    assert args == ("sinkhorn",) and callable(kwargs.pop("cost"))
    assert kwargs == {"p": 2, "blur": pytest.approx(0.1 ** 0.5), "debias": True, "backend": "tensorized"}


def test_every_deviation_says_what_differs_and_its_effect():
    from ribray.report.deviations import deviations_text

    assert {d.topic for d in DEVIATIONS} >= {"ObjectNet scoring", "Evaluation precision", "Training precision",
                                             "ResNet-50 preprocessing", "OTDD estimator"}
    default, reference = deviations_text("ribray"), deviations_text(REFERENCE)
    assert default[0].startswith("Deviations from the reference code (fidelity: ribray; 7 of 7 differ")
    assert reference[0].startswith("Deviations from the reference code (fidelity: reference; 2 of 7 differ")
    assert any(line.startswith("- ObjectNet scoring: as the reference") for line in reference)
    assert any("8 classes" in line and "Effect:" in line for line in default if "ObjectNet scoring" in line)
