"""One sweep at a time per sweep folder: two `ribray sweep` of one spec would run every trial
twice into the same folders. The lock is a file, sweep.lock, in the sweep folder (local or in
an object store), naming who holds it; it goes when the sweep ends."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator

from ribray.errors import RibrayError
from ribray.signals import if_abandoned
from ribray.storage import Location, missing_folders, remove_empty

LOCK_FILE = "sweep.lock"


@contextlib.contextmanager
def sweep_lock(root: Location) -> Iterator[None]:
    """Hold `root`/sweep.lock while the block runs; refuse, naming the holder, when another
    live sweep holds it. A lock left by a killed sweep on this machine (its process is gone)
    is taken over; one from another machine is only named (it may still be running)."""
    lock = root.child(LOCK_FILE)
    me = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
          "token": uuid.uuid4().hex}
    holder = _holder(lock)
    if holder is not None and _alive(holder):
        raise RibrayError(f"another sweep of this folder is running: {lock.uri} is held by pid {holder.get('pid')} "
                          f"on {holder.get('host')} since {holder.get('started')}. Wait for it (`ribray status` "
                          "shows its progress); if it is no longer running, delete that file")
    created = missing_folders(root)
    _claim(lock, me)

    def release() -> None:
        if (_holder(lock) or {}).get("token") == me["token"]:
            lock.delete()

    try:
        with if_abandoned(release):  # a SIGTERM's stop that cannot finish still frees the folder
            yield
    finally:
        release()
        remove_empty(created)  # a sweep refused before it wrote anything leaves no empty folders


def _claim(lock: Location, me: dict) -> None:
    """Write the lock; on a local disk exclusively (O_EXCL), so two starts at once cannot both win."""
    data = json.dumps(me).encode()
    if not lock.is_local:
        lock.write_bytes(data)  # an object store: the last writer wins; read back to know who did
        if (_holder(lock) or {}).get("token") != me["token"]:
            raise RibrayError(f"another sweep of this folder started at the same moment ({lock.uri})")
        return
    lock.parent.makedirs()
    with contextlib.suppress(FileNotFoundError):
        holder = _holder(lock)
        if holder is not None and not _alive(holder):
            os.remove(lock.path)  # left by a killed sweep
    try:
        descriptor = os.open(lock.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise RibrayError(f"another sweep of this folder started at the same moment ({lock.uri})") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _holder(lock: Location) -> dict | None:
    if not lock.exists():
        return None
    try:
        return json.loads(lock.read_bytes())
    except (ValueError, OSError):
        return {"host": "?", "pid": "?", "started": "?"}  # unreadable: someone else's, keep it


def _alive(holder: dict) -> bool:
    """Is the holder running? Known only for a process of this machine; others count as alive."""
    import psutil

    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return True
    return psutil.pid_exists(holder["pid"])
