"""ribray/compat/: what resumes runs of older versions is used on the restore path only."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ribray.compat import moved
from ribray.compat.legacy_config import read_trial
from ribray.plan import Trial

LEGACY_RUN = Path(__file__).parents[1] / "fixtures" / "legacy_run_ribray_0.1.tar.gz"


def test_import_ribray_installs_no_module_hook():
    code = ("import importlib.util, sys; before = list(sys.meta_path); import ribray, ribray.plan, ribray.spec; "
            "print(sys.meta_path == before, importlib.util.find_spec('ribray.searcher'))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["True", "None"]  # 0.1's paths are unknown until a run is restored


@pytest.fixture
def fresh_hook(monkeypatch):
    """The module hook installed as on a restore, in a meta_path and module table of its own."""
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if not isinstance(f, moved._MovedModules)])
    for name in moved.MOVED:
        monkeypatch.delitem(sys.modules, name, raising=False)
    moved.install()


def test_a_pickle_of_ribray_0_1_is_answered_with_one_warning(fresh_hook, capsys):
    assert pickle.loads(b"cribray.searcher\nMETRIC\n.") == "trial_finished"  # a 0.1 pickle names it
    assert pickle.loads(b"cribray.sweep\n_trial_name\n.").__module__ == "ribray.engine.tune_run"
    lines = capsys.readouterr().out.splitlines()
    assert lines == [moved.WARNING.format(module="ribray.searcher")]
    assert "ribray 0.1" in lines[0] and "without --resume" in lines[0]


def test_a_pickle_of_this_version_restores_without_a_warning(fresh_hook, capsys):
    from ribray.engine.tune_run import trial_name

    assert pickle.loads(pickle.dumps(trial_name)) is trial_name
    assert capsys.readouterr().out == ""


def _saved_configs() -> list[dict]:
    """The trial configs ribray 0.1's searcher saved in the interrupted run of the fixture."""
    with tarfile.open(LEGACY_RUN) as archive:
        member = next(m for m in archive.getmembers() if Path(m.name).name.startswith("searcher-state-"))
        return json.loads(archive.extractfile(member).read())["trials"]


def test_a_0_1_config_reads_as_the_typed_trial_with_its_id():
    configs = _saved_configs()
    trials = [read_trial(config) for config in configs]
    assert [(t.kind, t.trial_id, t.label) for t in trials] == [
        ("pretrained", "9912ea729b0f", "tiny_vit/pretrained"), ("finetune", "590bb72587fa", "tiny_vit/ft@imagenet_r#0"),
        ("interpolate", "b993cae89310", "tiny_vit/wise_ft(0.5)@imagenet_r#0")]
    assert [read_trial(t.to_config()) for t in trials] == trials  # this version's configs too
    assert [Trial.from_config(t.to_config()) for t in trials] == trials
