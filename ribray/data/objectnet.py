"""ObjectNet: the 113 of its 313 classes that overlap ImageNet-1K (18,574 PNG images).

Each ObjectNet class covers one or more ImageNet classes (125 in all); a prediction is the
ObjectNet class whose best ImageNet logit is highest (max over the group, 113-way, as
imagenet-testbed scores it). The images have a thin red frame, cut (2 px each side) before
the transform, as the reference code does.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

from ribray.data import register
from ribray.data.base import Sample
from ribray.data.folders import WnidFolders, missing_folder, subfolders

# The reference RIB code's bug (lib/dataset/objectnet_dataset.py): for these 8 classes none of
# the ImageNet names it tries matches its class list, and it keeps the id of the class it
# handled before (in ObjectNet's folder_to_objectnet_label.json order), silently. Folder ->
# the folder whose id it reuses. Its 105-logit mask (`objclasses`) is what is left.
REFERENCE_CODE_REUSES = {"weight_scale": "still_camera", "chair": "keyboard", "trash_bin": "watch",
                         "swimming_trunks": "wok", "skirt": "clothes_hamper", "jeans": "stuffed_animal",
                         "binder_closed": "bucket", "iron_for_clothes": "vacuum_cleaner"}


@functools.lru_cache(maxsize=1)
def objectnet_classes() -> dict[str, dict]:
    """folder name -> {"name": ObjectNet label, "imagenet": [ImageNet-1K indices], "reference":
    the one index the reference RIB code scores it by (its 8-class bug fixed)}."""
    text = resources.files("ribray.data").joinpath("classes", "objectnet_classes.json").read_text()
    return json.loads(text)


@register
class ObjectNet(WnidFolders):
    """Class folders are ObjectNet's folder names (sorted); its other 200 classes' folders are
    expected on disk and ignored."""

    name = "objectnet"
    rib = True
    order = 50
    title = "ObjectNet (113 ImageNet classes)"
    short = "ObjectNet"
    folder = "objectnet-1.0/images"
    expected_images = 18_574
    expected_classes = 113
    crop_border = 2
    suffix = ".png"
    source = ("objectnet.dev (objectnet-1.0.zip, password-protected; accept its license): "
              "objectnet-1.0/images/<class folder>/*.png; the 113 folders listed in "
              "ribray/data/classes/objectnet_classes.json are used, the other 200 are ignored")

    def wnids(self) -> tuple[str, ...]:
        """ObjectNet's folder names of its ImageNet-overlapping classes, sorted (label order)."""
        return tuple(sorted(objectnet_classes()))

    def class_indices(self) -> list[tuple[int, ...]]:
        return [tuple(objectnet_classes()[f]["imagenet"]) for f in self.wnids()]

    def present_classes(self, root: Path) -> set[str]:
        """The overlapping classes' folders present; ObjectNet's other folders are expected."""
        root = Path(root)
        if not root.is_dir():
            raise missing_folder(self.name, root, self.layout())
        return subfolders(root) & set(self.wnids())

    def layout(self) -> str:
        return f"<{self.folder}>/<ObjectNet class folder>/*.png (the 113 ImageNet-overlapping classes)"

    def scoring(self) -> str:
        return "113-way, max over each ObjectNet class's ImageNet logits (2 px border cut)"

    def decorate_fake(self, image):
        """ObjectNet's thin red frame, so the 2 px crop has something to cut."""
        from PIL import ImageDraw

        ImageDraw.Draw(image).rectangle([0, 0, image.width - 1, image.height - 1], outline=(255, 0, 0), width=2)
        return image

    def scored_as(self, fidelity: str) -> WnidFolders:
        """`fidelity: reference`: the reference code's scoring, its 8-class collision included."""
        from ribray.fidelity import REFERENCE

        return ObjectNetReferenceCode() if fidelity == REFERENCE else self


def reference_code_ids() -> dict[str, int]:
    """folder -> the ImageNet id the reference code labels and scores its images by (for the 8
    classes of REFERENCE_CODE_REUSES: another class's id)."""
    classes = objectnet_classes()
    return {f: classes[REFERENCE_CODE_REUSES.get(f, f)]["reference"] for f in classes}


class ObjectNetReferenceCode(ObjectNet):
    """ObjectNet exactly as the reference RIB code scores it (what `objectnet` is under
    `fidelity: reference`, so RI and mRI use it): the logits are masked to the 105 ImageNet ids
    its name matching finds, in increasing order (`logits[:, mask]`), and an image's label is
    the position of its class's id among them (its `reindex`). The 8 classes of
    REFERENCE_CODE_REUSES carry another class's id: their images count as correct only when
    the model predicts that other class (so they are nearly always wrong), and that other
    class's images are scored as before. Not registered: the same images as `objectnet`."""

    title = "ObjectNet, scored as the reference code (105 logits, 8 classes colliding)"

    def reference_ids(self) -> list[int]:
        """The 105 ImageNet ids of the reference's mask, increasing: this entry's classes."""
        return sorted(set(reference_code_ids().values()))

    def class_indices(self) -> list[tuple[int, ...]]:
        return [(i,) for i in self.reference_ids()]

    def samples(self, root: Path) -> list[Sample]:
        position = {i: label for label, i in enumerate(self.reference_ids())}
        label = {f: position[i] for f, i in reference_code_ids().items()}
        return [Sample(sample.path, label[Path(sample.path).parent.name]) for sample in super().samples(root)]

    def scoring(self) -> str:
        return ("105-way, as the reference code: one ImageNet logit per class; 8 classes (weight scale, chair, "
                "trash bin, swimming trunks, skirt, jeans, binder, iron) collide with another class's id "
                "(its bug, kept: they are scored as that class)")

    def scored_as(self, fidelity: str) -> WnidFolders:
        return self


@register
class ObjectNetReference(ObjectNet):
    """ObjectNet scored as the reference RIB code scores it, with only its bug fixed: one
    ImageNet logit per ObjectNet class, the one the reference's name matching picks (so the
    other ImageNet classes of a group, 12 of 125, are masked out, and "Wheel" is scored by
    paddlewheel, not car wheel), the logits masked to those 113 classes. The reference's bug:
    for 8 classes none of the ImageNet names it tries matches its class list, and it silently
    reuses the previous class's index, so its mask has 105 logits and those 8 classes are
    scored against another class's logit; here each of them gets its own class (the first
    its mapping lists). The paper's ObjectNet numbers carry that bug, so they can differ from
    this set's; `objectnet` is the correct 113-way max scoring. Same folder and images."""

    name = "objectnet_reference"
    rib = False  # the same images as objectnet, scored another way: not a ninth RIB set
    order = None  # after the RIB sets, by name: not in objectnet's place
    title = "ObjectNet, reference-code scoring (one ImageNet class per class)"
    short = "ObjectNet-ref"

    def class_indices(self) -> list[tuple[int, ...]]:
        return [(objectnet_classes()[f]["reference"],) for f in self.wnids()]

    def scoring(self) -> str:
        return "113-way, masked to one ImageNet logit per class (the reference code's choice, bug fixed)"

    def scored_as(self, fidelity: str) -> WnidFolders:
        return self  # its own scoring in either mode
