"""ImageNet-Cartoon: the 50,000 ImageNet val images rendered as cartoons (1000 classes)."""

from ribray.data import register
from ribray.data.folders import WnidFolders


@register
class ImageNetCartoon(WnidFolders):
    name = "imagenet_cartoon"
    rib = True
    order = 60
    title = "ImageNet-Cartoon"
    short = "Cartoon"
    folder = "imagenet-cartoon"
    images_per_class = 50
    expected_images = 50_000
    source = ("Salvador & Oberman 2022, 'ImageNet-Cartoon and ImageNet-Drawing' (zenodo release): "
              "imagenet-cartoon/<wnid>/*.JPEG, laid out like ImageNet val")
