"""The paper's analyses beyond the main grid: dataset-size subsets, per-layer CKA between
pretrained and fine-tuned representations, and OTDD between datasets in a feature space.

Importing this package imports torch (POT only when an OTDD is computed)."""

from ribray.analysis.cka import (
    MinibatchCKA,
    block_outputs,
    layer_cka,
    layer_names,
    linear_cka,
    resolve_layers,
)
from ribray.analysis.features import extract_features
from ribray.analysis.otdd import (
    ClassGaussians,
    class_gaussians,
    label_distances,
    otdd,
    subsample_per_class,
)
from ribray.analysis.subsets import (
    SubsetTooLargeError,
    describe_subset,
    select_subset,
    smallest_class,
)

__all__ = [
    "ClassGaussians", "MinibatchCKA", "SubsetTooLargeError", "block_outputs", "class_gaussians",
    "describe_subset", "extract_features", "label_distances", "layer_cka", "layer_names", "linear_cka",
    "otdd", "resolve_layers", "select_subset", "smallest_class", "subsample_per_class",
]
