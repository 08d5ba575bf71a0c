"""Dataset registry: one file per benchmark dataset, registered with @register."""

from __future__ import annotations

from ribray.data.base import CheckResult, DatasetEntry, Sample
from ribray.registry import Registry, import_submodules

DATASETS: Registry[DatasetEntry] = Registry("dataset", list_command="ribray data list")


def register(cls: type[DatasetEntry]) -> type[DatasetEntry]:
    """Class decorator: register one instance of a DatasetEntry subclass under cls.name."""
    DATASETS.register(cls.name)(cls())
    return cls


def get_dataset(name: str) -> DatasetEntry:
    return DATASETS.get(name)


import_submodules(__name__)

__all__ = ["DATASETS", "CheckResult", "DatasetEntry", "Sample", "get_dataset", "register"]
