"""The rows a report reads: final top-1 accuracies of pretrained, fine-tuned and interpolated
models, one per (model, method, downstream set, seed, train subset, eval set)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ribray.errors import RibrayError
from ribray.options import PRETRAINED
from ribray.plan import KINDS, method_label

__all__ = ["PRETRAINED", "Accuracy", "MixedSpecsError", "final_accuracies", "method_label", "records"]
REQUIRED_COLUMNS = ("kind", "model", "method", "eval_set", "top1")
COLUMNS = (*REQUIRED_COLUMNS, "trial_id", "spec_hash", "alpha", "downstream", "seed",
           "train_subset", "final", "finished_at", "epoch", "layer", "value", "decode", "eval_precision",
           "method_label", "rib", "data_fingerprint")


class MixedSpecsError(RibrayError):
    """The results come from several specs and the user did not say that is intended."""


class MixedEvaluationError(RibrayError):
    """One eval set's accuracies were made from different pixels or precisions."""


@dataclass(frozen=True)
class Accuracy:
    """One final accuracy (percent) of one trial on one eval set; `method` is the table label."""

    model: str  # the model's label
    method: str  # the method's label: ft, lp, ..., wise_ft(0.5), soup, ewc(weight=10), pretrained
    downstream: str | None
    seed: int | None
    train_subset: str
    eval_set: str
    top1: float
    trial_id: str | None = None
    finished_at: Any = None
    decode: str | None = None  # pil | nvjpeg; None: not recorded (ribray 0.1)
    precision: str | None = None  # bf16 | fp16 | fp32; None: not recorded
    kind: str = ""  # the trial's kind (finetune, interpolate, pretrained)
    base: str = ""  # the registered method or interpolation the label is a variant of
    alpha: float | None = None
    rib: bool | None = None  # RI averages over its eval set (None: not recorded, ribray 0.2 and older)
    data: str | None = None  # the eval set's fingerprint (ribray.data.fingerprint); None: not recorded

    @property
    def key(self) -> tuple:
        """What one number in the tables stands for (several trials may claim it)."""
        return (self.model, self.method, self.downstream, self.seed, self.train_subset, self.eval_set)


def records(results: Any) -> list[dict]:
    """The rows of a pyarrow Table, a pandas DataFrame or a list of dicts, with None for
    missing values (pandas writes NaN / NaT, pyarrow None)."""
    if hasattr(results, "column_names"):  # pyarrow Table: only the columns a report needs
        wanted = [c for c in COLUMNS if c in results.column_names]
        rows = results.select(wanted).to_pylist()
    elif hasattr(results, "to_dict"):  # pandas DataFrame
        wanted = [c for c in COLUMNS if c in results.columns]
        rows = results[wanted].to_dict("records")
    else:
        rows = [{c: row[c] for c in COLUMNS if c in row} for row in results]
    return [{k: _none_if_missing(v) for k, v in row.items()} for row in rows]


def _none_if_missing(value: Any) -> Any:
    try:
        return None if value != value else value  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return value


def check_columns(rows: list[dict]) -> None:
    if not rows:
        raise RibrayError("no result rows to report on")
    absent = [c for c in REQUIRED_COLUMNS if c not in rows[0]]
    if absent:
        raise RibrayError(f"results lack the column(s) {', '.join(absent)} "
                          "(expected the ribray results schema, ribray.results.SCHEMA)")


def check_one_spec(rows: list[dict], allow_mixed: bool) -> None:
    """Refuse results written by several specs unless the caller says that is intended."""
    hashes = sorted({r["spec_hash"] for r in rows if r.get("spec_hash")})
    if len(hashes) > 1 and not allow_mixed:
        raise MixedSpecsError(
            f"the results come from {len(hashes)} different specs (spec hashes {', '.join(hashes)}); "
            "pass the spec file instead of the results folder to report the trials it defines, "
            "or --allow-mixed to report every shard together")


def check_one_evaluation(accuracies: list[Accuracy], allow_mixed: bool) -> list[str]:
    """Refuse, unless allowed, an eval set whose accuracies were computed with different
    decoders or precisions (they are not comparable: different pixels, different rounding);
    with allow_mixed, a note per such set."""
    by_set: dict[str, dict[tuple, list[str]]] = {}
    for a in accuracies:
        by_set.setdefault(a.eval_set, {}).setdefault((a.decode, a.precision), []).append(a.trial_id or "?")
    mixed = {s: modes for s, modes in by_set.items() if len(modes) > 1}
    if not mixed:
        return []
    lines = [f"{s} was evaluated with " + " and with ".join(
        f"decode {d or 'unrecorded'}, precision {p or 'unrecorded'} ({len(ids)} trial(s), e.g. {ids[0]})"
        for (d, p), ids in sorted(modes.items(), key=lambda m: (str(m[0][0]), str(m[0][1]))))
        for s, modes in sorted(mixed.items())]
    if not allow_mixed:
        raise MixedEvaluationError(
            f"{lines[0]}{f' (and {len(lines) - 1} more set(s))' if len(lines) > 1 else ''}: accuracies made "
            "from different pixels or precisions are not comparable; re-evaluate with one `eval:` setting, "
            "or pass --allow-mixed to report them together anyway")
    return [f"mixed evaluations: {line}" for line in lines]


