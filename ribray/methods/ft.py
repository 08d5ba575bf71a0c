"""FT: fine-tune every weight of the pretrained model."""

from ribray.methods import register
from ribray.methods.base import Method


@register("ft")
class FullFineTuning(Method):
    order = 10
    summary = "fine-tune all weights"
