"""ImageNet-1K training set (a downstream set in the dataset-size study): 1000 wnid folders."""

from ribray.data import register
from ribray.data.folders import WnidFolders


@register
class ImageNetTrain(WnidFolders):
    name = "imagenet_train"
    title = "ImageNet-1K train"
    short = "IN-1K train"
    folder = "imagenet/train"
    expected_images = 1_281_167
    source = "ILSVRC-2012 training images (image-net.org), as extracted: imagenet/train/n01440764/*.JPEG"
