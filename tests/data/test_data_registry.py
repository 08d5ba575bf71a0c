"""The dataset registry and class maps: every entry loads its generated layout with the right
labels, and the shipped class maps are the benchmark's."""

from __future__ import annotations

from pathlib import Path

import pytest

from ribray.data import DATASETS, get_dataset
from ribray.data.classes import imagenet_class_names, imagenet_wnids, subset_wnids, wnid_index
from ribray.data.objectnet import objectnet_classes
from ribray.errors import DataError, UnknownNameError

from conftest import loaded_after

NAMES = DATASETS.names()
CLASSES, PER_CLASS = 3, 2


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    """Every registered layout, generated once (ImageNet-C: 1 image per class and part)."""
    root = tmp_path_factory.mktemp("data")
    written = set()
    for name, entry in DATASETS.items():
        if entry.folder not in written:
            written.add(entry.folder)
            per_class = 1 if name == "imagenet_c" else PER_CLASS
            entry.write_fake(entry.path(root), per_class=per_class, classes=CLASSES, seed=0, size=32)
    return root


def test_imagenet_wnids_are_the_canonical_sorted_1000():
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 and len(set(wnids)) == 1000
    assert list(wnids) == sorted(wnids)
    assert wnids[0] == "n01440764" and wnids[-1] == "n15075141"
    assert wnid_index()["n01443537"] == 1  # goldfish


def test_class_names_are_readable_and_complete():
    names = imagenet_class_names()
    assert len(names) == 1000 and all(names)
    assert names[0] == "tench" and names[1] == "goldfish" and names[409] == "analog clock"


@pytest.mark.parametrize("name", ["imagenet_a", "imagenet_r"])
def test_200_class_lists_are_imagenet_subsets(name):
    wnids = subset_wnids(name)
    assert len(wnids) == 200 and len(set(wnids)) == 200
    assert set(wnids) <= set(imagenet_wnids())
    assert list(wnids) == sorted(wnids)


def test_imagenet_a_and_r_are_different_200_class_sets():
    assert set(subset_wnids("imagenet_a")) != set(subset_wnids("imagenet_r"))


@pytest.mark.parametrize("name", NAMES)
def test_fake_layout_loads_with_the_right_labels(fake_root, name):
    entry = get_dataset(name)
    samples = entry.samples(entry.path(fake_root))
    parts = 75 if name == "imagenet_c" else 1
    assert len(samples) == CLASSES * (1 if name == "imagenet_c" else PER_CLASS) * parts
    assert sorted({s.label for s in samples}) == list(range(CLASSES))
    for sample in samples:  # the label is the position of the sample's class folder
        assert Path(sample.path).parent.name == entry.wnids()[sample.label]
    assert len(entry.class_indices()) == entry.num_classes


@pytest.mark.parametrize("name", NAMES)
def test_fake_layout_passes_the_check(fake_root, name):
    entry = get_dataset(name)
    result = entry.check(entry.path(fake_root))
    assert result.usable, result.problems
    assert result.images == result.expected_images > 0


@pytest.mark.parametrize("name", NAMES)
def test_class_indices_are_valid_imagenet_indices(name):
    groups = get_dataset(name).class_indices()
    assert all(0 <= i < 1000 for group in groups for i in group)
    flat = [i for group in groups for i in group]
    assert len(flat) == len(set(flat)), "two classes share an ImageNet index"


def test_expected_sizes_are_the_released_sets():
    sizes = {name: entry.expected_images for name, entry in DATASETS.items()}
    assert sizes["imagenet_val"] == 50_000 and sizes["imagenet_v2"] == 10_000
    assert sizes["imagenet_a"] == 7_500 and sizes["imagenet_r"] == 30_000
    assert sizes["imagenet_c"] == 3_750_000 and sizes["objectnet"] == 18_574
    assert {get_dataset(n).num_classes for n in ("imagenet_a", "imagenet_r")} == {200}
    assert get_dataset("objectnet").num_classes == 113


def test_imagenet_v2_labels_are_the_numeric_folder_names(fake_root):
    entry = get_dataset("imagenet_v2")
    for sample in entry.samples(entry.path(fake_root)):
        assert sample.label == int(Path(sample.path).parent.name)
    assert entry.class_indices()[999] == (999,)


def test_imagenet_c_parts_are_corruption_and_severity(fake_root):
    entry = get_dataset("imagenet_c")
    samples = entry.samples(entry.path(fake_root))
    parts = {s.part for s in samples}
    assert len(parts) == 75 and "gaussian_noise/1" in parts and "jpeg_compression/5" in parts
    for sample in samples:
        corruption, severity = sample.part.split("/")
        assert Path(sample.path).parts[-4:-2] == (corruption, severity)


