"""A strict name -> object registry: duplicates are errors, unknown names get a did-you-mean,
and every entry knows where it came from (ribray itself, or the plugin that registered it)."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Generic, TypeVar

from ribray.errors import RibrayError, UnknownNameError

T = TypeVar("T")

BUILTIN = "ribray"  # the origin of the entries that ship with ribray
_loading: ContextVar[str] = ContextVar("ribray_registry_origin", default=BUILTIN)
_REGISTRIES: list[Registry] = []


@contextlib.contextmanager
def registering_as(origin: str) -> Iterator[None]:
    """Entries registered inside the block come from `origin` (a plugin's source, as the plugin
    loader names it)."""
    token = _loading.set(origin)
    try:
        yield
    finally:
        _loading.reset(token)


def forget(origin: str) -> list[str]:
    """Remove every entry `origin` registered, from every registry (a plugin unloaded, or
    reloaded with other code); returns 'kind name' of each."""
    removed = []
    for registry in _REGISTRIES:
        for name in [n for n, o in registry._origins.items() if o == origin]:
            del registry._entries[name], registry._origins[name]
            removed.append(f"{registry.kind} {name}")
    return removed


class Registry(Generic[T]):
    """Maps names to registered objects of one kind (models, datasets, methods)."""

    def __init__(self, kind: str, list_command: str = ""):
        self.kind = kind
        self.list_command = list_command
        self._entries: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        _REGISTRIES.append(self)

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under `name`."""

        def add(obj: T) -> T:
            origin = _loading.get()
            if origin == BUILTIN and not _module_of(obj).startswith("ribray."):
                origin = f"module {_module_of(obj)}"  # imported by hand, not by a spec's plugins:
            if name in self._entries:
                first = self._origins[name]
                raise RibrayError(f"{self.kind} {name!r} is registered twice: by {first} and by {origin}"
                                  + ("" if first != BUILTIN else "; a plugin's entries need names of their own"))
            self._entries[name] = obj
            self._origins[name] = origin
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

    def origin(self, name: str) -> str:
        """Where the entry came from: 'ribray', or the plugin that registered it."""
        self.get(name)
        return self._origins[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)


def is_outside(origin: str) -> bool:
    """An entry registered by code imported outside a spec's `plugins:` (a launcher script):
    Ray's workers would not have it."""
    return origin.startswith("module ")


def _module_of(obj: object) -> str:
    """The module that defines what is registered: a class's or function's own; for an instance,
    what it builds (a model entry's `build`), else its class's."""
    if isinstance(obj, type) or callable(obj) and hasattr(obj, "__code__"):
        return obj.__module__
    build = vars(obj).get("build") if hasattr(obj, "__dict__") else None
    if build is not None:
        return getattr(getattr(build, "func", build), "__module__", None) or type(obj).__module__
    return type(obj).__module__


def import_submodules(package: str) -> None:
    """Import every module of `package`, so that adding a file registers its entry."""
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
