"""Plugins: a researcher's own methods, models, datasets and interpolations, from outside ribray.

A spec names its plugins (`plugins:`); each is one of
- a module (`my_pkg.ribray_plugin`), or the name of an installed package's entry point in the
  `ribray.plugins` group: imported by name, so it must be installed on every node of a cluster;
- a `.py` file (`./my_method.py`), imported as a module named after the file;
- a folder (`./my_plugins/`): a package when it holds `__init__.py` (imported under the folder's
  name), else each `*.py` file in it, in name order, as a module of its own.
Relative paths are relative to the spec's folder. A plugin's entries register with the same
decorators and base classes as ribray's own (`ribray.api`), and each entry remembers its origin.

A plugin's code is captured when it is resolved: its identity (a hash of its files) goes with every
result that uses it, and a file or folder plugin travels to Ray's workers inside the sweep's settings
(`SweepContext.plugins`), so every trial runs exactly the code the driver validated, on any node,
whatever happens to the files meanwhile. Both the driver and the workers import that captured copy
(written once per identity under the temp folder, so tracebacks and `__file__` work).

A process has exactly the plugins it was asked for (`activate`): activating a spec's plugins unloads
the entries of any other, so nothing changes a sweep because it happens to be installed or was
loaded before. Installed entry points are listed by `ribray methods`, `ribray models` and `ribray
data list`, and used only when a spec or `--plugin` names them.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ribray.errors import PermanentError, RibrayError, SpecError
from ribray.registry import forget, registering_as

ENTRY_POINT_GROUP = "ribray.plugins"
MAX_PLUGIN_BYTES = 16 << 20  # a plugin's files travel with every trial: code, not data or weights
SKIPPED = ("__pycache__",)


@dataclass(frozen=True)
class Plugin:
    """One plugin, resolved: what it is, the modules it is imported as, and its code identity."""

    ref: str  # a module name, or the absolute path of a file or folder
    kind: str  # "module" | "file" | "folder"
    source: str  # its name in results, listings and errors: the module, the file's or folder's name
    modules: tuple[str, ...]  # imported in this order
    identity: str  # 12 hex digits of the SHA-256 of its files: what results depend on
    version: str | None = None  # an installed package's version
    files: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # a file or folder plugin's files
    package: bool = False  # a folder holding __init__.py

    @property
    def shipped(self) -> bool:
        """Travels with the sweep (a file or folder); a module must be installed on every node."""
        return self.kind != "module"

    def describe(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"plugin {self.source}{version} ({self.identity})"


@dataclass
class _Loaded:
    plugin: Plugin
    modules: list[str]  # every module its import added to sys.modules
    path: str | None  # the folder it put on sys.path


_active: dict[str, _Loaded] = {}  # source -> what is loaded
_declared: dict[str, object] = {}  # origin -> a declaration (datasets:) registered by `activate`


# -- resolving: a spec's `plugins:` entries -> Plugin (nothing imported yet) ---------------------------
def resolve(ref: str, base_dir: Path | None = None) -> Plugin:
    """The plugin `ref` names (see the module docstring); RibrayError when there is none."""
    text = str(ref).strip()
    if not text:
        raise RibrayError("an empty plugin name")
    entry_point = _entry_points().get(text)
    if entry_point is not None:
        return _module_plugin(entry_point.module, source=text)
    if _looks_like_path(text):
        path = Path(text).expanduser()
        path = (Path(base_dir or Path.cwd()) / path).resolve() if not path.is_absolute() else path.resolve()
        return _path_plugin(path)
    return _module_plugin(text)


def _looks_like_path(text: str) -> bool:
    return text.endswith(".py") or text.startswith((".", "/", "~")) or os.sep in text or "/" in text


def _path_plugin(path: Path) -> Plugin:
    if path.is_file():
        if path.suffix != ".py":
            raise RibrayError(f"plugin {path}: a plugin file is Python source ending in .py")
        files = ((path.name, path.read_bytes()),)
        return Plugin(str(path), "file", path.name, (_module_name(path.stem, path),), _digest(files), files=files)
    if path.is_dir():
        files = tuple(_folder_files(path))
        package = (path / "__init__.py").is_file()
        if package:
            modules = (_module_name(path.name, path),)
        else:
            modules = tuple(_module_name(Path(name).stem, path / name) for name, _ in files
                            if "/" not in name and name.endswith(".py") and not name.startswith("_"))
            if not modules:
                raise RibrayError(f"plugin folder {path} holds no .py file (and no __init__.py)")
        return Plugin(str(path), "folder", f"{path.name}/", modules, _digest(files), files=files, package=package)
    raise RibrayError(f"plugin {path}: no such file or folder")


def _folder_files(folder: Path) -> list[tuple[str, bytes]]:
    """(path relative to `folder`, content) of every file in it, hidden ones and caches aside."""
    found, total = [], 0
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED)
        for name in sorted(n for n in names if not n.startswith(".") and not n.endswith(".pyc")):
            path = Path(root) / name
            total += path.stat().st_size
            if total > MAX_PLUGIN_BYTES:
                raise RibrayError(f"plugin folder {folder} holds more than {MAX_PLUGIN_BYTES >> 20} MiB; a plugin "
                                  "travels with every trial, so keep data and weights out of it (read them from "
                                  "data.root, or give them as checkpoint:)")
            found.append((path.relative_to(folder).as_posix(), path.read_bytes()))
    return found


def _module_name(name: str, path: Path) -> str:
    """The module a file or folder plugin is imported as; refused when it is not a valid name, or
    would shadow a module Python finds elsewhere (a plugin named json.py would replace json)."""
    if not name.isidentifier():
        raise RibrayError(f"plugin {path}: {name!r} is not a valid Python module name; rename it "
                          "(letters, digits and _, not starting with a digit)")
    if name in sys.modules and not _is_plugin_module(name):
        raise RibrayError(f"plugin {path} would be imported as {name!r}, which is already the module "
                          f"{getattr(sys.modules[name], '__file__', None) or name}; rename the plugin")
    try:
        found = importlib.util.find_spec(name) if name not in sys.modules else None
    except (ImportError, ValueError):
        found = None
    origins = [found.origin, *(found.submodule_search_locations or [])] if found else []
    mine = {str(path), str(path / "__init__.py")}
    if found is not None and not any(o and str(Path(o).resolve()) in mine for o in origins):
        raise RibrayError(f"plugin {path} would be imported as {name!r}, which would shadow the installed "
                          f"module {found.origin or name}; rename the plugin, or, if that module is this plugin "
                          f"installed, name it by its module (plugins: [{name}])")
    return name


def _module_plugin(name: str, source: str | None = None) -> Plugin:
    if not all(part.isidentifier() for part in name.split(".")):
        raise RibrayError(f"plugin {name!r}: neither a module name nor a path (a file ends in .py; a folder "
                          "is written ./name/)")
    top = name.split(".")[0]
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise RibrayError(f"plugin {name!r}: no module named {top!r} is installed (pip install it, on every "
                          f"node of a cluster; or give the plugin's file or folder as a path: ./{name}.py)")
    version = _version(top)
    files = _package_files(found)
    return Plugin(name, "module", source or name, (name,), _digest(files), version=version)


def _package_files(found) -> list[tuple[str, bytes]]:
    """The Python files of a top-level module or package (what its code identity covers)."""
    if found.submodule_search_locations:
        files = []
        for location in found.submodule_search_locations:
            for path in sorted(Path(location).rglob("*.py")):
                if not any(part in SKIPPED for part in path.parts):
                    files.append((path.relative_to(location).as_posix(), path.read_bytes()))
        return files
    return [(Path(found.origin).name, Path(found.origin).read_bytes())] if found.origin and \
        os.path.isfile(found.origin) else []


def _version(top: str) -> str | None:
    distributions = importlib.metadata.packages_distributions().get(top) or []
    for name in distributions:
        try:
            return f"{name} {importlib.metadata.version(name)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _digest(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:12]


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def installed() -> list[Plugin]:
    """Every installed package's `ribray.plugins` entry point (for listings; no spec uses them
    unless it names them)."""
    return [_module_plugin(ep.module, source=name) for name, ep in sorted(_entry_points().items())]


# -- activating: exactly these plugins in this process --------------------------------------------------
def activate(plugins: Sequence[Plugin], declared: dict[str, object] | None = None, *,
             in_worker: bool = False) -> None:
    """Make `plugins` (in order) and the `declared` entries (origin -> an object with `register()`,
    e.g. a spec's `datasets:`) exactly what this process has beyond ribray's own entries: others are
    unloaded, changed ones reloaded. In a Ray worker (`in_worker`) a failure is a PermanentError
    (a retry would fail alike) and an installed module must be the driver's code."""
    wanted = {p.source: p for p in plugins}
    for source in [s for s, loaded in _active.items() if wanted.get(s) != loaded.plugin]:
        _unload(source)
    for origin in [o for o in _declared if o not in (declared or {}) or _declared[o] != declared[o]]:
        forget(origin)
        del _declared[origin]
    for plugin in plugins:
        if plugin.source not in _active:
            _load(plugin, in_worker)
    for origin, declaration in (declared or {}).items():
        if origin not in _declared:
            with registering_as(origin):
                declaration.register()
            _declared[origin] = declaration


def active() -> tuple[Plugin, ...]:
    return tuple(loaded.plugin for loaded in _active.values())


def identities() -> dict[str, str]:
    """Source -> identity of everything active beyond ribray's own entries (plugins and
    declarations): what a result's `plugins` column is compared with."""
    found = {source: loaded.plugin.identity for source, loaded in _active.items()}
    return found | {origin: declaration.identity() for origin, declaration in _declared.items()}


def _load(plugin: Plugin, in_worker: bool) -> None:
    error_type = PermanentError if in_worker else SpecError
    if plugin.kind == "module" and in_worker:
        current = _module_plugin(plugin.modules[0], source=plugin.source)
        if current.identity != plugin.identity:
            raise PermanentError(
                f"plugin {plugin.source} on this node ({current.version or 'no version'}, code {current.identity}) "
                f"is not the driver's ({plugin.version or 'no version'}, code {plugin.identity}): install the "
                "same version on every node")
    before = set(sys.modules)
    path = _materialize(plugin) if plugin.shipped else None
    if path is not None:
        sys.path.insert(0, path)
    loaded = _Loaded(plugin, [], path)
    _active[plugin.source] = loaded
    try:
        with registering_as(plugin.source):
            for module in plugin.modules:
                if path is not None:
                    _import_file(module, path, plugin)
                else:
                    importlib.import_module(module)
    except RibrayError as error:
        _failed(plugin.source, before)
        raise error_type(f"plugin {plugin.source}: {error}") from None
    except Exception as error:  # noqa: BLE001 - the plugin's own code failed: say where, in one line
        _failed(plugin.source, before)
        raise error_type(f"plugin {plugin.source} failed to import: {_where(error, path)}") from None
    loaded.modules = _own_modules(plugin, before)


def _own_modules(plugin: Plugin, before: set[str]) -> list[str]:
    """The modules the plugin's import added that are its own (its modules, their packages and
    submodules): unloading removes those, never a library it imported (torch cannot be
    imported twice in one process)."""
    tops = {module.split(".")[0] for module in plugin.modules}
    return sorted(m for m in set(sys.modules) - before if m.split(".")[0] in tops)


def _failed(source: str, before: set[str]) -> None:
    loaded = _active[source]
    loaded.modules = _own_modules(loaded.plugin, before)
    _unload(source)


def _unload(source: str) -> None:
    loaded = _active.pop(source)
    forget(source)
    for module in loaded.modules:
        sys.modules.pop(module, None)
    if loaded.path is not None and loaded.path in sys.path:
        sys.path.remove(loaded.path)
    importlib.invalidate_caches()


def _import_file(module: str, folder: str, plugin: Plugin) -> None:
    location = Path(folder) / module
    if plugin.package:
        spec = importlib.util.spec_from_file_location(module, location / "__init__.py",
                                                      submodule_search_locations=[str(location)])
    else:
        spec = importlib.util.spec_from_file_location(module, location.with_suffix(".py"))
    imported = importlib.util.module_from_spec(spec)
    sys.modules[module] = imported
    spec.loader.exec_module(imported)


def _materialize(plugin: Plugin) -> str:
    """The plugin's captured files, written once under the temp folder (per user and identity);
    the folder to put on sys.path."""
    base = _cache() / plugin.identity
    target = base / plugin.modules[0] if plugin.package else base
    for name, data in plugin.files:
        path = target / name
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)  # workers of one node may write the same file at once
    return str(base)


