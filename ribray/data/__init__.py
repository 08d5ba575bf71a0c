"""Dataset registry: one file per benchmark dataset, registered with @register."""

from __future__ import annotations

from pathlib import Path

from ribray.data.base import CheckResult, DatasetEntry, Sample
from ribray.registry import BUILTIN, Registry, import_submodules

DATASETS: Registry[DatasetEntry] = Registry("dataset", list_command="ribray data list")

IMAGENET_VAL = "imagenet_val"


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


def table_order(name: str) -> tuple:
    """Where a set stands in the report's rows and columns: sets with an `order` by it (the paper's
    eight in its column order), then the rest by name (a set not registered, too)."""
    order = DATASETS.get(name).order if name in DATASETS else None
    return (order is None, order or 0, name)


import_submodules(__name__)  # every dataset module: adding a set is adding a file

# The paper's eight ImageNet-RIB sets (ribray's own sets marked `rib`), in its column order: each is
# fine-tuned on in turn, and RI averages the accuracy change over the other seven.
RIB_SETS = tuple(sorted((name for name, entry in DATASETS.items() if entry.rib and DATASETS.origin(name) == BUILTIN),
                        key=table_order))
# What the paper's sweeps (sweeps/*.yaml) read: `ribray data check ROOT` fails without any of them
PAPER_SETS = (IMAGENET_VAL, "imagenet_train", *RIB_SETS)

__all__ = ["DATASETS", "IMAGENET_VAL", "PAPER_SETS", "RIB_SETS", "CheckResult", "DatasetEntry", "Sample", "get_dataset",
           "register", "short_name", "table_order"]
