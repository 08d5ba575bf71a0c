"""Starters racing for one sweep folder's lock, round after round: every round, the test plants
a lock left by a dead sweep in a fresh folder, and each starter tries to take it at the same
moment (a barrier); a winner holds it until every starter of the round has tried.

`race_in_processes` runs each starter in a process of its own (local disk: the kernel's flock
is per open file, so processes are the honest test); `race_in_threads` in threads of this
process (object stores: each starter's requests are its own)."""

from __future__ import annotations

import json
import multiprocessing
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ribray.errors import RibrayError
from ribray.results.lock import sweep_lock
from ribray.storage import Location

DEAD_PID = 2**22 + 7  # above Linux's largest pid: never a live process


def stale_lock(flock: bool) -> bytes:
    """A lock left by a killed sweep of this machine (of this ribray, or of an older one)."""
    holder = {"host": socket.gethostname(), "pid": DEAD_PID, "started": "yesterday", "token": "dead"}
    return json.dumps(holder | ({"command": "ribray sweep", "flock": True} if flock else {})).encode()


def _attempt(folder: str, start, done) -> str:
    start.wait()
    try:
        with sweep_lock(Location(folder)):
            done.wait()
            return "won"
    except RibrayError as refused:
        outcome = f"refused: {refused}"
    except Exception as error:  # noqa: BLE001 - the round's outcome, for the test to show
        outcome = f"error: {type(error).__name__}: {error}"
    done.wait()
    return outcome


def _starter(folders: list[str], start, done, outcomes) -> None:
    for number, folder in enumerate(folders):
        outcomes.put((number, _attempt(folder, start, done)))


def race_in_processes(folders: list[str], plant: Callable[[int, str], None], starters: int) -> list[list[str]]:
    """Each round's outcomes ("won" / "refused: ..."), one per starter."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs Ray threads
    start, done = context.Barrier(starters + 1), context.Barrier(starters)
    outcomes = context.Queue()
    processes = [context.Process(target=_starter, args=(folders, start, done, outcomes)) for _ in range(starters)]
    for process in processes:
        process.start()
    try:
        for number, folder in enumerate(folders):
            plant(number, folder)
            start.wait(timeout=120)
        found = [outcomes.get(timeout=120) for _ in range(len(folders) * starters)]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return _by_round(found, len(folders))


def race_in_threads(folders: list[str], plant: Callable[[int, str], None], starters: int) -> list[list[str]]:
    """As `race_in_processes`, with threads."""
    found = []
    for number, folder in enumerate(folders):
        plant(number, folder)
        start, done = threading.Barrier(starters), threading.Barrier(starters)
        with ThreadPoolExecutor(starters) as pool:
            attempts = [pool.submit(_attempt, folder, start, done) for _ in range(starters)]
            found += [(number, attempt.result(timeout=120)) for attempt in attempts]
    return _by_round(found, len(folders))


def _by_round(found: list[tuple[int, str]], rounds: int) -> list[list[str]]:
    by_round: list[list[str]] = [[] for _ in range(rounds)]
    for number, outcome in found:
        by_round[number].append(outcome)
    return by_round
