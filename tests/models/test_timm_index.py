"""timm's names, weight sources and model sizes come from a per-user cache when it is the
installed timm's: `ribray plan` and the name checks of `ribray validate` then import no timm
(no torch), and answer as timm itself would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest

from ribray.errors import UnknownNameError
from ribray.models import check_model_name, state_bytes
from ribray.models.timm_index import NAMES_FILE, SIZES_FILE, timm_index

from conftest import write_spec

TIMM_MODELS = ["vit_base_patch16_224.augreg_in1k", "vit_b16_in1k_sam", "resnet50.tv2_in1k"]
# a subprocess in which importing timm or torch fails, as on a machine without them
WITHOUT_TIMM = ("import sys; sys.modules['timm'] = sys.modules['torch'] = None; "
                "from ribray.cli import main; main(sys.argv[1:])")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own, and no index remembered in this process."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("RIBRAY_CACHE_DIR", str(folder))
    timm_index.cache_clear()
    yield folder
    timm_index.cache_clear()


def _ribray(*args, code=None, env=None):
    command = [sys.executable, "-c", code, *map(str, args)] if code else [sys.executable, "-m", "ribray", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})


def _timm_spec(tmp_path, models):
    return write_spec(tmp_path / "spec.yaml", {
        "name": "names", "storage": str(tmp_path / "runs"), "data": {"root": str(tmp_path / "data")},
        "models": models, "downstream": ["imagenet_r"], "methods": {"ft": {}}})


def test_plan_of_timm_names_needs_no_timm_once_the_cache_is_warm(tmp_path, cache):
    spec = _timm_spec(tmp_path, TIMM_MODELS)
    env = {"RIBRAY_CACHE_DIR": str(cache)}
    cold = _ribray("plan", spec, env=env)
    assert cold.returncode == 0, cold.stderr
    assert sorted(p.name for p in cache.iterdir()) == [NAMES_FILE, SIZES_FILE]
    assert (cache.stat().st_mode & 0o777) == 0o700
    warm = _ribray("plan", spec, code=WITHOUT_TIMM, env=env)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout == cold.stdout  # the same trials, estimate and storage (model sizes included)
    assert "MiB of resume checkpoint per fine-tune" in warm.stdout


def test_a_wrong_name_gets_the_same_error_from_the_cache_as_from_timm(tmp_path, cache):
    with pytest.raises(UnknownNameError) as from_timm:  # cold: timm's own lists, then written
        check_model_name("vit_base_patch16_224.augreg_in1")
    assert "did you mean 'vit_base_patch16_224.augreg_in1k'?" in str(from_timm.value)
    spec = _timm_spec(tmp_path, ["vit_base_patch16_224.augreg_in1k", "vit_base_patch16_224.augreg_in1"])
    env = {"RIBRAY_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    validate, plan = (_ribray(*command, code=WITHOUT_TIMM, env=env)
                      for command in (["validate", spec, "--no-data"], ["plan", spec]))
    for warm in (validate, plan):
        assert warm.returncode == 1
        lines = warm.stderr.strip().splitlines()
        assert lines[0] == "Error: the spec cannot run:" and f"  models.1: {from_timm.value}" in lines
    # validate checks offline weights too, from the cached sources: timm's hub repo and files
    assert "models.0: pretrained weights of model vit_base_patch16_224.augreg_in1k are not available offline: " \
           "Hugging Face hub repo timm/vit_base_patch16_224.augreg_in1k: model.safetensors or pytorch_model.bin" \
           in validate.stderr


def test_a_cache_of_another_timm_version_is_rebuilt(cache):
    cache.mkdir(mode=0o700)
    stale = {"format": 1, "timm": "0.0.1"}
    (cache / NAMES_FILE).write_text(json.dumps({**stale, "names": ["only_in_old_timm"], "weights": {}}))
    (cache / SIZES_FILE).write_text(json.dumps({**stale, "bytes": {"resnet50.tv2_in1k": 1.0}}))
    with pytest.raises(UnknownNameError, match="unknown model 'only_in_old_timm'"):
        check_model_name("only_in_old_timm")
    check_model_name("resnet50.tv2_in1k")
    assert state_bytes("resnet50.tv2_in1k") == pytest.approx(4 * 25_557_032, rel=0.01)  # ResNet-50's parameters
    installed = metadata.version("timm")
    for name in (NAMES_FILE, SIZES_FILE):
        assert json.loads((cache / name).read_text())["timm"] == installed


def test_a_cache_that_does_not_read_back_is_rebuilt(cache):
    cache.mkdir(mode=0o700)
    (cache / NAMES_FILE).write_text('{"format": 1, "timm": "')  # a write cut short
    check_model_name("resnet50.tv2_in1k")
    assert "resnet50.tv2_in1k" in json.loads((cache / NAMES_FILE).read_text())["names"]


def test_a_folder_others_may_write_is_not_used(cache):
    cache.mkdir()
    cache.chmod(0o777)
    (cache / NAMES_FILE).write_text(json.dumps({"format": 1, "timm": metadata.version("timm"),
                                                "names": ["planted_by_someone"], "weights": {}}))
    with pytest.raises(UnknownNameError):
        check_model_name("planted_by_someone")
    check_model_name("resnet50.tv2_in1k")  # answered by timm itself
    assert "planted_by_someone" in (cache / NAMES_FILE).read_text()  # and nothing written there
