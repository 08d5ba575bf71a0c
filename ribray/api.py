"""ribray's public API for plugins: what a researcher's own method, model, dataset or
interpolation is made of, and how it registers. ribray's own entries use exactly these
decorators and base classes (`ribray/methods/ewc.py` is a method in one file, as a plugin's is).

A plugin is a module, a `.py` file or a folder that a spec names under `plugins:` (relative to
the spec), e.g.

    # my_method.py
    from pydantic import Field
    from ribray.api import Method, MethodOptions, register_method

    class L1Options(MethodOptions):
        weight: float = Field(0.01, ge=0)

    @register_method("l1_sp")
    class L1ToPretrained(Method):
        summary = "L1 distance to the pretrained weights"
        Options = L1Options

        def setup(self, model, inputs):
            self.anchor = {n: p.detach().clone() for n, p in model.named_parameters()}

        def extra_loss(self, step):
            import torch
            return self.options.weight * torch.stack([(p - self.anchor[n]).abs().sum()
                                                      for n, p in step.model.named_parameters()]).sum()

and `methods: {ft: {}, l1_sp: {}}` in a spec with `plugins: [./my_method.py]`. Names are
unique across ribray and every plugin (a clash is an error naming both), and a plugin changes a
sweep only when its spec names it. README: "Bring your own".
"""

from ribray.data import DatasetEntry, Sample
from ribray.data import register as register_dataset
from ribray.data.declared import DatasetDeclaration
from ribray.data.folders import WnidFolders
from ribray.errors import DataError, PermanentError, RibrayError
from ribray.interpolations import (
    HeldOut,
    Interpolation,
    InterpolationInputs,
    InterpolationOptions,
    State,
    Variant,
)
from ribray.interpolations import register as register_interpolation
from ribray.interpolations.base import check_compatible
from ribray.interpolations.soup import soup as uniform_average
from ribray.methods import Method, MethodInputs, MethodOptions, Step
from ribray.methods import register as register_method
from ribray.models import ModelEntry
from ribray.models import register as register_model
from ribray.options import PRETRAINED, AnalysisOptions, Strict
from ribray.parts import ModelParts


def wnid_folder_dataset(name: str, **declaration) -> None:
    """Register a dataset in the standard wnid-folder layout from code, as the spec's
    `datasets:` declares one: `wnid_folder_dataset("my_ood", classes=[...], rib=True)`."""
    DatasetDeclaration.model_validate({**declaration, "name": name}).register()


__all__ = ["PRETRAINED", "AnalysisOptions", "DataError", "DatasetEntry", "HeldOut", "Interpolation", "InterpolationInputs",
           "InterpolationOptions", "Method", "MethodInputs", "MethodOptions", "ModelEntry", "ModelParts",
           "PermanentError", "RibrayError", "Sample", "State", "Step", "Strict", "Variant", "WnidFolders",
           "check_compatible", "register_dataset", "register_interpolation", "register_method", "register_model",
           "uniform_average", "wnid_folder_dataset"]
