"""Command-line overrides of a spec's values: `--set train.epochs=1` (or `train.epochs=1` after the
spec), applied to the spec's mapping before it is validated, so an override is checked exactly as
the file is, and the validated spec (its trials, their ids, the spec hash, the stored spec.yaml) is
the spec as overridden. A problem caused by an override says which one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ribray.errors import SpecError

_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class Override:
    """One `KEY=VALUE`: the key's path (mapping keys, list indexes) and the value as YAML reads it."""

    path: tuple[str, ...]
    value: Any
    text: str  # as given, for messages and for the commands ribray suggests

    @property
    def key(self) -> str:
        return ".".join(self.path)


def parse_override(text: str) -> Override:
    """`train.epochs=1`, `methods.ewc.weight=10`, `seeds=[0, 1]`, `models.0=vit_base_patch16_224`:
    the value is one YAML value (a scalar, a list, a mapping), read as the spec file is read."""
    from ribray.spec.load import yaml_value

    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise SpecError(f"{text!r} is not an override: write KEY=VALUE, e.g. train.epochs=1 or methods.ewc.weight=10")
    path = tuple(key.split("."))
    if any(not part for part in path):
        raise SpecError(f"{text!r}: the key {key!r} has an empty part; keys are joined by single dots "
                        "(train.epochs, methods.ewc.weight, models.0)")
    return Override(path, yaml_value(value, f"the override {text!r}"), text)


def parse_overrides(texts) -> tuple[Override, ...]:
    """Each KEY=VALUE parsed; the same key given twice is refused (which one would win is a guess)."""
    overrides = tuple(parse_override(t) for t in texts)
    keys = [o.key for o in overrides]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise SpecError(f"the override key {key!r} is given twice ({overrides[keys.index(key)].text!r} and "
                            f"{overrides[i].text!r}); give it once")
    return overrides


def apply_overrides(raw: dict, overrides: tuple[Override, ...]) -> dict:
    """The spec's mapping with each override's value put at its key, creating missing mappings on
    the way (`methods.ewc.weight=10` where `ewc:` is empty). Copied along each path, never changed
    in place: a mapping the YAML shares through an alias (`*defaults`) keeps its other uses."""
    result = dict(raw)
    for override in overrides:
        result = _set(result, override, 0)
    return result


def _set(node: Any, override: Override, depth: int) -> Any:
    """A copy of `node` (the mapping or list at override.path[:depth]) with the override's value
    at the rest of its path."""
    part, last = override.path[depth], depth == len(override.path) - 1
    if isinstance(node, dict):
        copied = dict(node)
        copied[part] = override.value if last else _set(_or_mapping(copied.get(part)), override, depth + 1)
        return copied
    if isinstance(node, list):
        if not _INDEX.match(part) or int(part) >= len(node):
            where = ".".join(override.path[:depth])
            raise SpecError(f"the override {override.text!r}: {where} is a list of {len(node)} item(s); give an index "
                            f"0..{len(node) - 1} after {where}. (e.g. {where}.0), or set the whole list "
                            f"({where}=[...])")
        copied = list(node)
        index = int(part)
        copied[index] = override.value if last else _set(_or_mapping(copied[index]), override, depth + 1)
        return copied
    where = ".".join(override.path[:depth])
    raise SpecError(f"the override {override.text!r}: {where} is {node!r}, not a mapping or a list, so it has no "
                    f"key {part!r}")


def _or_mapping(node: Any) -> Any:
    """An empty entry (`ewc:`, or a key the spec does not give) is a mapping to fill."""
    return {} if node is None else node


def name_overrides(message: str, overrides: tuple[Override, ...]) -> str:
    """`message` with each line about a key an override set (or a key inside it, or the block that
    holds it) followed by the override that set it: the user looks at the command, not the file."""
    if not overrides:
        return message
    lines = []
    for line in message.split("\n"):
        path = line.strip().removeprefix("invalid spec: ").split(": ", 1)[0].split(" ", 1)[0]
        culprit = next((o for o in overrides if _related(path, o.key)), None) if path else None
        lines.append(f"{line} (from the override {culprit.text})" if culprit else line)
    return "\n".join(lines)


def _related(path: str, key: str) -> bool:
    return path == key or path.startswith(key + ".") or key.startswith(path + ".")


def overrides_shown(overrides: tuple[Override, ...]) -> str:
    """How `ribray plan` and `validate` name them: `train.epochs=1, methods.ewc.weight=10`."""
    return ", ".join(o.text for o in overrides)


def command_line(spec_path: str, overrides: tuple[Override, ...]) -> str:
    """`SPEC --set KEY=VALUE ...`, quoted for a shell: what a suggested command repeats."""
    import shlex

    return " ".join([shlex.quote(spec_path), *(f"--set {shlex.quote(o.text)}" for o in overrides)])
