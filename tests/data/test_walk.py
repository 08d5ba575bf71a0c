"""One walk of a dataset folder: the sweep's fingerprint and `ribray data check` (what validate
runs) refuse the same odd entries with the same words, and follow the links they may."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ribray.data import get_dataset
from ribray.data.check import check_datasets
from ribray.data.fingerprint import fingerprint
from ribray.errors import DataError

ENTRY = get_dataset("imagenet_r")


@pytest.fixture
def root(tmp_path) -> Path:
    """A data root holding a small generated ImageNet-R (3 classes x 2 images)."""
    ENTRY.write_fake(ENTRY.path(tmp_path), per_class=2, classes=3, size=24)
    return tmp_path


def class_folder(root: Path, i: int = 0) -> Path:
    return ENTRY.path(root) / ENTRY.wnids()[i]


def refused_alike(root: Path, words: str) -> None:
    """The sweep's fingerprint walk and the check both refuse, in the same words."""
    with pytest.raises(DataError, match=words):
        fingerprint(ENTRY.path(root))
    result = check_datasets(root, ["imagenet_r"])[0]
    assert not result.usable and any(words in p for p in result.problems), result.problems


def test_a_link_loop_in_a_class_folder_is_named(root):
    loop = class_folder(root) / "loop"
    os.symlink(loop, loop)  # ELOOP: what crashed the sweep with OSError [Errno 40]
    refused_alike(root, f"{loop} is a symlink loop")


def test_a_link_back_to_a_parent_folder_is_a_loop(root):
    up = class_folder(root) / "up"
    os.symlink("..", up)
    refused_alike(root, f"{up} is a symlink loop: it leads back to {ENTRY.path(root)}")


def test_a_link_to_a_folder_outside_the_set_is_refused(root, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.jpg").write_bytes(b"x")
    link = class_folder(root, 1) / "more"
    os.symlink(elsewhere, link)
    refused_alike(root, f"{link} links to the folder {elsewhere}, outside the dataset's folder")


def test_a_class_folder_linked_from_outside_is_refused(root, tmp_path):
    moved = tmp_path / "moved-class"
    shutil.move(class_folder(root, 2), moved)
    os.symlink(moved, class_folder(root, 2))
    refused_alike(root, f"{class_folder(root, 2)} links to the folder {moved}, outside")


def test_a_folder_reached_twice_is_refused(root):
    twin = class_folder(root) / "twin"
    os.symlink(class_folder(root, 1), twin)  # inside the set, but its images would count twice
    refused_alike(root, "are the same folder")


def test_a_broken_link_and_a_fifo_are_named(root):
    broken = class_folder(root) / "gone.jpg"
    os.symlink(root / "nowhere.jpg", broken)
    refused_alike(root, f"{broken} is a broken symlink")
    broken.unlink()
    fifo = class_folder(root) / "pipe.jpg"
    os.mkfifo(fifo)  # opening it would block the decoder for ever
    refused_alike(root, f"{fifo} is neither a file nor a folder")


def test_links_that_stay_inside_or_point_at_files_are_followed(root, tmp_path):
    real = fingerprint(ENTRY.path(root))
    samples = [Path(s.path).name for s in ENTRY.samples(ENTRY.path(root))]
    mirror = tmp_path / "mirror"  # the set's folder itself a link: the usual way to add a disk
    mirror.mkdir()
    os.symlink(ENTRY.path(root), mirror / ENTRY.folder)
    assert fingerprint(mirror / ENTRY.folder) == real
    blobs = tmp_path / "blobs"  # file links out of the folder, as in the Hugging Face cache
    snapshot = tmp_path / "snapshot" / ENTRY.folder
    shutil.copytree(ENTRY.path(root), snapshot)
    blobs.mkdir()
    for image in sorted(snapshot.glob("*/*.jpg")):
        blob = blobs / f"{image.parent.name}-{image.name}"
        image.rename(blob)
        os.symlink(blob, image)
    assert fingerprint(snapshot) == real
    assert [Path(s.path).name for s in ENTRY.samples(snapshot)] == samples
    assert check_datasets(tmp_path / "snapshot", ["imagenet_r"])[0].usable


def test_hidden_files_are_not_images_of_the_set(root):
    real = fingerprint(ENTRY.path(root))
    count = len(ENTRY.samples(ENTRY.path(root)))
    (class_folder(root) / "._copy.jpg").write_bytes(b"macOS metadata")  # AppleDouble, not a JPEG
    (ENTRY.path(root) / ".ipynb_checkpoints").mkdir()
    assert len(ENTRY.samples(ENTRY.path(root))) == count and fingerprint(ENTRY.path(root)) == real
    assert check_datasets(root, ["imagenet_r"])[0].usable