def check_one_image_set(accuracies: list[Accuracy], allow_mixed: bool) -> list[str]:
    """Refuse, unless allowed, an eval set whose accuracies were computed on different images
    (its folder's fingerprint differs between rows: RI would subtract accuracies on different
    images); with allow_mixed, a note per such set. Rows that recorded none are not compared."""
    by_set: dict[str, dict[str, list[str]]] = {}
    for a in accuracies:
        if a.data:
            by_set.setdefault(a.eval_set, {}).setdefault(a.data, []).append(a.trial_id or "?")
    mixed = {s: found for s, found in by_set.items() if len(found) > 1}
    if not mixed:
        return []
    lines = [f"{s} was evaluated on " + " and on ".join(
        f"{listed} ({len(ids)} trial(s), e.g. {ids[0]})" for listed, ids in sorted(found.items()))
        for s, found in sorted(mixed.items())]
    if not allow_mixed:
        raise MixedEvaluationError(
            f"{lines[0]}{f' (and {len(lines) - 1} more set(s))' if len(lines) > 1 else ''} (files:listing "
            "fingerprints): accuracies on different images are not comparable; run the sweep with "
            "--rerun-changed-data to evaluate everything on the data as it is now, or pass --allow-mixed "
            "to report them together anyway")
    return [f"different images: {line}" for line in lines]


def final_accuracies(rows: list[dict]) -> list[Accuracy]:
    """The rows that count in tables: final evaluations (not learning-curve points) of the
    pretrained, fine-tuned and interpolated models; analysis rows (CKA, OTDD) are left out."""
    found = []
    for row in rows:
        learning_curve_point = row.get("final") is not None and not row["final"]
        if learning_curve_point or not reported(row["kind"]) or row["top1"] is None:
            continue
        seed = row.get("seed")
        found.append(Accuracy(
            model=row["model"], method=row.get("method_label") or method_label(row["method"], row.get("alpha")),
            downstream=row.get("downstream"), seed=None if seed is None else int(seed),
            train_subset=row.get("train_subset") or "all", eval_set=row["eval_set"],
            top1=float(row["top1"]), trial_id=row.get("trial_id"),
            finished_at=row.get("finished_at"), decode=row.get("decode"), precision=row.get("eval_precision"),
            kind=row["kind"], base=row["method"], alpha=row.get("alpha"), rib=row.get("rib"),
            data=row.get("data_fingerprint")))
    return found


def reported(kind: str) -> bool:
    """Whether rows of this trial kind are accuracies for the tables (not analysis values)."""
    return kind in KINDS and KINDS.get(kind).reported


def as_planned(accuracies: list[Accuracy], plan) -> list[Accuracy]:
    """Each accuracy of a planned trial under the plan's names: its model's and method's labels
    (a trial that another spec ran under other labels is this spec's row), and its train subset
    (interpolation rows of older versions carry none)."""
    by_id = plan.by_id()
    found = []
    for accuracy in accuracies:
        trial = by_id.get(accuracy.trial_id)
        if trial is not None:
            accuracy = replace(accuracy, model=trial.model.shown, method=trial.method_label,
                               train_subset=trial.row_fields()["train_subset"] or "all")
        found.append(accuracy)
    return found


def newest_per_cell(accuracies: list[Accuracy]) -> tuple[list[Accuracy], set[str]]:
    """One accuracy per cell: when several trials claim one (e.g. results of two specs),
    the most recently finished wins. Returns the kept rows and the superseded trial ids."""
    kept: dict[tuple, Accuracy] = {}
    for accuracy in sorted(accuracies, key=_finish_order):
        kept[accuracy.key] = accuracy
    winners = {a.trial_id for a in kept.values()}
    superseded = {a.trial_id for a in accuracies if a.trial_id not in winners and a.trial_id}
    return list(kept.values()), superseded


def _finish_order(accuracy: Accuracy) -> tuple:
    finished = accuracy.finished_at
    stamp = finished.timestamp() if isinstance(finished, datetime) else -math.inf
    return (stamp, accuracy.trial_id or "")
