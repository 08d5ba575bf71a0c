"""Reading a spec: strict YAML mapped onto the typed blocks, every problem a SpecError that
names the key's path (with a did-you-mean), local paths made absolute against the file."""

from __future__ import annotations

import re
import stat
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ribray.errors import RibrayError, SpecError, UnknownNameError, did_you_mean
from ribray.registry import Registry
from ribray.secrets import has_credentials, move_tracking_credentials, redact
from ribray.spec.overrides import Override, apply_overrides, name_overrides
from ribray.spec.schema import Spec

MAX_SPEC_BYTES = 1 << 20  # a spec is a few KB: sweeps/full.yaml, the paper's whole grid, is 1.6 KB
MAX_SPEC_VALUES = 100_000  # values after anchors (&a) and aliases (*a) are expanded


def load_spec(path: str | Path, overrides: tuple[Override, ...] = ()) -> Spec:
    """Read and validate a spec file, with command-line `overrides` applied to its mapping first
    (ribray/spec/overrides.py); every problem becomes a SpecError naming the key (and the override
    that set it)."""
    path = Path(path)
    size = _regular_file_size(path)
    if size > MAX_SPEC_BYTES:
        raise SpecError(f"{path}: {size / 2**20:.1f} MiB is not a spec (the limit is {MAX_SPEC_BYTES // 2**20} MiB; "
                        "sweeps/full.yaml, the paper's whole grid, takes 1.6 KB)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(f"{path}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
                        f"{error.start}); save the spec as UTF-8") from None
    raw = apply_overrides(read_yaml(text, str(path)), overrides)
    try:
        spec = parse_spec(raw, base_dir=path.resolve().parent)
    except SpecError as error:
        raise SpecError(name_overrides(str(error), overrides)) from None
    spec._overrides = overrides
    return spec


def _regular_file_size(path: Path) -> int:
    """The spec file's size; a SpecError when it is missing or not a regular file (a folder,
    a FIFO, which reading would block on, /dev/zero, which never ends)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SpecError(f"spec file not found: {path}") from None
    except OSError as error:  # no permission, a name too long, a link loop
        raise SpecError(f"spec file {path} cannot be read: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SpecError(f"{path} is a folder, not a spec file; give the spec's .yaml file")
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(f"{path} is not a regular file (a FIFO, socket or device); give the spec's .yaml file")
    return info.st_size


def read_yaml(text: str, name: str, top_level: str = "name, data, models, ...") -> dict:
    """YAML's safe subset, refusing what would silently change the spec: a key given twice
    (the last one would win), and anchors/aliases that expand past MAX_SPEC_VALUES values.
    `top_level`: the keys the error for a document that is not a mapping names."""
    raw = yaml_value(text, name)
    if not isinstance(raw, dict):
        raise SpecError(f"{name}: expected a mapping of keys ({top_level}) at the top level")
    return raw


def yaml_value(text: str, name: str) -> Any:
    """One YAML document read as `read_yaml` reads a spec (the same refusals); `name` says where
    it came from in messages."""
    loader = _SpecLoader(text)
    try:
        node = loader.get_single_node()  # parsed once: measured, then built
        expanded = _expanded_size(node, {})
        if expanded > MAX_SPEC_VALUES:
            raise SpecError(f"its anchors and aliases expand to {expanded:,} values (the limit is "
                            f"{MAX_SPEC_VALUES:,}); write the lists out")
        raw = loader.construct_document(node) if node is not None else None
    except SpecError as error:
        raise SpecError(f"{name}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"{name}: YAML syntax error{where}: {problem}") from None
    finally:
        loader.dispose()
    return raw


class _SpecLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses duplicate keys in a mapping."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise SpecError(f"the key {key!r} is given twice (lines {seen[key] + 1} and "
                                f"{key_node.start_mark.line + 1}); YAML would keep only the last")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node, sizes: dict[int, int]) -> int:
    """How many values `node` holds once every alias is expanded (shared nodes counted once
    per use, computed once: a billion-laughs document is measured in microseconds)."""
    if node is None:
        return 0
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1  # a recursive alias counts as one while it is being measured
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


def parse_spec(raw: dict, base_dir: Path | None = None) -> Spec:
    """Validate a spec given as a dict; local paths are made absolute against base_dir. Its plugins
    and declared datasets are made this process's first (`Spec.activate`): the rest of the spec
    may name what they register."""
    base_dir = base_dir or Path.cwd()
    raw, plugins = _with_extensions(raw, base_dir)
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as error:
        raise SpecError(format_validation_error(error, Spec)) from None
    spec._plugins = plugins
    if spec.mlflow.tracking_uri and has_credentials(spec.mlflow.tracking_uri):
        clean = move_tracking_credentials(spec.mlflow.tracking_uri)
        spec = spec.model_copy(update={"mlflow": spec.mlflow.model_copy(update={"tracking_uri": clean})})
    return _absolute_paths(spec, base_dir)


def _with_extensions(raw: dict, base_dir: Path) -> tuple[dict, tuple]:
    """Resolve `plugins:` and `datasets:` and make them this process's, before the rest of the spec
    is validated against the registries they add to. Returns the spec with its plugins resolved
    (absolute paths, module names) and its datasets' class files read, and the plugins."""
    from ribray.plugins import activate, resolve

    plugins, problems = [], []
    refs = raw.get("plugins") or []
    if not isinstance(refs, list):
        raise SpecError(f"plugins: expected a list of modules, files or folders, got {type(refs).__name__}")
    for i, ref in enumerate(refs):
        try:
            plugins.append(resolve(str(ref), base_dir))
        except RibrayError as error:
            problems.append(f"plugins.{i}: {error}")
    datasets = raw.get("datasets")
    declared = {}
    if isinstance(datasets, dict):
        datasets = {name: _with_classes(name, d, base_dir, problems) for name, d in datasets.items()}
        declared = _declarations(datasets, problems)
        raw = {**raw, "datasets": datasets}
    if problems:
        raise SpecError("invalid spec:\n  " + "\n  ".join(problems) if len(problems) > 1 else
                        "invalid spec: " + problems[0])
    for i in range(len(plugins)):  # one at a time, so that a failure names its entry
        try:
            activate(plugins[:i + 1])
        except RibrayError as error:
            activate([])
            raise SpecError(f"invalid spec: plugins.{i}: {error}") from None
    try:
        activate(plugins, declared)
    except RibrayError as error:
        activate([])
        raise SpecError(f"invalid spec: datasets: {error}") from None
    return {**raw, "plugins": [p.ref for p in plugins]}, tuple(plugins)


