"""ImageNet-1K validation set: 50,000 images in 1000 wnid folders (ImageFolder layout)."""

from ribray.data import register
from ribray.data.folders import WnidFolders


@register
class ImageNetVal(WnidFolders):
    name = "imagenet_val"
    title = "ImageNet-1K val"
    short = "IN-1K"
    folder = "imagenet/val"
    images_per_class = 50
    expected_images = 50_000
    source = ("ILSVRC-2012 validation images (image-net.org), sorted into one folder per wnid "
              "(e.g. with the devkit's ground truth or a valprep script): imagenet/val/n01440764/*.JPEG")
