"""Interpolation registry: one file per way of combining finished weights (WiSE-FT, uniform
soup), registered with @register("name"); the spec names them under `interpolations:`."""

from __future__ import annotations

from ribray.interpolations.base import (
    HeldOut,
    Interpolation,
    InterpolationInputs,
    InterpolationOptions,
    State,
    Variant,
)
from ribray.registry import Registry, import_submodules

INTERPOLATIONS: Registry[type[Interpolation]] = Registry("interpolation", list_command="ribray methods")


def register(name: str):
    """Class decorator: register an Interpolation subclass under `name`."""
    return INTERPOLATIONS.register_named(name)


def get_interpolation(name: str) -> type[Interpolation]:
    return INTERPOLATIONS.get(name)


import_submodules(__name__)

__all__ = ["INTERPOLATIONS", "HeldOut", "Interpolation", "InterpolationInputs", "InterpolationOptions", "State",
           "Variant", "get_interpolation", "register"]
