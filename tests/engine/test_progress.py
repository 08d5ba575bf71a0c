"""The progress line counts every planned trial once: a resumed run whose restored trials find
their shards never shows more done than planned, nor a negative number waiting or an ETA
below zero."""

from __future__ import annotations

import re
from types import SimpleNamespace

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