def cache_folder() -> Path:
    """Where plugins' captured files are written to be imported: this user's own folder under the
    temp folder (nobody else may write code there that this user would then import)."""
    return Path(tempfile.gettempdir()) / f"ribray-plugins-{os.getuid()}"


def _cache() -> Path:
    folder = cache_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if folder.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RibrayError(f"{folder} is not this user's private folder (owner {info.st_uid}, mode "
                          f"{info.st_mode & 0o777:o}); remove it, or set TMPDIR to a folder of your own")
    return folder


def _where(error: BaseException, folder: str | None) -> str:
    """'NameError: ... (my_method.py, line 12)': the error and the plugin's frame it came from."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if folder and f.filename.startswith(folder)] or frames[-1:]
    message = f"{type(error).__name__}: {error}".strip()
    if mine:
        frame = mine[-1]
        shown = os.path.relpath(frame.filename, folder) if folder else frame.filename
        message += f" ({shown}, line {frame.lineno})"
    return message


def _is_plugin_module(name: str) -> bool:
    return any(name in loaded.modules or name in loaded.plugin.modules for loaded in _active.values())


def for_listing(refs: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Activate the plugins `refs` names (relative to the working folder) and every installed entry
    point, for `ribray methods / models / data list`: (origin -> how a listing shows it, warnings
    for installed entry points that fail to import). A named plugin that fails is an error."""
    named = [resolve(ref) for ref in refs]
    loaded, warnings = list(named), []
    activate(loaded)
    for plugin in installed():
        if plugin.source in {p.source for p in loaded}:
            continue
        try:
            activate([*loaded, plugin])
            loaded.append(plugin)
        except RibrayError as error:
            activate(loaded)
            warnings.append(f"warning: installed entry point {plugin.source!r} ({plugin.version or plugin.ref}) is "
                            f"left out: {error}")
    shown = {p.source: f"plugin {p.source}" + (f" ({p.version})" if p.version else "") for p in named}
    shown |= {p.source: f"entry point {p.source} ({p.version or p.ref})" for p in loaded[len(named):]}
    return shown, warnings
