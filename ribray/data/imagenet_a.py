"""ImageNet-A (natural adversarial examples): 7,500 images of 200 classes, masked logits."""

from ribray.data import register
from ribray.data.classes import subset_wnids
from ribray.data.folders import WnidFolders


@register
class ImageNetA(WnidFolders):
    name = "imagenet_a"
    rib = True
    order = 20
    title = "ImageNet-A"
    short = "A"
    folder = "imagenet-a"
    expected_images = 7_500
    expected_classes = 200
    suffix = ".jpg"
    source = ("github.com/hendrycks/natural-adv-examples: imagenet-a.tar extracts to "
              "imagenet-a/<wnid>/*.jpg (200 wnid folders; its README.txt may stay beside them)")

    def wnids(self) -> tuple[str, ...]:
        return subset_wnids("imagenet_a")
