"""Fine-tuning methods: what each one trains, its extra loss, its exported weights, its
options, and that one epoch of each on a learnable task lowers the training loss."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.nn import functional as F

from ribray.errors import RibrayError, SpecError
from ribray.methods import METHODS, get_method
from ribray.methods.base import Step
from ribray.models import build_model
from ribray.options import TrainOptions
from ribray.spec import parse_spec
from ribray.trials.loop import Trainer

CLASSES = 4
COLOURS = torch.tensor([[1.5, -1.0, -1.0], [-1.0, 1.5, -1.0], [-1.0, -1.0, 1.5], [1.0, 1.0, 1.0]])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and lose a lot on a loaded machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def project(logits: torch.Tensor) -> torch.Tensor:
    return logits[:, :CLASSES]


def coloured_batches(images: int = 128, batch_size: int = 16, seed: int = 0) -> list:
    """A learnable task: each class is a colour, plus pixel noise; 32x32 normalized images."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(images) % CLASSES
    pixels = COLOURS[labels][:, :, None, None] + 0.5 * torch.randn(images, 3, 32, 32, generator=generator)
    return [(pixels[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, images, batch_size)]


def tiny(name: str = "tiny_vit", seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(name, pretrained=False).module


def prepared(method_name: str, model: torch.nn.Module | None = None, **options):
    """The method and its model after prepare, select_trainable and setup (as a trial does)."""
    method_cls = get_method(method_name)
    method = method_cls(method_cls.Options(**options))
    model = method.prepare(model if model is not None else tiny())
    method.select_trainable(model)
    method.setup(model, None)  # the built-ins read nothing besides the downstream set
    return method, model


def trainer(model, method, lr: float = 0.05, steps: int = 8, momentum: float = 0.9, warmup: int = 0) -> Trainer:
    config = TrainOptions(epochs=1, batch_size=16, lr=lr, momentum=momentum, warmup_steps=warmup, precision="fp32", workers=0)
    return Trainer(model, method, config, torch.device("cpu"), project, steps_per_epoch=steps)


def mean_loss(model, batches) -> float:
    model.eval()
    with torch.no_grad():
        losses = [F.cross_entropy(project(model(x)), y, reduction="sum") for x, y in batches]
    return float(sum(losses) / sum(len(y) for _, y in batches))


def _vit_name(name: str) -> str:
    return name.removeprefix("base_model.model.")  # peft's wrapper prefix (LoRA)


def _is_lora_adapter(name: str) -> bool:
    return ".lora_A." in name or ".lora_B." in name


AROUND_THE_BLOCKS = ("cls_token", "pos_embed")
# What each method trains in the tiny ViT (2 blocks, cls pooling). A new method fails here
# until its expectation is added.
EXPECTED_TRAINABLE = {
    "ft": lambda name: True,
    "lp_ft": lambda name: True,
    "ewc": lambda name: True,
    "lwf": lambda name: True,
    "lp": lambda name: name.startswith(("head.", "norm.")) or name in AROUND_THE_BLOCKS,
    "vpt": lambda name: name.startswith("prompt."),
    "lora": lambda name: _is_lora_adapter(name) or _vit_name(name).startswith("norm.")
    or _vit_name(name) in AROUND_THE_BLOCKS,
}


@pytest.mark.parametrize("method_name", METHODS.names())
def test_exactly_the_intended_parameters_train(method_name):
    assert method_name in EXPECTED_TRAINABLE, f"add what {method_name!r} trains to EXPECTED_TRAINABLE"
    _, model = prepared(method_name, prompt_size=4) if method_name == "vpt" else prepared(method_name)
    expected = {n for n, _ in model.named_parameters() if EXPECTED_TRAINABLE[method_name](n)}
    assert expected, "the method trains nothing"
    assert {n for n, p in model.named_parameters() if p.requires_grad} == expected
    x, y = coloured_batches(images=8)[0]
    F.cross_entropy(project(model(x)), y).backward()
    assert {n for n, p in model.named_parameters() if p.grad is not None} == expected


def test_lp_on_a_resnet_trains_only_the_fc_head():
    _, model = prepared("lp", tiny("tiny_resnet"))
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"fc.weight", "fc.bias"}


def test_lora_adapts_q_and_v_only_with_the_papers_rank_and_scaling():
    _, model = prepared("lora")
    adapted = {_vit_name(n).split(".lora_")[0] for n, _ in model.named_parameters() if _is_lora_adapter(n)}
    assert adapted == {f"blocks.{i}.attn.qkv.{part}" for i in range(2) for part in ("q", "v")}
    assert not any(".qkv.k.lora" in n for n, _ in model.named_parameters())
    q = model.get_base_model().blocks[0].attn.qkv.q
    assert q.r["default"] == 8 and q.scaling["default"] == pytest.approx(1 / 8)


def test_lora_starts_at_the_pretrained_model_and_refuses_models_without_qkv():
    base = tiny()
    x = coloured_batches(images=4)[0][0]
    before = base(x)
    _, model = prepared("lora", copy.deepcopy(base))
    torch.testing.assert_close(model(x), before)
    with pytest.raises(RibrayError, match="lora needs a timm ViT"):
        prepared("lora", tiny("tiny_resnet"))


def test_lora_export_is_the_merged_timm_state_dict():
    method, model = prepared("lora")
    trainer(model, method).train_epoch(coloured_batches())
    x = coloured_batches(images=8, seed=1)[0][0]
    model.eval()
    with torch.no_grad():
        adapted = model(x)
        exported = method.export(model)
        assert torch.equal(model(x), adapted), "export changed the trained model"
    fresh = tiny(seed=7)
    assert set(exported) == set(fresh.state_dict())  # fused qkv keys, no peft names
    fresh.load_state_dict(exported)
    reloaded = method.load_export(prepared("lora")[1], exported).eval()
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(x), adapted, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(reloaded(x), adapted, atol=1e-5, rtol=1e-5)


def test_lp_ft_starts_from_the_lp_phases_head():
    lp, lp_model = prepared("lp")
    pretrained_head = lp_model.head.weight.detach().clone()
    trainer(lp_model, lp).train_epoch(coloured_batches())
    lp_weights = lp.export(lp_model)
    assert not torch.equal(lp_weights["head.weight"], pretrained_head)
    assert get_method("lp_ft").starts_from == "lp"
    base = tiny()  # the trial: the base model, LP's exported weights, then prepare
    base.load_state_dict(lp_weights)
    _, model = prepared("lp_ft", base)
    assert torch.equal(model.head.weight, lp_weights["head.weight"])
    assert all(p.requires_grad for p in model.parameters())


def test_lp_ft_is_planned_after_the_lp_trial_and_reads_its_weights():
    from ribray.plan import make_plan

    spec = parse_spec({"name": "p", "data": {"root": "/data"}, "models": ["tiny_vit"],
                       "downstream": ["imagenet_r"], "methods": {"lp_ft": {}}})
    finetunes = {t.method: t for t in make_plan(spec).trials if t.kind == "finetune"}
    assert finetunes["lp_ft"].depends_on == (finetunes["lp"].trial_id,)
    assert finetunes["lp_ft"].init_weights == finetunes["lp"].weights_key


@pytest.mark.parametrize("method_name", ["ewc", "lwf"])
def test_regularizer_is_zero_at_the_pretrained_weights_and_positive_after_a_step(method_name):
    method, model = prepared(method_name)
    x, y = coloured_batches(images=16)[0]

    def extra_loss():
        model.train()
        with torch.no_grad():
            return float(method.extra_loss(Step(model, x, y, project(model(x)), project)))

    assert extra_loss() == pytest.approx(0.0, abs=1e-7)
    trainer(model, method).train_epoch([(x, y)])
    assert extra_loss() > 1e-6


def test_ewc_is_the_squared_distance_to_the_pretrained_weights():
    method, model = prepared("ewc", weight=0.5)
    start = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        model.head.bias.add_(0.1)
        model.pos_embed.add_(-0.2)
    x, y = coloured_batches(images=4)[0]
    expected = 0.5 * (0.1 ** 2 * start["head.bias"].numel() + 0.2 ** 2 * start["pos_embed"].numel())
    with torch.no_grad():
        got = float(method.extra_loss(Step(model, x, y, project(model(x)), project)))
    assert got == pytest.approx(expected, rel=1e-4)


def test_lwf_distils_the_teacher_projected_like_the_student():
    method, model = prepared("lwf", temperature=2.0)
    x, y = coloured_batches(images=4)[0]
    with torch.no_grad():
        teacher = project(model(x))
        model.head.bias[:CLASSES] += torch.tensor([1.0, 0.0, -1.0, 0.5])
        model.head.bias[CLASSES:] += 100.0  # outside the set's classes: must not matter
        student = project(model(x))
    kl = F.kl_div(F.log_softmax(student / 2, 1), F.softmax(teacher / 2, 1), reduction="batchmean")
    with torch.no_grad():
        got = method.extra_loss(Step(model, x, y, student, project))
    assert float(got) == pytest.approx(float(kl), rel=1e-5)  # no T^2 factor, as the reference code


def test_vpt_prompt_changes_only_the_border_pixels():
    method, model = prepared("vpt", prompt_size=4)
    backbone = copy.deepcopy(model.model.state_dict())
    trainer(model, method).train_epoch(coloured_batches())
    images = torch.randn(2, 3, 32, 32)
    change = model.prompt(images) - images
    border = torch.ones(32, 32, dtype=torch.bool)
    border[4:-4, 4:-4] = False
    assert torch.equal(change[:, :, ~border], torch.zeros_like(change[:, :, ~border]))
    assert (change[:, :, border] != 0).all()
    assert all(torch.equal(v, backbone[k]) for k, v in model.model.state_dict().items())
    model.train()
    assert model.prompt.training and not model.model.training  # frozen backbone stays in eval mode


def test_vpt_refuses_a_prompt_wider_than_the_image_and_interpolation():
    with pytest.raises(RibrayError, match="prompt_size 16 leaves no interior"):
        prepared("vpt", prompt_size=16)
    vpt = get_method("vpt")
    assert vpt.Options().prompt_size == 30 and not vpt.interpolatable
    from ribray.spec.validate import check_spec

    spec = parse_spec({"name": "v", "data": {"root": "/data"}, "models": ["tiny_vit"],
                       "downstream": ["imagenet_r"], "methods": {"vpt": {}},
                       "interpolations": {"wise_ft": {"of": "vpt"}}})
    with pytest.raises(SpecError, match="interpolations.wise_ft.of: 'vpt' cannot be interpolated.*input prompt"):
        check_spec(spec, data=False, weights=False, storage=False)


# One epoch of the benchmark's setting in miniature: a "pretrained" tiny ViT (linear-probed on
# the clean colour task) fine-tuned on a shifted downstream set (every colour moved), 16 steps
# with warm-up and momentum. The input prompt needs a far larger learning rate than weights
# do (Bahng et al. train it at 40).
SHIFT = torch.tensor([-1.5, 1.5, 0.0])[None, :, None, None]
LEARNING_RATE = {"vpt": 10.0}


@pytest.fixture(scope="module")
def colour_pretrained() -> dict[str, torch.Tensor]:
    lp, model = prepared("lp")
    trainer(model, lp).train_epoch(coloured_batches())
    return lp.export(model)


@pytest.mark.parametrize("method_name", METHODS.names())
def test_one_epoch_lowers_the_training_loss(method_name, colour_pretrained):
    base = tiny()
    base.load_state_dict(colour_pretrained)
    method, model = prepared(method_name, base, **({"prompt_size": 4} if method_name == "vpt" else {}))
    downstream = [(x + SHIFT, y) for x, y in coloured_batches(images=256, seed=1)]
    before = mean_loss(model, downstream)
    end = trainer(model, method, lr=LEARNING_RATE.get(method_name, 0.01), steps=16, warmup=4).train_epoch(downstream)
    after = mean_loss(model, downstream)
    assert end.images == 256
    assert after < before - 0.1, f"{method_name}: loss {before:.3f} -> {after:.3f}"


def _spec_error(methods: dict, **top) -> str:
    raw = {"name": "t", "data": {"root": "/data"}, "models": ["tiny_vit"],
           "downstream": ["imagenet_r"], "methods": methods, **top}
    with pytest.raises(SpecError) as error:
        parse_spec(raw)
    return str(error.value)


@pytest.mark.parametrize(("methods", "path", "problem"), [
    ({"lora": {"rank": 0}}, "methods.lora.rank", "greater than or equal to 1"),
    ({"lora": {"rank": "eight"}}, "methods.lora.rank", "valid integer"),
    ({"lora": {"alpha": -1}}, "methods.lora.alpha", "greater than 0"),
    ({"vpt": {"prompt_size": 0}}, "methods.vpt.prompt_size", "greater than or equal to 1"),
    ({"ewc": {"weight": -1.0}}, "methods.ewc.weight", "greater than or equal to 0"),
    ({"lwf": {"temperature": 0}}, "methods.lwf.temperature", "greater than 0"),
    ({"lwf": {"weight": "heavy"}}, "methods.lwf.weight", "valid number"),
    ({"ft": {"train": {"lr": -0.1}}}, "methods.ft.train.lr", "greater than 0"),
])
def test_bad_method_options_name_their_path(methods, path, problem):
    message = _spec_error(methods)
    assert f"{path}:" in message and problem in message


def test_unknown_method_and_option_get_a_did_you_mean():
    assert "methods.lorra: unknown method; did you mean 'lora'?" in _spec_error({"lorra": {}})
    assert "did you mean 'methods.lora.rank'?" in _spec_error({"lora": {"rnak": 4}})


def test_bad_schedule_and_interpolation_values_name_their_path():
    assert "train.lr:" in _spec_error({"ft": {}}, train={"lr": -1e-3})
    message = _spec_error({"ft": {}}, interpolations={"wise_ft": {"of": "ft", "alphas": [0.5, 1.5]}})
    assert "interpolations.wise_ft.alphas:" in message and "outside [0, 1]" in message
