"""Dataset registry: one file per benchmark dataset, registered with @register."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from ribray.data.base import CheckResult, DatasetEntry, Sample
from ribray.registry import Registry

DATASETS: Registry[DatasetEntry] = Registry("dataset", list_command="ribray data list")

# The eight ImageNet-RIB sets, in the paper's column order: each is fine-tuned on in turn, and
# RI averages the accuracy change over the other seven. ImageNet-1K val is evaluated, not in RI.
RIB_SETS = ("imagenet_v2", "imagenet_a", "imagenet_r", "imagenet_sketch", "objectnet",
            "imagenet_cartoon", "imagenet_drawing", "imagenet_c")
IMAGENET_VAL = "imagenet_val"
# What the paper's sweeps (sweeps/*.yaml) read: `ribray data check ROOT` fails without any of them
PAPER_SETS = (IMAGENET_VAL, "imagenet_train", *RIB_SETS)


def register(cls: type[DatasetEntry]) -> type[DatasetEntry]:
    """Class decorator: register one instance of a DatasetEntry subclass under cls.name."""
    DATASETS.register(cls.name)(cls())
    return cls


def get_dataset(name: str) -> DatasetEntry:
    return DATASETS.get(name)


def dataset_folder(root: str | Path, name: str, folders: dict[str, str] | None = None) -> Path:
    """Where dataset `name` lives: its entry in `folders` (the spec's data.folders), else its
    registered folder under `root`. The one answer for the driver, its checks and the trials."""
    if folders and name in folders:
        return Path(folders[name])
    return get_dataset(name).path(Path(root))


def short_name(name: str) -> str:
    """A set's short name (R, Sketch, IN-1K): what MLflow's metric names and the report's tables
    show; the name itself for a set without one, or one not registered."""
    return (DATASETS.get(name).short or name) if name in DATASETS else name


def rib_sets() -> tuple[str, ...]:
    """Every registered set RI averages over (`rib`): the paper's eight in its order, then any a
    plugin or the spec's `datasets:` adds, by name."""
    extra = sorted(name for name, entry in DATASETS.items() if entry.rib and name not in RIB_SETS)
    return (*(name for name in RIB_SETS if name in DATASETS and DATASETS.get(name).rib), *extra)


# Library modules that import torch: imported where they are used, so that listing and
# checking datasets (`ribray data list`, `ribray validate`) stays fast. Every other module
# here is imported, so adding a dataset is adding a file.
TORCH_MODULES = ("loading", "device_decode", "scoring")
for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_") and _module.name not in TORCH_MODULES:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["DATASETS", "IMAGENET_VAL", "PAPER_SETS", "RIB_SETS", "CheckResult", "DatasetEntry", "Sample", "get_dataset",
           "register", "rib_sets"]
