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
from ribray.data.folders import WnidFolders, missing_folder, subfolders


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
    title = "ObjectNet, reference-code scoring (one ImageNet class per class)"
    short = "ObjectNet-ref"

    def class_indices(self) -> list[tuple[int, ...]]:
        return [(objectnet_classes()[f]["reference"],) for f in self.wnids()]

    def scoring(self) -> str:
        return "113-way, masked to one ImageNet logit per class (the reference code's choice, bug fixed)"
