"""The spec's `methods:` and `interpolations:` as labelled entries: named variants and grids.

Each key of those mappings is a label, or the name of a registered entry:
- `ewc: {}`: the registered `ewc` with the paper's options; label `ewc`;
- `ewc: {weight: 10}`: label `ewc(weight=10)`: a default label shows the options that differ from
  the defaults, so two variants of one method never share a table cell by accident;
- `ewc_w10: {method: ewc, weight: 10}` (`interpolation:` for interpolations): an explicit label;
- `ewc: {weight: {grid: [0.1, 1, 10]}}`: a grid, one variant per value (per combination when several
  options, or `train:` options, are grids), labelled by its grid values: `ewc(weight=0.1)`, ...
Labels are what plans, progress lines, MLflow runs, result rows and reports show; trial ids depend
on the configuration only, so the same configuration under two labels is refused.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ribray.errors import did_you_mean
from ribray.options import PRETRAINED
from ribray.registry import Registry

GRID = "grid"  # {grid: [values]}: one variant per value
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
MAX_LABEL = 64


@dataclass(frozen=True)
class Entry:
    """One method or interpolation of a sweep: its label (the table row), the registered entry it
    instantiates, and its typed options."""

    label: str
    name: str  # the registry name
    options: BaseModel
    key: str = ""  # the spec's key it came from (a grid's variants share one)
    grid: tuple[tuple[str, Any], ...] = field(default=())  # this variant's grid values: (option path, value)
    explicit: bool = False  # the key is a label of the spec's (it named the entry with `method:`)


def as_written(entries, name_key: str) -> dict[str, dict]:
    """The entries as a spec writes them (`methods:`, `interpolations:`), a grid as its grid:
    loading the result gives the same entries back (spec.yaml of the sweep's MLflow run, the spec
    hash)."""
    by_key: dict[str, list[Entry]] = {}
    for entry in entries:
        by_key.setdefault(entry.key, []).append(entry)
    written = {}
    for key, group in by_key.items():
        options = group[0].options.model_dump(mode="json")
        for path in dict.fromkeys(p for entry in group for p, _ in entry.grid):
            values = list(dict.fromkeys(v for entry in group for p, v in entry.grid if p == path))
            *parents, leaf = path.split(".")
            (options[parents[0]] if parents else options)[leaf] = {GRID: values}
        written[key] = {name_key: group[0].name, **options} if group[0].explicit else options
    return written


def is_grid(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {GRID}


def grid_values(options: dict) -> list[tuple[tuple[str, ...], list]]:
    """(path, values) of every `{grid: [...]}` in `options` (top level and one level down, e.g.
    `train: {lr: {grid: [...]}}`); ValueError naming the path of a grid that is not a list of values."""
    found = []
    for key, value in options.items():
        if is_grid(value):
            found.append(((key,), value[GRID]))
        elif isinstance(value, dict):
            found += [((key, sub), inner[GRID]) for sub, inner in value.items() if is_grid(inner)]
    for path, values in found:
        if not isinstance(values, list) or not values:
            raise ValueError(f"{'.'.join(path)}: a grid is a non-empty list of values ({{grid: [a, b]}})")
    return sorted(found, key=lambda grid: (len(grid[0]), grid[0]))  # labels alike, however the options are ordered


def expand(options: dict) -> list[tuple[tuple[tuple[str, Any], ...], dict]]:
    """Every combination of `options`' grids: (the grid values, the options with them filled in)."""
    grids = grid_values(options)
    if not grids:
        return [((), options)]
    variants = []
    for values in itertools.product(*(v for _, v in grids)):
        filled = {k: dict(v) if isinstance(v, dict) and not is_grid(v) else v for k, v in options.items()}
        chosen = []
        for (path, _), value in zip(grids, values, strict=True):
            if len(path) == 1:
                filled[path[0]] = value
            else:
                filled[path[0]][path[1]] = value
            chosen.append((".".join(path), value))
        variants.append((tuple(chosen), filled))
    return variants


def shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(shown(v) for v in value) + "]"
    return str(value)


def with_options(base: str, values: tuple[tuple[str, Any], ...] | list) -> str:
    """`base(key=value, ...)`, or `base` itself without values."""
    return f"{base}({', '.join(f'{k}={shown(v)}' for k, v in values)})" if values else base


def changed_options(options: BaseModel, defaults: BaseModel) -> list[tuple[str, Any]]:
    """The options (and `train:` overrides) that differ from the defaults, in field order."""
    mine, base = options.model_dump(mode="json"), defaults.model_dump(mode="json")
    changed = []
    for key, value in mine.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict | None):
            inner = base.get(key) or {}
            changed += [(k, v) for k, v in value.items() if v is not None and v != inner.get(k)]
        elif value != base.get(key):
            changed.append((key, value))
    return changed


