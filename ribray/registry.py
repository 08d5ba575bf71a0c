"""A strict name -> object registry: duplicates are errors, unknown names get a did-you-mean."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from ribray.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to registered objects of one kind (models, datasets, methods)."""

    def __init__(self, kind: str, list_command: str = ""):
        self.kind = kind
        self.list_command = list_command
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under `name`."""

        def add(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return add

    def register_named(self, name: str) -> Callable[[T], T]:
        """Class decorator: register the class under `name` and set its `name` attribute."""

        def add(cls: T) -> T:
            cls.name = name
            return self.register(name)(cls)

        return add

    def get(self, name: str) -> T:
        if name not in self._entries:
            hint = f"run `{self.list_command}` to list them" if self.list_command else ""
            raise UnknownNameError(self.kind, name, self._entries, hint=hint)
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)


def import_submodules(package: str) -> None:
    """Import every module of `package`, so that adding a file registers its entry."""
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
