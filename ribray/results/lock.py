"""One ribray command at a time that writes a sweep folder: two `ribray sweep` of one spec would
run every trial twice into the same folders, and `ribray prune` must not delete what a running
sweep is writing. The lock is a file, sweep.lock, in the sweep folder (local or in an object
store), naming who holds it; it goes when the command ends.

On a local disk the holder keeps an exclusive flock on the file while it runs. The kernel drops
it when the process dies, however it dies, so a lock left by a killed command is taken over by
the one starter that gets the flock, and a file is never removed under a live holder. In an
object store the lock is created with a conditional write (only if there is none), and a dead
holder's lock is replaced only if it is still the version read: of several starters, one wins.
A holder on another machine counts as alive (its process cannot be seen from here)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator

from ribray.conditional import read_versioned, write_if
from ribray.errors import RibrayError
from ribray.results.layout import LOCK_FILE, SweepLayout
from ribray.signals import if_abandoned
from ribray.storage import Location, StorageError, missing_folders, remove_empty

__all__ = ["LOCK_FILE", "check_unlocked", "lock_holder", "sweep_lock"]

SWEEP = "ribray sweep"


@contextlib.contextmanager
def sweep_lock(root: Location, command: str = SWEEP) -> Iterator[None]:
    """Hold `root`/sweep.lock while the block runs; refuse, naming the holder, while another
    live command holds it. A lock left by a killed command of this machine is taken over; one
    from another machine is only named (it may still be running)."""
    lock = SweepLayout(root).lock
    me = {"host": socket.gethostname(), "pid": os.getpid(), "command": command,
          "started": time.strftime("%Y-%m-%d %H:%M:%S"), "token": uuid.uuid4().hex, "flock": lock.is_local}
    created = missing_folders(root)
    try:
        release = _claim_local(lock, me) if lock.is_local else _claim_object(lock, me)
    except BaseException:
        remove_empty(created)
        raise
    released = []

    def release_once() -> None:
        if not released:
            released.append(True)
            release()

    try:
        with if_abandoned(release_once):  # a SIGTERM's stop that cannot finish still frees the folder
            yield
    finally:
        release_once()
        remove_empty(created)  # a command refused before it wrote anything leaves no empty folders


def check_unlocked(root: Location) -> None:
    """Refuse as `sweep_lock` would while a live command holds the lock, without taking it
    (writes nothing: for what only looks, such as `ribray prune --dry-run`)."""
    lock = SweepLayout(root).lock
    if not lock.is_local:
        holder = _holder(lock)
        if holder is not None and _alive(holder, flocked=False):
            raise _held(lock, holder)
        return
    try:
        descriptor = os.open(lock.path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        flocked = _try_flock(descriptor, fcntl.LOCK_SH)
        holder = _parse(os.pread(descriptor, 1 << 16, 0))  # nobody holds the flock: a stale lock, or another machine's
    except BlockingIOError:
        raise _held(lock, _holder(lock, patience=10), flocked=True) from None
    finally:
        os.close(descriptor)
    if holder is not None and _alive(holder, flocked=flocked):
        raise _held(lock, holder)


class LockHeld(RibrayError):
    """A live command holds the sweep folder's lock."""


def is_locked(root: Location) -> bool:
    """True while a live command (a sweep, a prune) holds `root`/sweep.lock; writes nothing."""
    try:
        check_unlocked(root)
    except LockHeld:
        return True
    return False


def lock_holder(root: Location) -> dict | None:
    """Who holds (or held, if it was killed) `root`/sweep.lock: its host, pid, command and start;
    None when there is no lock file."""
    return _holder(SweepLayout(root).lock, patience=10)


