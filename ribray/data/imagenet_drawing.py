"""ImageNet-Drawing: the 50,000 ImageNet val images rendered as colour pencil drawings."""

from ribray.data import register
from ribray.data.folders import WnidFolders


@register
class ImageNetDrawing(WnidFolders):
    name = "imagenet_drawing"
    rib = True
    order = 70
    title = "ImageNet-Drawing"
    short = "Drawing"
    folder = "imagenet-drawing"
    images_per_class = 50
    expected_images = 50_000
    source = ("Salvador & Oberman 2022, 'ImageNet-Cartoon and ImageNet-Drawing' (zenodo release): "
              "imagenet-drawing/<wnid>/*.JPEG, laid out like ImageNet val")