def parse_entries(raw: Any, registry: Registry, key: str, what: str, name_key: str,
                  lines_of) -> tuple[dict[str, Entry], list[str]]:
    """`raw` (the spec's mapping) as {label: Entry}, and every problem found (each naming its key
    path). `lines_of(error, cls, prefix)` turns a pydantic error into such lines."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"{key}: expected a mapping of {what} name to options, got {type(raw).__name__}"]
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    for spec_key, options in raw.items():
        if isinstance(options, Entry):  # already parsed (a spec built in code)
            entries[options.label] = options
            continue
        found, issues = _parse_one(str(spec_key), options, registry, key, what, name_key, lines_of)
        problems += issues
        for entry in found:
            if entry.label in entries:
                problems.append(f"{key}.{spec_key}: the label {entry.label!r} is given twice; give one of them "
                                f"a label of its own ({key}: {{my_label: {{{name_key}: {entry.name}, ...}}}})")
            entries[entry.label] = entry
    return entries, problems + _same_configurations(entries, key)


def _parse_one(spec_key: str, options: Any, registry: Registry, key: str, what: str, name_key: str,
               lines_of) -> tuple[list[Entry], list[str]]:
    where = f"{key}.{spec_key}"
    options = dict(options or {}) if isinstance(options, dict) or options is None else options
    if not isinstance(options, dict):
        return [], [f"{where}: expected a mapping of options, got {type(options).__name__}"]
    explicit = name_key in options
    name = options.pop(name_key, spec_key)
    if name not in registry:
        hint = did_you_mean(str(name), registry.names())
        hint = f"; did you mean {hint!r}?" if hint else ""
        place = f"{where}.{name_key}" if explicit else where
        return [], [f"{place}: unknown {what}{hint} (run `{registry.list_command}` to list them)"]
    if explicit and (not LABEL.match(spec_key) or len(spec_key) > MAX_LABEL):
        return [], [f"{where}: a label is up to {MAX_LABEL} letters, digits and . _ + - (starting with a letter "
                    "or digit)"]
    registered = registry.get(name)
    cls, shown_as_alpha = registered.Options, getattr(registered, "alpha_options", ())
    try:
        variants = expand(options)
    except ValueError as error:
        return [], [f"{where}.{error}"]
    found, problems = [], []
    for values, filled in variants:
        try:
            typed = cls.model_validate(filled)
        except ValidationError as error:
            problems += lines_of(error, cls, (key, spec_key))
            continue
        gridded = [(path.split(".")[-1], value) for path, value in values]  # labels name the option alone
        if explicit:
            label = with_options(spec_key, gridded)
        else:  # the options that differ from the defaults, and a grid's values even where they do not
            skipped = {k for k, _ in gridded} | set(shown_as_alpha)
            label = with_options(name, [(k, v) for k, v in changed_options(typed, cls()) if k not in skipped]
                                 + gridded)
        found.append(Entry(label, name, typed, spec_key, values, explicit))
    return found, sorted(set(problems), key=problems.index)


def _same_configurations(entries: dict[str, Entry], key: str) -> list[str]:
    """Two labels of one configuration would be one trial claimed by two table rows."""
    seen: dict[tuple, str] = {}
    problems = []
    for label, entry in entries.items():
        identity = (entry.name, repr(sorted(entry.options.model_dump(mode="json").items())))
        if identity in seen:
            problems.append(f"{key}: {seen[identity]!r} and {label!r} are the same configuration "
                            "(they would be one trial under two names); keep one")
        seen.setdefault(identity, label)
    return problems


def interpolators(spec) -> list[tuple[str, object]]:
    """(label, the interpolation with its options) for every interpolation of the spec."""
    from ribray.interpolations import INTERPOLATIONS

    return [(label, INTERPOLATIONS.get(entry.name)(entry.options)) for label, entry in spec.interpolations.items()]


def expand_ingredient(ingredient: str, labels: list[str]) -> list[str]:
    """An ingredient as method labels: itself, or every label a pattern (`ft(*`) matches, in
    the spec's order."""
    if ingredient == PRETRAINED or not any(char in ingredient for char in "*?["):
        return [ingredient]
    return [label for label in labels if fnmatch.fnmatchcase(label, ingredient)]


def expand_ingredients(ingredients, labels: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for i in ingredients for m in expand_ingredient(i, labels)))


def start_label(spec, label: str, starts_from: str) -> str:
    """The label of the method a method starts from (LP-FT: LP): a variant of a grid starts from
    the same grid's variant (`lp_ft(lr=0.1)` from `lp(lr=0.1)`) when the spec has it, else the
    spec's `lp`, else LP with the paper's options."""
    suffix = label[len(spec.method_entry(label).key):] if label in spec.methods else ""
    for candidate in (f"{starts_from}{suffix}", starts_from):
        if candidate in spec.methods:
            return candidate
    return starts_from
