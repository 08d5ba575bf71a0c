"""ribray: the ImageNet-RIB robust fine-tuning benchmark as a Ray Tune sweep."""

__version__ = "0.2.0"
