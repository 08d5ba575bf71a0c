"""ObjectNet: the 113 of its 313 classes that overlap ImageNet-1K (~18.5k PNG images).

Each ObjectNet class covers one or more ImageNet classes; a prediction is the ObjectNet class
whose best ImageNet logit is highest (max over the group, 113-way, as imagenet-testbed scores
it). The images have a thin red border, cut (2 px each side) before the transform.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from ribray.data import register
from ribray.data.folders import WnidFolders


@functools.lru_cache(maxsize=1)
def objectnet_classes() -> dict[str, dict]:
    """folder name -> {"name": ObjectNet label, "imagenet": [ImageNet-1K indices]}."""
    text = resources.files("ribray.data").joinpath("classes", "objectnet_classes.json").read_text()
    return json.loads(text)


@register
class ObjectNet(WnidFolders):
    """Class folders are ObjectNet's folder names; the other 200 classes' folders are ignored."""

    name = "objectnet"
    title = "ObjectNet (113 ImageNet classes)"
    folder = "objectnet-1.0/images"
    expected_images = 18_574
    expected_classes = 113
    crop_border = 2
    suffix = ".png"
    source = ("objectnet.dev (objectnet-1.0.zip, password-protected; accept its license): "
              "objectnet-1.0/images/<class folder>/*.png; the 113 folders listed in "
              "ribray/data/classes/objectnet_classes.json are used")

    def wnids(self) -> tuple[str, ...]:
        return tuple(sorted(objectnet_classes()))

    def class_indices(self) -> list[tuple[int, ...]]:
        return [tuple(objectnet_classes()[f]["imagenet"]) for f in self.wnids()]

    def decorate_fake(self, image):
        """ObjectNet's thin red frame, so the 2 px crop has something to cut."""
        from PIL import ImageDraw

        ImageDraw.Draw(image).rectangle([0, 0, image.width - 1, image.height - 1], outline=(255, 0, 0), width=2)
        return image

    def class_folders(self, root):
        """Only the overlapping classes' folders; ObjectNet's other folders are expected."""
        from pathlib import Path

        from ribray.errors import DataError

        root = Path(root)
        if not root.is_dir():
            raise DataError(f"{self.name}: folder {root} is missing; expected {self.layout()}")
        return [root / f for f in self.wnids() if (root / f).is_dir()]


@register
class ObjectNetReference(ObjectNet):
    """ObjectNet scored as the reference RIB code does: one ImageNet class per ObjectNet class
    (the first listed), so the other ImageNet classes of a group are masked out. The reference
    code's bug (8 classes silently reusing the previous class's index) is fixed. Use it to
    compare with the paper's numbers; `objectnet` is the correct 113-way max scoring."""

    name = "objectnet_reference"
    title = "ObjectNet, reference-code scoring"

    def class_indices(self) -> list[tuple[int, ...]]:
        return [(objectnet_classes()[f]["imagenet"][0],) for f in self.wnids()]
