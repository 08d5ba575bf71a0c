"""Errors a user can act on, and the did-you-mean helper they share."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class RibrayError(Exception):
    """An error whose message is meant for the user, printed without a traceback.

    Every ribray error (and a plugin's subclass) survives `copy.copy` and pickling with its
    message and attributes, whatever its `__init__` takes: Ray copies and pickles a trial's
    exception on its way to the driver, and an error that cannot be rebuilt arrives as a
    TypeError about `__init__`'s arguments instead of the real cause."""

    def __reduce__(self):
        return _rebuild, (type(self), self.args, self.__dict__.copy())


class SpecError(RibrayError):
    """The sweep spec is wrong; the message names the key's path."""


class UnknownNameError(RibrayError, KeyError):
    """A name that no registry knows."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str = ""):
        self.kind, self.name = kind, name
        self.known = sorted(known)
        message = f"unknown {kind} {name!r}"
        suggestion = did_you_mean(name, self.known)
        if suggestion:
            message += f"; did you mean {suggestion!r}?"
        if hint:
            message += f" ({hint})"
        elif len(self.known) <= 30:
            message += f" (known: {', '.join(self.known)})"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class PermanentError(RibrayError):
    """A trial failure that a retry would repeat exactly (a checkpoint that cannot be loaded, a
    loss that is not finite): the trial fails at once, without spending its retries."""


class DataError(RibrayError):
    """A dataset folder is missing, incomplete or unreadable."""


def _rebuild(cls: type[RibrayError], args: tuple, state: dict) -> RibrayError:
    """An error of `cls` with these args and attributes, without calling its `__init__`."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The closest known name to `name`, or None when nothing is close."""
    known = list(known)
    lowered = {k.lower(): k for k in known}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None


def first_line(error: BaseException) -> str:
    """An error's message cut to its first line (a traceback's or a library's long text), or
    its type's name when the message is empty."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