def _with_classes(name: str, declaration: Any, base_dir: Path, problems: list[str]) -> Any:
    """A declared dataset with its `classes:` file (relative to the spec) read into the list."""
    from ribray.data.declared import read_classes_file

    if not isinstance(declaration, dict) or not isinstance(declaration.get("classes"), str) \
            or declaration["classes"] == "all":
        return declaration
    path = (base_dir / Path(declaration["classes"]).expanduser()).resolve()
    if not path.is_file():
        problems.append(f"datasets.{name}.classes: no such file {path} (give all, a list of wnids, or a file of "
                        "one wnid per line)")
        return declaration
    return {**declaration, "classes": read_classes_file(path)}


def _declarations(datasets: dict, problems: list[str]) -> dict[str, Any]:
    """origin ('datasets.<name>') -> the typed declaration, for `activate`."""
    from ribray.data.declared import DatasetDeclaration

    declared = {}
    for name, declaration in datasets.items():
        if declaration is not None and not isinstance(declaration, dict):
            problems.append(f"datasets.{name}: expected a mapping (folder, classes, rib, ...), "
                            f"got {type(declaration).__name__}")
            continue
        try:
            declared[f"datasets.{name}"] = DatasetDeclaration.model_validate({**(declaration or {}), "name": name})
        except ValidationError as error:
            problems += validation_lines(error, DatasetDeclaration, ("datasets", name))
    return declared


REGISTRY_PROBLEMS = "ribray_registry"  # a pydantic error type: lines already naming their keys


def registry_entries(entries: Any, registry: Registry, key: str, what: str) -> dict[str, Any]:
    """Validate `key:` (labels or registered names -> options; see ribray/spec/entries.py) entry by
    entry against each entry's own typed `Options` (methods, interpolations), grids expanded. Every
    unknown name and bad option is reported, together with the rest of the spec's problems (a
    pydantic error that format_validation_error unpacks line by line)."""
    from ribray.spec.entries import parse_entries

    validated, problems = parse_entries(entries, registry, key, what, what, validation_lines)
    if problems:
        report_problems(problems)
    return validated


def analyses_blocks(analyses: Any) -> Any:
    """`analyses:` with each block beyond the paper's (`AnalysesOptions`' fields) validated against
    the options its trial kind registered (`ribray.options.ANALYSES`: a plugin's kind). Unknown
    keys and bad options are reported with their paths, together with the paper's blocks' problems."""
    from ribray.options import ANALYSES, AnalysesOptions

    if not isinstance(analyses, dict):
        return analyses
    blocks, problems = {}, []
    known = sorted({*AnalysesOptions.model_fields, *ANALYSES.names()})
    for key, value in analyses.items():
        if key in AnalysesOptions.model_fields:
            blocks[key] = value
        elif key not in ANALYSES:
            guess = did_you_mean(str(key), known)
            problems.append(f"analyses.{key}: unknown key" + (f"; did you mean 'analyses.{guess}'?" if guess else "")
                            + f" (valid keys here: {', '.join(known)})")
        elif value is not None:
            try:
                blocks[key] = ANALYSES.get(key).model_validate(value)
            except ValidationError as error:
                problems += validation_lines(error, ANALYSES.get(key), ("analyses", key))
    if problems:
        try:
            AnalysesOptions.model_validate({k: v for k, v in blocks.items() if k in AnalysesOptions.model_fields})
        except ValidationError as error:
            problems = validation_lines(error, AnalysesOptions, ("analyses",)) + problems
        report_problems(problems)
    return blocks


