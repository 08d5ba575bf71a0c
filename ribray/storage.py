"""Local folders and object stores (s3://, gs://) behind one small interface (pyarrow.fs)."""

from __future__ import annotations

import errno
import functools
import os
import posixpath
import shutil
import uuid
from dataclasses import dataclass

import pyarrow.fs as pafs

from ribray.errors import PermanentError, RibrayError

FULL_BYTES = 256 * 2**10  # less free than this and a local storage is full: hardly a shard fits
FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)  # no space left, disk quota exceeded


class StorageError(RibrayError):
    """The storage cannot be written (full, read-only, wrong credentials)."""


class StorageFullError(StorageError, PermanentError):
    """The storage's disk is full: a retry would fail the same way, so the trial fails at once."""


def free_bytes(path: str) -> int | None:
    """Free space of the local disk holding `path` (or its nearest existing parent)."""
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def full_message(path: str) -> str:
    """'storage PATH is full (N MiB free): No space left on device', the one wording of it."""
    free = free_bytes(path)
    room = f" ({free / 2**20:.1f} MiB free)" if free is not None else ""
    return f"storage {path} is full{room}: No space left on device"


def full_error(error: BaseException, path: str, what: str) -> StorageFullError | None:
    """A StorageFullError for an error that says the disk of `path` is full (ENOSPC, EDQUOT;
    also as pyarrow words it), naming `what` could not be written; None for other errors."""
    if not is_full_error(error):
        return None
    return StorageFullError(f"{full_message(path)}; could not write {what}")


def is_full_error(error: BaseException | None) -> bool:
    """Whether `error` says a disk is full (ENOSPC, EDQUOT; also as pyarrow words it)."""
    return isinstance(error, OSError) and (error.errno in FULL_ERRNOS or "[errno 28]" in str(error).lower())


def is_full(location: Location) -> bool:
    """Whether a local storage has less than FULL_BYTES free (an object store never is)."""
    free = free_bytes(location.path) if location.is_local else None
    return free is not None and free < FULL_BYTES


def refuse_if_full(location: Location, what: str) -> None:
    """StorageFullError when `location`'s local disk is full: before work that would end in
    writing to it (a retry of a trial that failed on a full disk fails at once)."""
    if is_full(location):
        raise StorageFullError(f"{full_message(location.path)}; {what} cannot write its results")


@dataclass(frozen=True)
class Location:
    """A folder on a filesystem: `uri` as the user wrote it (absolute), `fs` + `path` to use."""

    uri: str

    @property
    def is_local(self) -> bool:
        return "://" not in self.uri or self.uri.startswith("file://")

    @functools.cached_property
    def fs(self) -> pafs.FileSystem:
        return _filesystem(self.uri)[0]

    @functools.cached_property
    def path(self) -> str:
        return _filesystem(self.uri)[1]

    def _split(self) -> tuple[str, str]:
        """(the URI up to its path, '?options' or ''): s3://b/p?endpoint_override=host:9000&scheme=http
        keeps its options apart from the path (pyarrow reads them; paths grow before them)."""
        base, mark, options = self.uri.partition("?")
        return base.rstrip("/"), mark + options

    def child(self, *parts: str) -> Location:
        base, options = self._split()
        return Location(posixpath.join(base, *parts) + options)

    @property
    def name(self) -> str:
        """The last part of the path (a file's or folder's name)."""
        return posixpath.basename(self._split()[0])

    @property
    def parent(self) -> Location:
        base, options = self._split()
        return Location(posixpath.dirname(base) + options)

    def for_ray(self) -> tuple[str, pafs.FileSystem | None]:
        """(storage_path, storage_filesystem) for Ray Tune: the URI itself, or, when it carries
        options (?endpoint_override=...), which Ray would not keep apart, the path and the
        filesystem made from them."""
        if self.is_local:
            return self.path, None
        return (self.path, self.fs) if self._split()[1] else (self.uri, None)

    def exists(self) -> bool:
        return self.fs.get_file_info(self.path).type != pafs.FileType.NotFound

    def makedirs(self) -> None:
        self.fs.create_dir(self.path, recursive=True)

    def read_bytes(self) -> bytes:
        with self.fs.open_input_stream(self.path) as stream:
            return stream.read()

    def write_bytes(self, data: bytes) -> None:
        """Write atomically: readers see the old file or the whole new one, never a part."""
        try:
            self._write_atomically(data)
        except OSError as error:  # disk full, permissions, a file where a folder should be
            full = full_error(error, posixpath.dirname(self.path), self.uri) if self.is_local else None
            raise full or StorageError(f"cannot write {self.uri}: {error.strerror or error}") from error

    def _write_atomically(self, data: bytes) -> None:
        parent = posixpath.dirname(self.path)
        self.fs.create_dir(parent, recursive=True)
        if not self.is_local:  # an object store's PUT is atomic already
            with self.fs.open_output_stream(self.path) as stream:
                stream.write(data)
            return
        temp = posixpath.join(parent, f".{posixpath.basename(self.path)}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        finally:
            if os.path.exists(temp):
                os.remove(temp)

    def list_files(self, suffix: str = "") -> list[str]:
        """Names of the files directly inside this folder (hidden temp files excluded)."""
        return [name for name, _ in self.list_file_infos(suffix)]

    def list_file_infos(self, suffix: str = "") -> list[tuple[str, pafs.FileInfo]]:
        """(name, size and modification time) of the files directly inside this folder, by name,
        from one listing (on an object store the listing carries them: no request per file)."""
        selector = pafs.FileSelector(self.path, allow_not_found=True)
        infos = [(posixpath.basename(info.path), info) for info in self.fs.get_file_info(selector)
                 if info.type == pafs.FileType.File]
        return sorted(((n, i) for n, i in infos if n.endswith(suffix) and not n.startswith(".")), key=lambda p: p[0])

    def delete(self) -> None:
        if self.exists():
            self.fs.delete_file(self.path)


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    if "://" not in uri:
        return pafs.LocalFileSystem(), uri
    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception as error:  # pyarrow raises several types for bad URIs and missing credentials
        raise RibrayError(f"cannot open storage {uri!r}: {error}") from error


def check_writable(location: Location) -> None:
    """Fail early, before any trial runs, when the storage cannot be written (and leave no
    folder behind that was made for the probe)."""
    probe = location.child(f".ribray-write-test-{uuid.uuid4().hex}")
    created = missing_folders(location)
    try:
        probe.write_bytes(b"ok")
        probe.delete()
    except (OSError, RibrayError) as error:
        raise RibrayError(f"storage {location.uri} is not writable: {error}") from None
    finally:
        remove_empty(created)


def missing_folders(location: Location) -> list[str]:
    """The local folders up to `location` that do not exist yet, deepest first (none for an
    object store, whose folders are only prefixes)."""
    if not location.is_local:
        return []
    missing, path = [], os.path.abspath(location.path)
    while not os.path.exists(path):
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def remove_empty(folders: list[str]) -> None:
    """Remove these folders, deepest first, while they are empty."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:  # not empty (or gone): something was written there
            return
