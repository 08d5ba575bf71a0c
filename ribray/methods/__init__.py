"""Method registry: one file per fine-tuning method, registered with @register("name")."""

from __future__ import annotations

from ribray.methods.base import Method, MethodInputs, MethodOptions, Step
from ribray.registry import Registry, import_submodules

METHODS: Registry[type[Method]] = Registry("method", list_command="ribray methods")


def register(name: str):
    """Class decorator: register a Method subclass under `name`."""
    return METHODS.register_named(name)


def get_method(name: str) -> type[Method]:
    return METHODS.get(name)


import_submodules(__name__)

__all__ = ["METHODS", "Method", "MethodInputs", "MethodOptions", "Step", "get_method", "register"]