def report_problems(problems: list[str]):
    """Raise, inside a pydantic validator, problems that already name their keys."""
    from pydantic_core import PydanticCustomError

    raise PydanticCustomError(REGISTRY_PROBLEMS, "{problems}", {"problems": "\n".join(problems)})


def dataset_name_problems(key: str, names: list[str], by_name: bool = False) -> list[str]:
    """`key.i: unknown dataset ...; did you mean ...?` (`key.name` for a mapping's keys) for
    each name the registry lacks, and `key.i: imagenet_r is listed twice` for repeats."""
    from ribray.data import DATASETS

    problems = []
    for i, name in enumerate(names):
        where = f"{key}.{name if by_name else i}"
        if name not in DATASETS:
            try:
                DATASETS.get(name)
            except UnknownNameError as error:
                problems.append(f"{where}: {error}")
        elif name in names[:i]:
            problems.append(f"{where}: {name} is listed twice (its rows would count twice)")
    return problems


def _absolute_paths(spec: Spec, base_dir: Path) -> Spec:
    def resolve(p: str) -> str:
        if "://" in p:
            return p
        return str((base_dir / Path(p).expanduser()).resolve())

    data = spec.data.model_copy(update={
        "root": resolve(spec.data.root),
        "folders": {k: resolve(v) for k, v in spec.data.folders.items()}})
    models = [m.model_copy(update={"checkpoint": resolve(m.checkpoint)}) if m.checkpoint else m
              for m in spec.models]
    return spec.model_copy(update={"storage": resolve(spec.storage), "data": data, "models": models})


def format_validation_error(error: ValidationError, root: type[BaseModel], prefix: tuple = ()) -> str:
    """Every problem on its own line: the key's dotted path, what is wrong, and a did-you-mean."""
    lines = validation_lines(error, root, prefix)
    return "invalid spec:\n  " + "\n  ".join(lines) if len(lines) > 1 else "invalid spec: " + lines[0]


def validation_lines(error: ValidationError, root: type[BaseModel], prefix: tuple = ()) -> list[str]:
    lines = []
    for item in error.errors():
        loc = prefix + tuple(item["loc"])
        path = ".".join(str(p) for p in loc)
        if item["type"] == REGISTRY_PROBLEMS:
            message = item["ctx"]["problems"]  # already one line per problem, each naming its key
        elif item["type"] == "extra_forbidden":
            known = _keys_at(root, tuple(item["loc"])[:-1])
            guess = did_you_mean(str(loc[-1]), known)
            message = f"{path}: unknown key"
            message += f"; did you mean {'.'.join(str(p) for p in loc[:-1] + (guess,))!r}?" if guess else ""
            message += f" (valid keys here: {', '.join(sorted(known))})" if known else ""
        else:
            message = f"{path}: {item['msg'].removeprefix('Value error, ')}"
            if item["type"] not in ("missing", "value_error") and "input" in item \
                    and not isinstance(item["input"], dict):
                message += f" (got {redact(repr(item['input']))})"
            if isinstance(item.get("input"), str) and _YAML11_EXPONENT.match(item["input"]):
                message += (f"; YAML reads {item['input']} as text (its floats need a dot: "
                            f"{_with_dot(item['input'])}); for an integer write the digits out")
        lines += message.split("\n")
    return lines


_YAML11_EXPONENT = re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$")  # 1e9, 5e-4: strings to YAML 1.1


def _with_dot(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    return f"{mantissa}.0e{exponent}"


def _keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names valid at `loc` inside `model` (walks nested blocks and lists)."""
    current: Any = model
    for part in loc:
        current = _strip(current)
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = field.annotation
    current = _strip(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _strip(annotation: Any) -> Any:
    """Unwrap Optional[X], list[X] and X | Literal down to the block type X."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        blocks = [a for a in typing.get_args(annotation)
                  if isinstance(_strip(a), type) and issubclass(_strip(a), BaseModel)]
        return _strip(blocks[0]) if blocks else annotation
    if origin is list:
        return _strip(typing.get_args(annotation)[0])
    return annotation
