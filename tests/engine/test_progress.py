"""The progress line counts every planned trial once: a resumed run whose restored trials find
their shards never shows more done than planned, nor a negative number waiting or an ETA
below zero."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from ribray.engine.progress import Progress

LINE = re.compile(r"(\d+)/(\d+) done, (\d+) running, (\d+) waiting, (\d+) failed(, ETA \d+(h\d\dm|m\d\ds))? \| ")


def _trial(plan_id: str, tune_id: str | None = None):
    return SimpleNamespace(trial_id=tune_id or f"tune-{plan_id}", config={"trial_id": plan_id})


def _counts(output: str) -> list[tuple[int, ...]]:
    lines = [line for line in output.splitlines() if line.startswith("[ribray ")]
    found = [LINE.search(line) for line in lines]
    assert all(found), lines  # every number non-negative (no "-1"), the ETA well-formed
    return [tuple(int(m.group(i)) for i in range(1, 6)) for m in found]


def test_a_restored_trial_that_finds_its_shard_is_not_counted_twice(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    for plan_id in ("a", "b"):  # a finished long ago; b finished just before the interruption
        (results / f"{plan_id}.parquet").write_bytes(b"")
    progress = Progress(total=3, already_done=1, planned=["a", "b", "c"], results=str(results))
    progress.setup()
    for plan_id in ("b", "c"):  # Tune restores b (it reports `skipped`) and c
        progress.on_trial_start(0, [], _trial(plan_id))
    progress.on_trial_complete(0, [], _trial("b"))
    progress.on_trial_complete(0, [], _trial("c"))

    output = capsys.readouterr().out
    counts = _counts(output)
    assert counts == [(2, 3, 0, 1, 0), (2, 3, 1, 0, 0), (2, 3, 1, 0, 0), (3, 3, 0, 0, 0)]
    assert output.splitlines()[2].endswith("(before the interruption)"), output
    assert progress.durations and len(progress.durations) == 1, "only c's run counts for the ETA"


def test_a_trial_that_fails_after_another_finished_is_counted_once(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    progress = Progress(total=2, already_done=0, planned=["a", "b"], results=str(results))
    progress.setup()
    progress.on_trial_start(0, [], _trial("a"))
    progress.on_trial_error(0, [], _trial("a"))
    progress.on_trial_start(0, [], _trial("a", tune_id="tune-a-again"))  # restored errored trial
    progress.on_trial_error(0, [], _trial("a", tune_id="tune-a-again"))
    (results / "b.parquet").write_bytes(b"")  # b finished before the interruption: Tune errs it
    progress.on_trial_error(0, [], _trial("b"))

    assert _counts(capsys.readouterr().out)[-1] == (1, 2, 0, 0, 1)
    assert progress.failed_ids == ["a", "a"] and progress.failed == 1


def test_the_eta_is_the_estimated_work_left_at_the_measured_rate(tmp_path, capsys, monkeypatch):
    """a, b: 1 estimated hour each, c, d: 2; two run at once. When a ends after 10 s the rate is
    10 s per estimated hour: b (1 h, 10 s of it done), c and d (2 h each) are 50 - 10 = 40 s of
    work on 2 lanes, 20 s; never less than the longest running trial has left. The ETA counts
    work, not trials, so it does not jump as trials start and end."""
    import time

    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    results = tmp_path / "results"
    results.mkdir()
    progress = Progress(total=4, already_done=0, planned=["a", "b", "c", "d"], results=str(results),
                        hours={"a": 1.0, "b": 1.0, "c": 2.0, "d": 2.0})
    progress.setup()

    def at(seconds, event, plan_id):
        now[0] = seconds
        getattr(progress, f"on_trial_{event}")(0, [], _trial(plan_id))
        return progress.remaining_seconds()

    at(0, "start", "a"), at(0, "start", "b")
    assert at(10, "complete", "a") == pytest.approx(20.0)
    assert at(10, "start", "c") == pytest.approx(20.0)
    # b ends at 12 s: 22 s for 2 estimated hours, 11 s each; c (2 s done) and d: 44 - 2 s on 2 lanes
    assert at(12, "complete", "b") == pytest.approx(21.0)
    assert at(12, "start", "d") == pytest.approx(22.0)  # d alone needs 2 x 11 s, which no lane shares
    # c ends at 30 s: 42 s for 4 h, 10.5 s each; d has 21 - 18 = 3 s left
    assert at(30, "complete", "c") == pytest.approx(3.0)
    etas = [line.split("ETA ")[1].split(" ")[0] for line in capsys.readouterr().out.splitlines() if "ETA" in line]
    assert etas == ["0m20s", "0m20s", "0m21s", "0m22s", "0m03s"]
