"""The storage layout has one owner: no module outside ribray/results/layout.py spells a
storage file's name (a shard's, a weights file's, a failed/ note's, the marker's...). A module
that needs one calls SweepLayout or layout's functions, so the layout changes in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import ribray
from ribray.results import layout

PACKAGE = Path(ribray.__file__).parent
OWNER = PACKAGE / "results" / "layout.py"
# Suffixes of files a sweep stores; a string holding one builds or parses such a name
STORAGE_SUFFIXES = (layout.SHARD_SUFFIX, layout.WEIGHTS_SUFFIX)
# The names layout.py gives the files and folders of a sweep that have a dot in them (mlflow.db,
# sweep.lock, ribray-sweep.json, .set-aside, ...); plain words (results, failed) are too common
# in messages to tell apart
STORAGE_NAMES = {value for name, value in vars(layout).items()
                 if name.isupper() and isinstance(value, str) and "." in value and value not in STORAGE_SUFFIXES
                 and value != layout.FAILED_SUFFIX}
# Files whose names are not a sweep's storage, and why
ALLOWED = {
    "models/timm_family.py": "the Hugging Face hub's file names of timm's weights (model.safetensors)",
    "models/clip_zero_shot.py": "the Hugging Face hub's file names of open_clip's weights",
    "models/checkpoint.py": "a user's own checkpoint file, read by its suffix (.safetensors or torch)",
    "data/classes.py": "the class lists shipped inside the package (<set>_wnids.txt), not stored by a sweep",
}


def _strings(tree: ast.AST) -> list[tuple[int, str, bool]]:
    """(line, text, built from values: part of an f-string) of each string in the code, docstrings
    aside (they describe the layout)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    in_fstring = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    return [(node.lineno, node.value, id(node) in in_fstring) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def _spells_a_storage_name(text: str, built: bool) -> bool:
    if any(suffix in text for suffix in STORAGE_SUFFIXES) or text in STORAGE_NAMES:
        return True
    return built and text.endswith(layout.FAILED_SUFFIX)  # f"{trial_id}.txt": a failed/ note


def test_no_module_outside_the_layout_spells_a_storage_file_name():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if path == OWNER or relative in ALLOWED:
            continue
        for line, text, built in _strings(ast.parse(path.read_text(), str(path))):
            if _spells_a_storage_name(text, built):
                found.append(f"ribray/{relative}:{line}: {text!r}")
    assert not found, ("storage file names spelled outside ribray/results/layout.py (call SweepLayout or "
                       "layout's functions instead):\n  " + "\n  ".join(found))


def test_the_check_finds_a_name_built_outside_the_layout():
    shard = ast.parse('target = results.child(f"{trial_id}.parquet")')
    note = ast.parse('note = failed.child(f"{trial_id}.txt")')
    marker = ast.parse('marker = root.child("ribray-sweep.json")')
    for tree in (shard, note, marker):
        assert [_spells_a_storage_name(text, built) for _, text, built in _strings(tree)][-1]


def test_the_layout_names_every_stored_file_as_before(tmp_path):
    from ribray.storage import Location

    found = layout.SweepLayout(Location(str(tmp_path)))
    assert found.shard("abc").path == f"{tmp_path}/results/abc.parquet"
    assert found.weights_file("k1").path == f"{tmp_path}/weights/k1.safetensors"
    assert found.failed_note("abc").path == f"{tmp_path}/failed/abc.txt"
    assert layout.set_aside_place(found.shard("abc")).path == f"{tmp_path}/results/.set-aside/abc.parquet"
    assert layout.trial_id_of_shard(layout.shard_name("abc")) == "abc"
    assert found.failed_notes() == []
    found.failed_note("abc").write_bytes(b"error")
    assert [note.name for note in found.failed_notes()] == ["abc.txt"]
