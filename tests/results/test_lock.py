"""sweep.lock: of starters racing for a dead sweep's lock, exactly one wins, round after round;
a live holder is named, and the lock goes when its holder ends. (Object stores: test_storage.py.)"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from ribray.errors import RibrayError
from ribray.results.lock import LOCK_FILE, check_unlocked, lock_holder, sweep_lock
from ribray.storage import Location

from faults.lock_race import race_in_processes, stale_lock


def _plant_stale(number: int, folder: str) -> None:
    Path(folder).mkdir(parents=True)
    (Path(folder) / LOCK_FILE).write_bytes(stale_lock(flock=number % 2 == 0))  # this ribray's, or an older one's


def test_racing_starters_take_over_a_dead_sweeps_lock_exactly_one_per_round(tmp_path):
    rounds, starters = 300, 3
    folders = [str(tmp_path / f"round-{n}" / "sweep") for n in range(rounds)]
    outcomes = race_in_processes(folders, _plant_stale, starters)
    winners = [sum(o == "won" for o in round_outcomes) for round_outcomes in outcomes]
    assert [n for n, won in enumerate(winners) if won != 1] == [], "rounds without exactly one winner"
    for outcome in (o for round_outcomes in outcomes for o in round_outcomes if o != "won"):
        assert outcome.startswith(("refused: another sweep of this folder is running: ",
                                   "refused: another ribray command took this sweep folder's lock")), outcome
    assert not any((Path(f) / LOCK_FILE).exists() for f in folders), "every winner removed its lock"


def test_a_live_holder_is_named_and_its_lock_released_at_the_end(tmp_path):
    root = Location(str(tmp_path / "sweep"))
    with sweep_lock(root, command="ribray prune"):
        holder = lock_holder(root)
        assert holder["pid"] == os.getpid() and holder["command"] == "ribray prune"
        for attempt in (lambda: sweep_lock(root).__enter__(), lambda: check_unlocked(root)):
            with pytest.raises(RibrayError, match=rf"`ribray prune` is running on this sweep folder: .*{LOCK_FILE} "
                                                  rf"is held by pid {os.getpid()} .*Wait for it"):
                attempt()
    assert not (tmp_path / "sweep").exists(), "a lock on a folder it created leaves no empty folder"
    check_unlocked(root)  # free again


def test_a_lock_of_another_machine_is_named_and_kept(tmp_path):
    lock = tmp_path / LOCK_FILE
    other = {"host": f"not-{socket.gethostname()}", "pid": 12, "started": "now", "command": "ribray sweep",
             "flock": True}
    lock.write_text(json.dumps(other))
    with pytest.raises(RibrayError, match=rf"held by pid 12 on not-{socket.gethostname()} since now.*delete that file"):
        with sweep_lock(Location(str(tmp_path))):
            pass
    assert json.loads(lock.read_text()) == other, "someone else's lock is left as it was"