def _claim_local(lock: Location, me: dict) -> Callable[[], None]:
    """Create the lock file exclusively, or open the one there; take its flock (the file the
    path names now); then write who holds it. Where the file system has no flock, only the
    exclusive create protects the lock, and an existing one is named, for the user to delete."""
    os.makedirs(os.path.dirname(lock.path), exist_ok=True)
    while True:
        descriptor, created = _open(lock.path)
        if descriptor is None:
            continue  # removed by its holder between our two opens
        try:
            me["flock"] = _try_flock(descriptor, fcntl.LOCK_EX)
        except BlockingIOError:
            os.close(descriptor)
            raise _held(lock, _holder(lock, patience=10), flocked=True) from None
        if not me["flock"] or _names(lock.path, descriptor):
            break
        os.close(descriptor)  # its holder removed the file after we opened it: open the one there now
    if not created:
        holder = _parse(os.pread(descriptor, 1 << 16, 0))
        if not me["flock"] or (holder is not None and _alive(holder, flocked=True)):  # e.g. another machine's
            os.close(descriptor)
            raise _held(lock, holder)

    def release() -> None:
        try:
            ours = me["flock"] or created or (_parse(lock.read_bytes()) or {}).get("token") == me["token"]
            if ours and _names(lock.path, descriptor):
                os.remove(lock.path)  # while still holding the flock: nobody can take it in between
        finally:
            os.close(descriptor)

    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(me).encode(), 0)
        os.fsync(descriptor)
    except OSError as error:
        release()
        raise StorageError(f"cannot write {lock.uri}: {error.strerror or error}") from error
    return release


def _open(path: str) -> tuple[int | None, bool]:
    """(descriptor, created): the lock file created exclusively, else the existing one opened."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
    except FileExistsError:
        pass
    try:
        return os.open(path, os.O_RDWR), False
    except FileNotFoundError:
        return None, False


def _try_flock(descriptor: int, kind: int) -> bool:
    """Take a flock without waiting (BlockingIOError: another process holds it); False where the
    file system has none (some FUSE and network mounts)."""
    try:
        fcntl.flock(descriptor, kind | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        raise
    except OSError:
        return False


def _names(path: str, descriptor: int) -> bool:
    """Does `path` still name the file open as `descriptor`?"""
    try:
        return os.path.samestat(os.stat(path), os.fstat(descriptor))
    except FileNotFoundError:
        return False


def _claim_object(lock: Location, me: dict) -> Callable[[], None]:
    found = read_versioned(lock)
    if found is not None:
        holder = _parse(found[0])
        if holder is None or _alive(holder, flocked=False):
            raise _held(lock, holder or _UNREADABLE)
    if not write_if(lock, json.dumps(me).encode(), found[1] if found else None):
        raise RibrayError(f"another ribray command took this sweep folder's lock at the same moment ({lock.uri})")

    def release() -> None:
        now = read_versioned(lock)
        if now is not None and (_parse(now[0]) or {}).get("token") == me["token"]:
            lock.delete()
    return release


_UNREADABLE = {"host": "?", "pid": "?", "started": "?"}


def _parse(data: bytes) -> dict | None:
    try:
        holder = json.loads(data)
    except ValueError:
        return None
    return holder if isinstance(holder, dict) else None


def _holder(lock: Location, patience: int = 0) -> dict | None:
    """Who the lock file names; None if there is none. `patience`: tries, 20 ms apart, while the
    file is empty or partial (its holder is writing it)."""
    for attempt in range(patience + 1):
        try:
            data = lock.read_bytes()
        except FileNotFoundError:
            return None  # another OSError (a store that cannot be reached) is no holder: it is raised
        holder = _parse(data)
        if holder is not None:
            return holder
        if attempt < patience:
            time.sleep(0.02)
    return dict(_UNREADABLE)  # unreadable: someone else's, keep it


def _alive(holder: dict, flocked: bool) -> bool:
    """Is the holder running? Known only for a process of this machine; others count as alive.
    `flocked`: the caller holds (or could take) the file's flock, so a holder that kept one is gone."""
    import psutil

    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return True
    if flocked and holder.get("flock"):
        return False
    return psutil.pid_exists(holder["pid"])


def _held(lock: Location, holder: dict | None, flocked: bool = False) -> LockHeld:
    holder = holder or _UNREADABLE
    command = holder.get("command", SWEEP)
    what = ("another sweep of this folder is running" if command == SWEEP
            else f"`{command}` is running on this sweep folder")
    advice = ("Wait for it (`ribray status` shows a sweep's progress)" if flocked else
              "Wait for it (`ribray status` shows a sweep's progress); if it is no longer running, delete that file")
    return LockHeld(f"{what}: {lock.uri} is held by pid {holder.get('pid')} on {holder.get('host')} "
                       f"since {holder.get('started')}. {advice}")
