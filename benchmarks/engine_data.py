"""Synthetic results of a whole sweep, for timing what reads them (`ribray report`, status,
sync): one shard per planned trial, written by ribray's own `write_shard`, with the rows a
real trial writes (ribray.trials.common.result_rows): one final row per eval set, every
provenance column, ImageNet-C's 75 parts. Accuracies are made up but fixed by `seed`."""

from __future__ import annotations

import hashlib
import os
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ribray.storage import Location

STARTED = datetime(2026, 1, 1, tzinfo=timezone.utc)
PROVENANCE = {"ribray_version": "0.3.0", "torch_version": "2.6.0", "timm_version": "1.0.15",
              "ray_version": "2.44.0", "git_sha": "0123456789abcdef0123456789abcdef01234567",
              "host": "gpu-node-0", "gpu": "NVIDIA H200"}


def synthetic_results(spec, plan, results_location_or_path, seed: int = 0,
                      fingerprints: dict[str, str] | None = None) -> int:
    """Write a shard for every trial of `plan` (of `spec`) into the results folder, as the
    sweep would after finishing them all; returns the number of rows written. `fingerprints`:
    the data's (dataset -> fingerprint) to record; default: made up from the set's name. Shards are
    written by a pool of threads (pyarrow's Parquet writer and the file writes release the GIL)."""
    results = results_location_or_path
    if not isinstance(results, Location):
        results = Location(str(Path(results).resolve()) if "://" not in str(results) else str(results))
    sets = _eval_set_facts(spec.resolved_eval_sets())
    for name, fingerprint in (fingerprints or {}).items():
        if name in sets:
            sets[name]["fingerprint"] = fingerprint
    spec_hash = spec.spec_hash()

    def write(index_trial) -> int:
        from ribray.results.store import write_shard

        index, trial = index_trial
        rows = trial_rows(spec.name, spec_hash, trial, sets, index, seed)
        write_shard(results, trial.trial_id, rows)
        return len(rows)

    results.makedirs()
    workers = min(8, (os.cpu_count() or 1) + 2)
    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(write, enumerate(plan.trials), chunksize=64))


def _eval_set_facts(eval_sets) -> dict[str, dict]:
    """Per eval set: its image count, whether it is one of RI's sets, a fingerprint, its parts."""
    from ribray.data import DATASETS

    facts = {}
    for name in eval_sets:
        entry = DATASETS.get(name) if name in DATASETS else None
        images = entry.expected_images if entry is not None else 10_000
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        facts[name] = {"n_images": images, "rib": entry.rib if entry is not None else None,
                       "fingerprint": f"{images}:{digest}", "parts": _parts(name, images)}
    return facts


def _parts(eval_set: str, images: int) -> list[str]:
    if eval_set != "imagenet_c":
        return []
    from ribray.data.imagenet_c import CORRUPTIONS, SEVERITIES

    return [f"{corruption}/{severity}" for corruption in CORRUPTIONS for severity in SEVERITIES]


def trial_rows(sweep: str, spec_hash: str, trial, sets: dict[str, dict], index: int, seed: int) -> list[dict]:
    """The rows `result_rows` would write for `trial`: one final evaluation per eval set."""
    chance = random.Random(f"{seed}:{trial.trial_id}")
    started = STARTED + timedelta(seconds=60 * index)
    trained = trial.kind == "finetune"
    base = {"trial_id": trial.trial_id, "sweep": sweep, "spec_hash": spec_hash, "kind": trial.kind,
            "model": trial.model.shown, "model_name": trial.model.name, "method": trial.method,
            "method_label": trial.method_label, "label": trial.label, "downstream": trial.downstream,
            "seed": trial.seed, **trial.row_fields(), "epoch": 10 if trained else 0, "final": True,
            "decode": "pil", "eval_precision": "bf16", "plugins": None,
            "train_seconds": 3600.0 * chance.uniform(0.5, 2.0) if trained else None,
            "train_fingerprint": sets.get(trial.downstream, {}).get("fingerprint"),
            "train_generated": False if trial.downstream else None, "model_weights": "pretrained",  # as real data
            "started_at": started, "finished_at": started + timedelta(seconds=59), **PROVENANCE}
    rows = []
    for eval_set in trial.eval_sets:
        facts = sets[eval_set]
        top1 = chance.uniform(20.0, 90.0)
        correct = round(top1 * facts["n_images"] / 100)
        part_images = facts["n_images"] // max(len(facts["parts"]), 1)
        parts = [{"part": part, "top1": top1, "correct": round(top1 * part_images / 100), "n_images": part_images}
                 for part in facts["parts"]] or None
        rows.append(base | {"eval_set": eval_set, "top1": 100.0 * correct / facts["n_images"], "correct": correct,
                            "n_images": facts["n_images"], "parts": parts, "rib": facts["rib"],
                            "data_fingerprint": facts["fingerprint"], "data_generated": False,
                            "eval_seconds": chance.uniform(10, 600)})
    return rows
