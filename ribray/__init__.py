"""ribray: the ImageNet-RIB robust fine-tuning benchmark as a Ray Tune sweep."""

from ribray import _moved

__version__ = "0.2.0"

_moved.install()  # module paths of ribray 0.1 that an interrupted run's pickles name
