"""`ribray data check|fake|list|download-help`: each planted fault is reported with its path,
and a named dataset that is unusable makes the command fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ribray.cli.data import data
from ribray.data import DATASETS, get_dataset
from ribray.data.check import check_datasets

from conftest import loaded_after

SETS = ["imagenet_val", "imagenet_r", "objectnet", "imagenet_v2"]


@pytest.fixture
def root(tmp_path) -> Path:
    """A data root with four small generated sets (3 classes x 2 images)."""
    result = CliRunner().invoke(data, ["fake", str(tmp_path), "--classes", "3", "--per-class", "2",
                                       "--size", "24", "--datasets", ",".join(SETS)])
    assert result.exit_code == 0, result.output
    return tmp_path


def run(*args):
    return CliRunner().invoke(data, [str(a) for a in args])


def test_importing_the_cli_does_not_import_torch():
    assert loaded_after("import ribray.cli.data", ("torch", "ray", "timm")) == []


def test_generated_sets_pass(root):
    result = run("check", root, "--datasets", ",".join(SETS), "--verify-images")
    assert result.exit_code == 0, result.output
    for name in SETS:
        assert f"{name:<20} GENERATED" in result.output  # complete, and said to be generated


def test_missing_dataset_folder(root):
    shutil.rmtree(root / "imagenet-r")
    result = run("check", root, "--datasets", "imagenet_val,imagenet_r")
    assert result.exit_code == 1
    assert "imagenet_r           missing" in result.output
    assert f"{root / 'imagenet-r'} does not exist" in result.output
    assert "<wnid>/*.jpg with 200 wnid folders" in result.output  # the layout to make


def test_missing_class_folder(root):
    wnid = get_dataset("imagenet_val").wnids()[1]
    shutil.rmtree(root / "imagenet" / "val" / wnid)
    result = run("check", root, "--datasets", "imagenet_val")
    assert result.exit_code == 1
    assert "2 class folders" in result.output and "expected 3" in result.output
    assert f"missing class folder {root / 'imagenet' / 'val' / wnid}" in result.output


def test_extra_class_folder(root):
    entry = get_dataset("imagenet_r")
    extra = root / "imagenet-r" / entry.wnids()[5]
    shutil.copytree(root / "imagenet-r" / entry.wnids()[0], extra)
    result = run("check", root, "--datasets", "imagenet_r")
    assert result.exit_code == 1
    assert f"extra class folder {extra}" in result.output


def test_folder_that_is_not_a_wnid(root):
    (root / "imagenet" / "val" / "n99999999").mkdir()
    result = run("check", root, "--datasets", "imagenet_val")
    assert result.exit_code == 1
    assert "n99999999 (unknown name)" in result.output


def test_wrong_image_count_names_the_class_folder(root):
    folder = root / "imagenetv2-matched-frequency-format-val" / "2"
    sorted(folder.iterdir())[0].unlink()
    result = run("check", root, "--datasets", "imagenet_v2")
    assert result.exit_code == 1
    assert f"{folder} has 1 images, expected 2" in result.output
    assert "5 images in" in result.output and "expected 6" in result.output


def test_empty_class_folder(root):
    folder = root / "objectnet-1.0" / "images" / "backpack"
    for path in folder.iterdir():
        path.unlink()
    result = run("check", root, "--datasets", "objectnet")
    assert result.exit_code == 1 and f"empty class folder {folder}" in result.output


def test_corrupt_file_is_found_only_when_verifying(root):
    folder = root / "imagenet-r" / get_dataset("imagenet_r").wnids()[2]
    victim = sorted(folder.iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:200])  # truncated
    assert run("check", root, "--datasets", "imagenet_r").exit_code == 0  # counting only
    result = run("check", root, "--datasets", "imagenet_r", "--verify-images")
    assert result.exit_code == 1
    assert f"unreadable image {victim}" in result.output


def test_generated_sets_are_said_generated_not_ok_and_real_ones_ok(root):
    from ribray.data.fake import MARKER

    result = run("check", root, "--datasets", "imagenet_val,imagenet_r")
    assert result.exit_code == 0, result.output  # complete, so usable by the demo
    assert [line.split()[1] for line in result.output.splitlines()[:2]] == ["GENERATED", "GENERATED"]
    assert ("WARNING: 2 set(s) hold generated images (`ribray data fake`), not the real data: imagenet_val, "
            "imagenet_r.") in result.output
    (root / "imagenet" / "val" / MARKER).unlink()  # as real data has no marker
    listed = run("check", root, "--datasets", "imagenet_val").output
    assert listed.split()[1] == "PROBLEM" and "WARNING" not in listed  # (6 images are not the real 50,000)
    assert "expected 50,000 (the released set)" in listed


def test_objectnet_ignores_its_non_imagenet_classes(root):
    (root / "objectnet-1.0" / "images" / "squeegee").mkdir()  # one of ObjectNet's other 200
    assert run("check", root, "--datasets", "objectnet").exit_code == 0


def test_missing_root_says_so(tmp_path):
    result = run("check", tmp_path / "nowhere", "--datasets", "imagenet_val")
    assert result.exit_code == 1
    assert f"data root {tmp_path / 'nowhere'} does not exist" in result.output


def test_every_set_is_listed_and_a_missing_paper_set_fails(root):
    result = run("check", root)
    assert result.exit_code == 1, result.output
    listed = {line.split()[0]: line.split()[1] for line in result.output.splitlines() if line and line[0] != " "
              and line.split()[0] in DATASETS}
    assert set(listed) == set(DATASETS.names())  # missing ones too, never hidden
    assert listed["imagenet_val"] == "GENERATED" and listed["imagenet_sketch"] == "missing"
    assert ("unusable: imagenet_a, imagenet_c, imagenet_cartoon, imagenet_drawing, imagenet_sketch, "
            "imagenet_train (the paper's sweeps read them)") in result.output


def test_paper_sets_are_what_the_shipped_sweeps_read():
    from ribray.data import PAPER_SETS
    from ribray.spec import load_spec

    read = set()
    for path in (Path(__file__).parents[2] / "sweeps").glob("*.yaml"):
        spec = load_spec(path)
        read |= set(spec.downstream) | set(spec.resolved_eval_sets())
    assert read == set(PAPER_SETS)


def test_unnamed_broken_set_fails(root):
    (root / "imagenet-r" / "n99999999").mkdir()
    result = run("check", root)
    assert result.exit_code == 1 and "imagenet_drawing, imagenet_r, imagenet_sketch" in result.output
    assert "imagenet_r           PROBLEM" in result.output


def test_check_with_a_spec_uses_its_sets_and_folders(root, tmp_path):
    moved = tmp_path / "elsewhere" / "r"
    shutil.move(str(root / "imagenet-r"), moved)
    spec = {"name": "t", "storage": str(tmp_path / "runs"), "data": {"root": str(root),
            "folders": {"imagenet_r": str(moved)}}, "models": ["tiny_vit"],
            "downstream": ["imagenet_r"], "methods": {"ft": {}}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = run("check", "--spec", path)
    assert result.exit_code == 0, result.output
    assert "imagenet_r           GENERATED" in result.output and str(moved) in result.output
    assert "imagenet_val" in result.output  # evaluated by default
    shutil.rmtree(moved)
    assert run("check", "--spec", path).exit_code == 1


def test_library_check_reports_per_dataset(root):
    moved = root / "val-elsewhere"
    (root / "imagenet" / "val").rename(moved)
    results = check_datasets(root, ["imagenet_val", "imagenet_sketch"], folders={"imagenet_val": str(moved)})
    assert [r.name for r in results] == ["imagenet_val", "imagenet_sketch"]
    assert results[0].usable and results[0].images == 6
    assert not results[1].found and not results[1].usable


def test_real_data_counts_are_checked_against_the_released_set(root):
    (root / "imagenet-r" / ".ribray-fake.json").unlink()  # now it looks like real data
    result = check_datasets(root, ["imagenet_r"])[0]
    assert "3 class folders" in result.problems[0] and "expected 200" in result.problems[0]
    assert any("expected 30,000 (the released set)" in p for p in result.problems)


def test_imagenet_c_missing_severity_is_reported(tmp_path):
    entry = get_dataset("imagenet_c")
    entry.write_fake(tmp_path / "imagenet-c", per_class=1, classes=1, size=32)
    assert check_datasets(tmp_path, ["imagenet_c"])[0].usable
    shutil.rmtree(tmp_path / "imagenet-c" / "fog" / "3")
    problems = check_datasets(tmp_path, ["imagenet_c"])[0].problems
    assert "74 of the 75 corruption/severity folders" in problems[0]
    assert f"missing {tmp_path / 'imagenet-c' / 'fog' / '3'}" in problems


def test_list_shows_every_dataset_with_its_scoring():
    result = run("list")
    assert result.exit_code == 0
    for name in DATASETS.names():
        assert name in result.output
    assert "masked to its 200 ImageNet logits" in result.output
    assert "max over each ObjectNet class's ImageNet logits" in result.output
    assert "mean over corruptions of the mean over severities" in result.output


def test_download_help_gives_every_layout_and_the_bad_file_policy():
    result = run("download-help")
    assert result.exit_code == 0
    for entry in (get_dataset(name) for name in DATASETS.names()):
        assert entry.layout() in result.output
    assert "--verify-images" in result.output and "left out" in result.output


def test_fake_writes_every_layout_by_default(tmp_path):
    result = run("fake", tmp_path, "--classes", "2", "--per-class", "1", "--size", "32", "--c-per-class", "1")
    assert result.exit_code == 0, result.output
    check = run("check", tmp_path, "--datasets", ",".join(DATASETS.names()))
    assert check.exit_code == 0, check.output
    assert run("check", tmp_path).exit_code == 0  # every set the paper's sweeps read is there


def test_fake_with_an_unknown_name_fails_with_a_suggestion(tmp_path):
    result = run("fake", tmp_path, "--datasets", "imagenet_skech")
    assert result.exit_code != 0 and "did you mean 'imagenet_sketch'" in str(result.exception)


def test_imagenet_c_fakes_without_the_fakes_extra_say_what_to_install(tmp_path, monkeypatch):
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "imagecorruptions" else found(name, *args))
    result = run("fake", tmp_path, "--datasets", "imagenet_c", "--classes", "1", "--c-per-class", "1")
    assert result.exit_code != 0 and "pip install 'ribray[fakes]'" in str(result.exception)
    assert not (tmp_path / "imagenet-c").exists()  # refused before writing anything
    every = run("fake", tmp_path, "--classes", "1", "--per-class", "1", "--size", "32")
    assert every.exit_code == 0 and "imagenet_c skipped" in every.output and "pip install 'ribray[fakes]'" in every.output
    assert (tmp_path / "imagenet-r").is_dir() and not (tmp_path / "imagenet-c").exists()


def test_the_check_and_the_trials_look_for_a_dataset_in_the_same_folder(tmp_path):
    from ribray.data import dataset_folder
    from ribray.trials.context import SweepContext

    moved = {"imagenet_r": str(tmp_path / "elsewhere" / "r")}
    context = SweepContext(sweep="s", spec_hash="h", sweep_dir=str(tmp_path / "s"), data_root=str(tmp_path),
                           data_folders=moved)
    for name in ("imagenet_r", "imagenet_sketch"):
        assert context.dataset_folder(name) == dataset_folder(tmp_path, name, moved)
    assert dataset_folder(tmp_path, "imagenet_r", moved) == tmp_path / "elsewhere" / "r"
    assert dataset_folder(tmp_path, "imagenet_sketch", moved) == tmp_path / get_dataset("imagenet_sketch").folder
    missing = check_datasets(tmp_path / "none", ["imagenet_sketch"])[0]
    assert missing.path == str(dataset_folder(tmp_path / "none", "imagenet_sketch"))
