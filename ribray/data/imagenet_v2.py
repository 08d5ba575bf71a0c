"""ImageNet-V2 (matched frequency): 10,000 new images of the 1000 classes, in folders named by
the class index ("0" ... "999"), not by wnid."""

from __future__ import annotations

from pathlib import Path

from ribray.data import register
from ribray.data.base import Sample
from ribray.data.folders import WnidFolders, image_files


@register
class ImageNetV2(WnidFolders):
    name = "imagenet_v2"
    rib = True
    order = 10
    title = "ImageNet-V2 matched-frequency"
    short = "V2"
    folder = "imagenetv2-matched-frequency-format-val"
    images_per_class = 10
    expected_images = 10_000
    suffix = ".jpeg"
    source = ("github.com/modestyachts/ImageNetV2 (imagenetv2-matched-frequency.tar.gz): "
              "imagenetv2-matched-frequency-format-val/<class index 0-999>/*.jpeg")

    def wnids(self) -> tuple[str, ...]:
        """Folder names: the class indices as text."""
        return tuple(str(i) for i in range(1000))

    def class_indices(self) -> list[tuple[int, ...]]:
        return [(i,) for i in range(1000)]

    def samples(self, root: Path) -> list[Sample]:
        return [Sample(path, int(folder.name))
                for folder in self.class_folders(root) for path in image_files(folder)]

    def layout(self) -> str:
        return f"<{self.folder}>/<class index>/*.jpeg with 1000 folders named 0 to 999"
