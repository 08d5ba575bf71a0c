"""ImageNet-Sketch: ~50,889 sketches of all 1000 classes, one wnid folder per class."""

from ribray.data import register
from ribray.data.folders import WnidFolders


@register
class ImageNetSketch(WnidFolders):
    name = "imagenet_sketch"
    rib = True
    order = 40
    title = "ImageNet-Sketch"
    short = "Sketch"
    folder = "imagenet-sketch"
    expected_images = 50_889
    suffix = ".JPEG"
    source = ("github.com/HaohanWang/ImageNet-Sketch (ImageNet-Sketch.zip): extract its sketch/ "
              "folder as imagenet-sketch/<wnid>/*.JPEG (1000 wnid folders)")
