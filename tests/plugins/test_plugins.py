"""Plugins: a researcher's method, model, dataset or interpolation from a file, a folder, a module
or an installed entry point, registered like ribray's own, active exactly when a spec names it."""

from __future__ import annotations

import sys

import pytest
import yaml
from click.testing import CliRunner

from ribray.cli import main
from ribray.errors import SpecError
from ribray.methods import METHODS
from ribray.plugins import activate, resolve
from ribray.spec import load_spec, parse_spec

from conftest import BRING_YOUR_OWN, EXAMPLE_PLUGIN, write_plugin

BASE = {"name": "p", "data": {"root": "/data"}, "models": ["tiny_vit"], "downstream": ["imagenet_r"]}

METHOD = """
    from ribray.api import Method, register_method

    @register_method("{name}")
    class Mine(Method):
        summary = "{summary}"
"""


def _method_plugin(folder, name="mine", summary="version one"):
    return write_plugin(folder / f"{name}_plugin.py", METHOD.format(name=name, summary=summary))


def test_a_file_plugin_registers_its_method_for_the_spec_that_names_it(tmp_path, no_plugins):
    _method_plugin(tmp_path)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(BASE | {"plugins": ["./mine_plugin.py"], "methods": {"ft": {}, "mine": {}}}))
    spec = load_spec(spec_file)  # relative to the spec's folder
    assert spec.plugins == [str(tmp_path / "mine_plugin.py")]
    assert METHODS.origin("mine") == "mine_plugin.py" and METHODS.origin("ft") == "ribray"
    assert list(spec.methods) == ["ft", "mine"]
    parse_spec(BASE | {"methods": {"ft": {}}})  # a spec without it: the plugin is gone
    assert "mine" not in METHODS
    with pytest.raises(SpecError, match=r"methods\.mine: unknown method"):
        parse_spec(BASE | {"methods": {"mine": {}}})


def test_a_changed_plugin_file_has_another_identity_and_is_reloaded(tmp_path, no_plugins):
    path = _method_plugin(tmp_path)
    first = resolve(str(path))
    spec = parse_spec(BASE | {"plugins": [str(path)], "methods": {"mine": {}}})
    assert METHODS.get("mine").summary == "version one"
    _method_plugin(tmp_path, summary="version two")
    second = resolve(str(path))
    assert second.identity != first.identity and len(second.identity) == 12
    parse_spec(BASE | {"plugins": [str(path)], "methods": {"mine": {}}})
    assert METHODS.get("mine").summary == "version two"
    spec.activate()  # the first spec keeps the code it was read with
    assert METHODS.get("mine").summary == "version one"


def test_a_folder_of_files_and_a_package_folder(tmp_path, no_plugins):
    folder = tmp_path / "several"
    folder.mkdir()
    _method_plugin(folder, "first")
    _method_plugin(folder, "second")
    plugin = resolve(str(folder))
    assert plugin.kind == "folder" and plugin.modules == ("first_plugin", "second_plugin")
    activate([plugin])
    assert {METHODS.origin("first"), METHODS.origin("second")} == {"several/"}
    package = resolve(str(EXAMPLE_PLUGIN / "ribray_example"))
    assert package.package and package.modules == ("ribray_example",)
    activate([package])
    assert "first" not in METHODS and METHODS.origin("fisher_ewc") == "ribray_example/"


@pytest.mark.parametrize(("text", "words"), [
    (METHOD.format(name="ewc", summary="mine"), ["plugins.0", "method 'ewc' is registered twice: by ribray and by "
                                                 "bad_plugin.py"]),
    ("import torch\nx = undefined_name\n", ["plugin bad_plugin.py failed to import", "NameError",
                                             "bad_plugin.py, line 2"]),
])
def test_plugin_problems_are_one_clear_line_at_spec_time(tmp_path, text, words, no_plugins):
    path = write_plugin(tmp_path / "bad_plugin.py", text)
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE | {"plugins": [str(path)]})
    for word in words:
        assert word in str(caught.value)
    assert "ewc" in METHODS and METHODS.origin("ewc") == "ribray"  # nothing half-registered


@pytest.mark.parametrize(("ref", "words"), [
    ("./json.py", ["plugins.0", "would be imported as 'json'", "rename the plugin"]),
    ("./missing.py", ["no such file or folder"]),
    ("not_installed_anywhere", ["no module named 'not_installed_anywhere' is installed", "on every node"]),
    ("./data.txt", ["a plugin file is Python source ending in .py"]),
])
def test_bad_plugin_references_are_refused_by_name(tmp_path, ref, words, no_plugins):
    (tmp_path / "json.py").write_text("x = 1\n")
    (tmp_path / "data.txt").write_text("x = 1\n")
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE | {"plugins": [ref]}, base_dir=tmp_path)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_installed_entry_points_are_listed_but_used_only_when_named(tmp_path, monkeypatch, no_plugins):
    write_plugin(tmp_path / "ribray_ep_demo.py", METHOD.format(name="ep_method", summary="from an entry point"))
    info = tmp_path / "ribray_ep_demo-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ribray-ep-demo\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[ribray.plugins]\ndemo = ribray_ep_demo\n")
    (info / "top_level.txt").write_text("ribray_ep_demo\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    listed = CliRunner().invoke(main, ["methods"])
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith("ep_method"))
    assert "entry point demo (ribray-ep-demo 0.3)" in line
    with pytest.raises(SpecError, match="methods.ep_method: unknown method"):
        parse_spec(BASE | {"methods": {"ep_method": {}}})  # installed is not named
    spec = parse_spec(BASE | {"plugins": ["demo"], "methods": {"ep_method": {}}})  # by the entry point's name
    assert METHODS.origin("ep_method") == "demo" and spec._plugins[0].version == "ribray-ep-demo 0.3"
    sys.modules.pop("ribray_ep_demo", None)


