"""`ribray status --watch`: the table again every interval while a sweep holds the folder's lock,
then once more; in place in a terminal, a new table per change elsewhere; Ctrl-C exits 0."""

from __future__ import annotations

import contextlib
import re
import time

import pytest
from click.testing import CliRunner

from ribray.cli import main

from conftest import tiny_spec, write_spec

INTERVAL = 0.25


@pytest.fixture
def sweep(tmp_path, fake_data):
    """A spec whose sweep folder exists (5 trials, none done), and its plan."""
    from ribray.plan import make_plan
    from ribray.results import SweepLayout
    from ribray.spec import load_spec
    from ribray.storage import Location

    path = write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data))
    folder = Location(str(tmp_path / "runs" / "t"))
    SweepLayout(folder).mark("t", "t", "spec")
    return path, folder, make_plan(load_spec(path)).trials


def _finish(folder, trial) -> None:
    from ribray.results import write_shard

    write_shard(folder.child("results"), trial.trial_id, [{"trial_id": trial.trial_id}])


def _watch(path, monkeypatch, steps, color=False):
    """`ribray status --watch`, with each wait replaced by the next of `steps` (what happens in
    the sweep meanwhile)."""
    real_sleep, pending = time.sleep, list(steps)

    def sleep(seconds):
        if seconds != INTERVAL:
            return real_sleep(seconds)
        pending.pop(0)()

    monkeypatch.setattr(time, "sleep", sleep)
    return CliRunner().invoke(main, ["status", str(path), "--watch", "--interval", str(INTERVAL)], color=color)


def test_watch_prints_a_table_per_change_until_the_sweep_ends(sweep, monkeypatch):
    from ribray.results.lock import sweep_lock

    path, folder, trials = sweep
    running = contextlib.ExitStack()
    running.enter_context(sweep_lock(folder))  # a sweep of the folder runs
    steps = [lambda: _finish(folder, trials[0]), lambda: None,
             lambda: (_finish(folder, trials[1]), running.close())]  # a trial more, then the sweep ends
    result = _watch(path, monkeypatch, steps)
    assert result.exit_code == 0, result.output
    tables = re.split(r"^-- \d\d:\d\d:\d\d --\n", result.output, flags=re.M)
    assert tables[0] == "" and len(tables) == 4  # the unchanged refresh printed nothing
    assert [t.splitlines()[0] for t in tables[1:]] == [
        "t: 5 trials: 0 done, 0 failed, 5 waiting", "t: 5 trials: 1 done, 0 failed, 4 waiting",
        "t: 5 trials: 2 done, 0 failed, 3 waiting"]
    assert result.output.endswith("the sweep is no longer running: stopped watching\n")


def test_watch_of_a_sweep_that_is_not_running_shows_the_table_once(sweep, monkeypatch):
    path, _, _ = sweep
    result = _watch(path, monkeypatch, [])
    assert result.exit_code == 0
    assert result.output.count("t: 5 trials: 0 done, 0 failed, 5 waiting") == 1
    assert result.output.endswith("no sweep of this folder is running: nothing to watch\n")


def test_ctrl_c_stops_watching_with_exit_code_0(sweep, monkeypatch):
    from ribray.results.lock import sweep_lock

    path, folder, _ = sweep

    def ctrl_c():
        raise KeyboardInterrupt

    with sweep_lock(folder):
        result = _watch(path, monkeypatch, [ctrl_c])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("\nstopped watching (a running sweep goes on)\n")
    assert "interrupted" not in result.output


def test_in_a_terminal_the_table_is_redrawn_in_place(sweep, monkeypatch):
    from ribray.cli import views
    from ribray.results.lock import sweep_lock

    path, folder, trials = sweep
    monkeypatch.setattr(views, "_terminal", lambda: True)
    running = contextlib.ExitStack()
    running.enter_context(sweep_lock(folder))
    result = _watch(path, monkeypatch, [lambda: None, lambda: (_finish(folder, trials[0]), running.close())],
                    color=True)  # as a terminal gets it: escape sequences kept
    assert result.exit_code == 0, result.output
    *frames, last = result.output.split("\x1b[")
    first = frames[0]
    assert first.startswith("ribray status, every 0.25s (Ctrl-C stops watching), ")
    assert "t: 5 trials: 0 done, 0 failed, 5 waiting" in first
    height = first.count("\n")  # the header and the table
    # each later frame moves up to the first line of the one before ({height}F) and clears below it (J)
    assert result.output.count(f"\x1b[{height}F\x1b[J") == 2
    assert last.startswith("Jribray status, every 0.25s") and "t: 5 trials: 1 done, 0 failed, 4 waiting" in last
    assert last.endswith("the sweep is no longer running: stopped watching\n")


def test_watch_and_json_are_refused_together(sweep):
    path, _, _ = sweep
    result = CliRunner().invoke(main, ["status", str(path), "--watch", "--json"])
    assert result.exit_code == 2 and "--watch shows the table; --json prints the state once" in result.output