def test_objectnet_mapping_has_113_classes_over_125_imagenet_classes():
    classes = objectnet_classes()
    assert len(classes) == 113
    assert sum(len(c["imagenet"]) for c in classes.values()) == 125


def test_objectnet_classes_map_to_the_imagenet_classes_they_name():
    """The 8 classes the reference code gives its previous class's label, and some groups,
    checked against ImageNet's own class names."""
    names = imagenet_class_names()
    classes = objectnet_classes()
    expected = {"band_aid": ["Band Aid"], "coffee_french_press": ["espresso maker"],
                "dress_shoe_men": ["Loafer"], "bottle_cap": ["bottlecap"], "match": ["matchstick"],
                "bread_loaf": ["French loaf"], "alarm_clock": ["analog clock", "digital clock"],
                "bicycle": ["mountain bike", "bicycle-built-for-two"],
                "chair": ["barber chair", "folding chair", "rocking chair"]}
    for folder, imagenet_names in expected.items():
        assert [names[i] for i in classes[folder]["imagenet"]] == imagenet_names, folder


def test_no_two_objectnet_classes_share_an_imagenet_class():
    seen: dict[int, str] = {}
    for folder, info in objectnet_classes().items():
        for index in info["imagenet"]:
            assert index not in seen, f"{folder} and {seen[index]} both map to ImageNet class {index}"
            seen[index] = folder


def test_objectnet_reference_keeps_one_imagenet_class_of_each_group():
    correct, reference = get_dataset("objectnet"), get_dataset("objectnet_reference")
    assert reference.folder == correct.folder and reference.wnids() == correct.wnids()
    groups = correct.class_indices()
    kept = reference.class_indices()
    assert all(len(k) == 1 and k[0] in g for k, g in zip(kept, groups, strict=True))
    assert sum(k[0] != g[0] for k, g in zip(kept, groups, strict=True)) == 1  # "Wheel": paddlewheel
    assert len(set(kept)) == 113  # no collapse


def test_objectnet_crops_its_2_pixel_frame():
    assert get_dataset("objectnet").crop_border == 2
    assert all(get_dataset(n).crop_border == 0 for n in NAMES if not n.startswith("objectnet"))


def test_unknown_dataset_name_suggests_the_right_one():
    with pytest.raises(UnknownNameError, match="did you mean 'imagenet_r'"):
        get_dataset("imagenet_rr")


def test_missing_dataset_folder_names_the_folder_and_layout(tmp_path):
    entry = get_dataset("imagenet_r")
    with pytest.raises(DataError, match=r"imagenet-r does not exist.*<wnid>/\*\.jpg with 200 wnid folders"):
        entry.samples(tmp_path / "imagenet-r")


def test_folder_that_is_not_a_class_of_the_set_is_named(tmp_path):
    entry = get_dataset("imagenet_r")
    folder = tmp_path / "imagenet-r"
    entry.write_fake(folder, per_class=1, classes=2)
    outside = next(w for w in imagenet_wnids() if w not in subset_wnids("imagenet_r"))
    (folder / outside).mkdir()
    (folder / "holiday_photos").mkdir()
    with pytest.raises(DataError) as error:
        entry.samples(folder)
    assert f"{outside} (an ImageNet wnid outside this set)" in str(error.value)
    assert "holiday_photos (unknown name)" in str(error.value)


def test_fake_refuses_to_write_into_real_data(tmp_path):
    folder = tmp_path / "imagenet-r"
    (folder / "n01443537").mkdir(parents=True)
    (folder / "n01443537" / "real.jpg").write_bytes(b"...")
    with pytest.raises(DataError, match="not generated by `ribray data fake`"):
        get_dataset("imagenet_r").write_fake(folder, per_class=1, classes=1)


def test_the_rib_sets_are_the_papers_eight_in_its_column_order_from_their_entries():
    from ribray.data import RIB_SETS

    assert RIB_SETS == ("imagenet_v2", "imagenet_a", "imagenet_r", "imagenet_sketch", "objectnet",
                        "imagenet_cartoon", "imagenet_drawing", "imagenet_c")
    assert [get_dataset(name).order for name in RIB_SETS] == sorted(get_dataset(name).order for name in RIB_SETS)
    assert not get_dataset("objectnet_reference").rib and get_dataset("objectnet_reference").order is None


def test_listing_every_set_loads_no_torch():
    """Registering imports every module of ribray.data, but not its torch side (data/tensors/)."""
    code = "from ribray.data import DATASETS; [(e.scoring(), e.layout()) for _, e in DATASETS.items()]"
    assert loaded_after(code, ("torch", "torchvision", "timm")) == []
