"""The paper's analyses beyond the main grid: per-layer CKA between pretrained and fine-tuned
representations, and OTDD between datasets in a feature space (the dataset-size study's subsets
are data: `ribray.data.subsets`).

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

__all__ = [
    "ClassGaussians", "MinibatchCKA", "block_outputs", "class_gaussians",
    "extract_features", "label_distances", "layer_cka", "layer_names", "linear_cka",
    "otdd", "resolve_layers", "subsample_per_class",
]
