"""ImageNet-R (renditions): 30,000 images of 200 ImageNet classes, scored on those 200 logits."""

from ribray.data import register
from ribray.data.classes import subset_wnids
from ribray.data.folders import WnidFolders


@register
class ImageNetR(WnidFolders):
    name = "imagenet_r"
    rib = True
    order = 30
    title = "ImageNet-R"
    short = "R"
    folder = "imagenet-r"
    expected_images = 30_000
    expected_classes = 200
    suffix = ".jpg"
    source = ("github.com/hendrycks/imagenet-r: imagenet-r.tar extracts to imagenet-r/<wnid>/*.jpg "
              "(200 wnid folders)")

    def wnids(self) -> tuple[str, ...]:
        return subset_wnids("imagenet_r")
