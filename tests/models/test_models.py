"""The model registry: the paper's models, name checks, building, local checkpoints, offline
weight checks, the CLIP zero-shot family and the `ribray models` / `ribray methods` listings."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from ribray.errors import RibrayError, UnknownNameError
from ribray.models import MODELS, build_model, check_model_name, check_weights_available

from conftest import loaded_after

# The paper's pretrained models (DESIGN.md, "The benchmark"), as timm names.
PAPER_TIMM_MODELS = [
    "vit_base_patch16_224.augreg_in1k", "vit_base_patch16_224.sam_in1k",
    "vit_base_patch16_224.orig_in21k_ft_in1k", "vit_base_patch16_224_miil.in21k_ft_in1k",
    "vit_base_patch16_224.augreg_in21k_ft_in1k", "vit_base_patch16_clip_224.openai_ft_in1k",
    "vit_base_patch16_clip_224.laion2b_ft_in1k", "resnet50.tv2_in1k",
]
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, whatever this machine has downloaded."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_every_paper_model_is_registered_with_its_column():
    sources = {entry.source: entry for _, entry in MODELS.items()}
    for timm_name in PAPER_TIMM_MODELS:
        assert timm_name in sources, f"{timm_name} has no registry entry"
        assert sources[timm_name].paper_column
        check_model_name(timm_name)  # a real pretrained timm name
    assert sources["vit_base_patch16_224.sam_in1k"].paper_column.startswith("IN-1K")
    clip = {e.source for _, e in MODELS.items() if e.family == "open_clip"}
    assert clip == {"open_clip:ViT-B-16/openai", "open_clip:ViT-B-16/laion2b_s34b_b88k"}
    for source in clip:
        check_model_name(source)


@pytest.mark.parametrize("name", ["vit_b16_in1k_augreg", "tiny_vit", "resnet10t", "resnet50.tv2_in1k",
                                  "open_clip:ViT-B-16/laion2b_s34b_b88k", "open_clip:ViT-S-32-alt"])
def test_aliases_timm_and_open_clip_names_are_known(name):
    check_model_name(name)


@pytest.mark.parametrize(("name", "message"), [
    ("vit_b16_in1k_augrge", "did you mean 'vit_b16_in1k_augreg'?"),
    ("vit_base_patch16_224.augreg_in1", "did you mean 'vit_base_patch16_224.augreg_in1k'?"),
    ("resnet10t.no_such_tag", "unknown model 'resnet10t.no_such_tag'"),
    ("open_clip:ViT-B-61/openai", "did you mean 'ViT-B-16'?"),
    ("open_clip:ViT-B-16/laion2b", "unknown pretrained tag of open_clip ViT-B-16 'laion2b'; did you mean"),
])
def test_unknown_model_names_get_a_did_you_mean(name, message):
    with pytest.raises(UnknownNameError, match=message.replace("(", r"\(").replace("?", r"\?")):
        check_model_name(name)


def test_built_models_carry_their_preprocessing():
    tiny = build_model("tiny_vit", pretrained=False)
    assert tiny.data_config["input_size"] == (3, 32, 32) and tiny.data_config["crop_pct"] == 1.0
    assert tiny.module(torch.zeros(2, 3, 32, 32)).shape == (2, 1000)
    assert build_model("tiny_resnet", pretrained=False).data_config["input_size"] == (3, 32, 32)
    # a plain timm name, evaluated as torchvision evaluates these weights: 232 px resize, 224 crop
    resnet = build_model("resnet50.tv2_in1k", pretrained=False).data_config
    assert resnet["input_size"] == (3, 224, 224) and resnet["crop_pct"] == pytest.approx(224 / 232, abs=1e-3)
    assert resnet["interpolation"] == "bilinear"


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_a_local_checkpoint_replaces_the_weights(tmp_path, suffix):
    from safetensors.torch import save_file

    torch.manual_seed(3)
    source = build_model("tiny_vit", pretrained=False).module.eval()
    path = tmp_path / f"weights{suffix}"
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    if suffix == ".safetensors":
        save_file(state, path)
    else:  # as training scripts save it (the reference code: epoch, state_dict, optimizer)
        torch.save({"epoch": 10, "state_dict": state}, path)
    loaded = build_model("tiny_vit", pretrained=True, checkpoint=str(path)).module.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), source(x))


def test_a_checkpoint_of_another_model_is_refused_with_its_keys(tmp_path):
    path = tmp_path / "resnet.pt"
    torch.save(build_model("tiny_resnet", pretrained=False).module.state_dict(), path)
    with pytest.raises(RibrayError) as error:
        build_model("tiny_vit", checkpoint=str(path))
    message = str(error.value)
    assert "is not a state dict of model tiny_vit" in message
    assert "missing keys (e.g. ['blocks.0" in message and "unexpected keys (e.g. ['bn1." in message
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(RibrayError, match="is not a state dict"):
        build_model("tiny_vit", checkpoint=str(tmp_path / "list.pt"))
    with pytest.raises(RibrayError, match="checkpoint file not found"):
        build_model("tiny_vit", checkpoint=str(tmp_path / "missing.safetensors"))


def test_a_checkpoint_with_other_shapes_is_refused(tmp_path):
    state = build_model("tiny_vit", pretrained=False).module.state_dict()
    state["head.weight"] = torch.zeros(10, 64)
    torch.save(state, tmp_path / "ten_classes.pth")
    with pytest.raises(RibrayError, match=r"head.weight: \(10, 64\) in the file, \(1000, 64\) in the model"):
        build_model("tiny_vit", checkpoint=str(tmp_path / "ten_classes.pth"))


def test_missing_offline_weights_name_the_model_and_the_fixes(empty_hub_cache):
    with pytest.raises(RibrayError) as error:
        check_weights_available("vit_b16_in1k_augreg", pretrained=True, offline=True)
    message = str(error.value)
    assert "model vit_b16_in1k_augreg (vit_base_patch16_224.augreg_in1k)" in message
    assert "timm/vit_base_patch16_224.augreg_in1k: model.safetensors or pytorch_model.bin" in message
    assert "HF_HUB_OFFLINE=0" in message and "checkpoint:" in message
    with pytest.raises(RibrayError, match="ViT-B-16/laion2b_s34b_b88k.*laion/CLIP-ViT-B-16-laion2B-s34B-b88K"):
        check_weights_available("open_clip:ViT-B-16/laion2b_s34b_b88k", offline=True)


def test_cached_or_unneeded_weights_pass_the_check(empty_hub_cache, tmp_path):
    snapshot = empty_hub_cache / "models--timm--resnet50.tv2_in1k" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").write_bytes(b"weights")
    (empty_hub_cache / "models--timm--resnet50.tv2_in1k" / "refs").mkdir()
    (empty_hub_cache / "models--timm--resnet50.tv2_in1k" / "refs" / "main").write_text("abc123")
    check_weights_available("resnet50_tv2", offline=True)  # in the cache, as the hub lays it out
    check_weights_available("vit_b16_in1k_augreg", pretrained=False, offline=True)  # random init
    check_weights_available("tiny_vit", offline=True)  # nothing to download
    check_weights_available("vit_b16_in1k_augreg", offline=False)  # will be downloaded
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"x")
    check_weights_available("vit_b16_in1k_augreg", checkpoint=str(weights), offline=True)
    with pytest.raises(RibrayError, match="checkpoint file not found"):
        check_weights_available("vit_b16_in1k_augreg", checkpoint=str(tmp_path / "nope.pt"))


def test_clip_zero_shot_classifier_is_cosine_similarity_to_class_prompts():
    import open_clip

    from ribray.models.clip_zero_shot import zero_shot_classifier

    torch.manual_seed(0)
    clip = open_clip.create_model("ViT-S-32-alt", pretrained=None).eval()
    tokenizer = open_clip.get_tokenizer("ViT-S-32-alt")
    names = ["tench", "goldfish", "great white shark"]
    model = zero_shot_classifier(clip, tokenizer, names).eval()
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        text = clip.encode_text(tokenizer([f"This is a photo of a {n}" for n in names]), normalize=True)
        image = clip.encode_image(images, normalize=True)
        expected = clip.logit_scale.exp() * image @ text.T
        torch.testing.assert_close(model(images), expected, atol=1e-4, rtol=1e-4)
    assert model.get_classifier() is model.head


def test_open_clip_names_build_with_open_clips_preprocessing(monkeypatch):
    import ribray.models.clip_zero_shot

    # 4 classes instead of 1000: encoding 1000 prompts takes minutes on a CPU
    monkeypatch.setattr(ribray.models.clip_zero_shot, "zero_shot_class_names", lambda: ["a", "b", "c", "d"])
    loaded = build_model("open_clip:ViT-S-32-alt", pretrained=False)
    config = loaded.data_config
    assert config["input_size"] == (3, 224, 224) and config["interpolation"] == "bicubic"
    assert config["mean"] == pytest.approx(OPENAI_MEAN) and config["crop_pct"] == 1.0
    assert loaded.module(torch.randn(1, 3, 224, 224)).shape == (1, 4)
    with pytest.raises(RibrayError, match="give a pretrained tag"):
        build_model("open_clip:ViT-S-32-alt", pretrained=True)


def test_importing_the_registry_cli_stays_cheap():
    code = "import ribray.cli.registries, ribray.methods, ribray.models"
    assert loaded_after(code, ("torch", "ray", "timm", "peft", "open_clip")) == []


def test_models_and_methods_commands_list_the_registries():
    from ribray.cli.registries import methods, models

    listed = CliRunner().invoke(models, [])
    assert listed.exit_code == 0
    assert "vit_b16_in21k_p" in listed.output and "IN-21K-P" in listed.output
    assert "vit_base_patch16_224_miil.in21k_ft_in1k" in listed.output
    rows = json.loads(CliRunner().invoke(models, ["--json"]).output)
    assert {"name": "resnet50_tv2", "family": "timm", "paper_column": "ResNet-50"}.items() <= \
        next(r for r in rows if r["name"] == "resnet50_tv2").items()
    table = CliRunner().invoke(methods, []).output
    assert "rank=8 alpha=1.0" in table and "prompt_size=30" in table and "weight=1.0 temperature=2.0" in table
    assert "wise_ft" in table and "of=ft alphas=[0.5]" in table
    assert "ingredients=['pretrained', 'ft', 'ewc', 'lwf']" in table
    listed = json.loads(CliRunner().invoke(methods, ["--json"]).output)
    by_name = {r["name"]: r for r in listed["methods"]}
    assert by_name["lp_ft"]["starts_from"] == "lp" and by_name["vpt"]["interpolatable"] is False
    assert {r["name"] for r in listed["interpolations"]} == {"wise_ft", "soup", "greedy_soup", "model_stock"}
    assert {r["source"] for r in listed["methods"] + listed["interpolations"]} == {"ribray"}


def test_models_check_reports_missing_weights(empty_hub_cache):
    from ribray.cli.registries import models

    result = CliRunner().invoke(models, ["--check"])
    assert result.exit_code == 1
    line = next(l for l in result.output.splitlines() if l.startswith("vit_b16_in21k "))
    assert "missing" in line and "timm/vit_base_patch16_224.orig_in21k_ft_in1k" in line
    assert "none needed" in next(l for l in result.output.splitlines() if l.startswith("tiny_vit "))


def test_zero_shot_heads_get_a_distinct_prompt_for_every_class():
    from ribray.models.clip_zero_shot import TEMPLATE, zero_shot_class_names

    names = zero_shot_class_names()
    prompts = [TEMPLATE.format(name) for name in names]
    assert len(prompts) == 1000 and len(set(prompts)) == 1000  # no two classes tie
    # WordNet's first lemmas gave these pairs one name each; open_clip's curated names tell them apart
    assert (names[134], names[517]) == ("crane bird", "construction crane")
    assert (names[638], names[639]) == ("tights", "one-piece bathing suit")
    # and where open_clip's list itself repeats a name, the class it fits less takes its lemma
    assert (names[657], names[744]) == ("missile", "projectile")
    assert (names[836], names[837]) == ("sunglass", "sunglasses")
    assert TEMPLATE == "This is a photo of a {}"  # the reference code's prompt


@pytest.mark.parametrize(("name", "source", "source_name"), [
    ("vit_b16_in1k_sam", "timm", "vit_base_patch16_224.sam_in1k"),  # an alias: its source builds it
    ("resnet50.tv2_in1k", "timm", "resnet50.tv2_in1k"),
    ("clip_b16_openai_zeroshot", "open_clip", "open_clip:ViT-B-16/openai"),
    ("open_clip:ViT-B-16/openai", "open_clip", "open_clip:ViT-B-16/openai"),
    ("tiny_vit", None, ""),  # an entry with its own build and no weights to download
])
def test_a_model_name_is_told_apart_once_into_its_source(name, source, source_name):
    from ribray.models import SOURCES
    from ribray.models.resolve import parse_model_name

    parsed = parse_model_name(name)
    assert parsed.source_name == source_name and parsed.built_by_source == (source is not None)
    assert parsed.source is (SOURCES.get(source) if source else None)


def test_a_source_is_registered_like_any_entry_and_takes_the_names_of_its_prefix():
    from torch import nn

    from ribray.models import ModelSource, register_source
    from ribray.models.resolve import state_bytes, weights_url
    from ribray.registry import forget, registering_as

    built = []

    class ToySource(ModelSource):
        builder = staticmethod(lambda name, pretrained: built.append((name, pretrained)) or nn.Linear(2, 1000))

        def check(self, name):
            if name != "toy:one":
                raise UnknownNameError("toy model", name, ["toy:one"])

        def weights_problem(self, name):
            return None

        def weights_url(self, name):
            return f"https://example.org/{name}"

        def state_bytes(self, name):
            return 4.0 * 3000

    with registering_as("test toy source"):
        register_source("toy")(ToySource)
    try:
        assert build_model("toy:one", pretrained=False).module.out_features == 1000 and built == [("toy:one", False)]
        assert weights_url("toy:one") == "https://example.org/toy:one" and state_bytes("toy:one") == 12000.0
        with pytest.raises(UnknownNameError, match="did you mean 'toy:one'"):
            check_model_name("toy:on")
    finally:
        forget("test toy source")
    with pytest.raises(UnknownNameError, match="unknown model 'toy:one'"):  # back to timm's names
        check_model_name("toy:one")