def test_methods_lists_a_plugins_entries_with_their_source(no_plugins):
    result = CliRunner().invoke(main, ["methods", "--plugin", str(BRING_YOUR_OWN / "my_method.py")])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("l1_sp"))
    assert "weight=0.01" in line and "plugin my_method.py" in line
    models = CliRunner().invoke(main, ["models", "--plugin", str(EXAMPLE_PLUGIN / "ribray_example")])
    assert "plugin ribray_example/" in next(line for line in models.output.splitlines()
                                            if line.startswith("example_convnet"))


def test_entries_imported_by_hand_are_refused_before_any_trial(tmp_path, no_plugins):
    """The launcher that imports a module and then runs ribray: the driver has the method,
    Ray's workers would not."""
    import importlib.util

    path = _method_plugin(tmp_path, "by_hand")
    module_spec = importlib.util.spec_from_file_location("by_hand_plugin", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    from ribray.spec.validate import check_spec

    try:
        spec = parse_spec(BASE | {"methods": {"by_hand": {}}})
        with pytest.raises(SpecError, match=r"methods\.by_hand: method 'by_hand' was registered by by_hand_plugin, "
                                            r"which the spec does not name under plugins:"):
            check_spec(spec, data=False, weights=False, storage=False, build=False)
    finally:
        del METHODS._entries["by_hand"], METHODS._origins["by_hand"]


def test_a_declared_dataset_is_listed_checked_and_generated(tmp_path, no_plugins):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(BASE | {
        "data": {"root": str(tmp_path / "data")}, "eval_sets": ["imagenet_r", "my_ood"],
        "datasets": {"my_ood": {"folder": "my-ood", "classes": "classes.txt", "rib": True}}}))
    (tmp_path / "classes.txt").write_text("# two of ImageNet-R's classes\nn01443537\nn01484850\n")
    listed = CliRunner().invoke(main, ["data", "list", "--spec", str(spec_file)])
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith("my_ood"))
    assert "yes" in line and "spec datasets.my_ood" in line and "2-way, masked" in line
    made = CliRunner().invoke(main, ["data", "fake", "--spec", str(spec_file), "--classes", "2", "--per-class", "3"])
    assert made.exit_code == 0 and "my_ood" in made.output, made.output
    assert sorted(p.name for p in (tmp_path / "data" / "my-ood").iterdir() if p.is_dir()) == ["n01443537",
                                                                                             "n01484850"]
    checked = CliRunner().invoke(main, ["data", "check", "--spec", str(spec_file)])
    assert checked.exit_code == 0 and "my_ood" in checked.output, checked.output


def test_a_declared_datasets_order_places_it_among_the_papers_sets_and_changes_no_trial(no_plugins):
    from ribray.data import RIB_SETS, table_order
    from ribray.data.declared import DatasetDeclaration
    from ribray.plan import make_plan

    def spec(**declaration):
        return parse_spec(BASE | {"eval_sets": ["imagenet_r", "imagenet_sketch", "my_ood"],
                                  "datasets": {"my_ood": {"rib": True, **declaration}}})

    placed = spec(order=35)  # the paper's R is 30, Sketch 40
    placed.activate()
    columns = sorted(["imagenet_sketch", "my_ood", "imagenet_r", "imagenet_v2"], key=table_order)
    assert columns == ["imagenet_v2", "imagenet_r", "my_ood", "imagenet_sketch"]
    assert "my_ood" not in RIB_SETS  # the paper's eight stay the paper's
    placed_ids = [t.trial_id for t in make_plan(placed).trials]
    unplaced = spec()
    unplaced.activate()
    assert sorted(["imagenet_sketch", "my_ood", "imagenet_r"], key=table_order)[-1] == "my_ood"  # after the paper's
    assert [t.trial_id for t in make_plan(unplaced).trials] == placed_ids
    assert DatasetDeclaration(name="my_ood", rib=True, order=35).identity() == \
        DatasetDeclaration(name="my_ood", rib=True).identity()


@pytest.mark.parametrize(("declaration", "words"), [
    ({"classes": ["n01443537", "n99999999"]}, ["datasets.my_ood.classes", "not ImageNet-1K wnids", "n99999999"]),
    ({"classes": "nowhere.txt"}, ["datasets.my_ood.classes: no such file"]),
    ({"layout": "csv"}, ["datasets.my_ood.layout"]),
    ({"rib": "yes please"}, ["datasets.my_ood.rib"]),
])
def test_bad_dataset_declarations_name_their_key(tmp_path, declaration, words, no_plugins):
    with pytest.raises(SpecError) as caught:
        parse_spec(BASE | {"datasets": {"my_ood": declaration}}, base_dir=tmp_path)
    assert all(word in str(caught.value) for word in words), str(caught.value)
