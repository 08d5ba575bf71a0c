"""The rows a report reads: final top-1 accuracies of pretrained, fine-tuned and interpolated
models, one per (model, method, downstream set, seed, train subset, eval set).

They are kept as columns (a pandas DataFrame, one row per accuracy) from the results table to
the report's cells: a sweep of 50,000 trials has 450,000 of them, too many for a Python object
each."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ribray.errors import RibrayError
from ribray.fidelity import RIBRAY
from ribray.options import PRETRAINED
from ribray.plan import KINDS, method_label

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ribray.plan import Plan
    from ribray.results.row import ResultRow

__all__ = ["ACCURACY_COLUMNS", "COLUMNS", "PRETRAINED", "MixedSpecsError", "final_accuracies", "method_label",
           "result_frame"]
REQUIRED_COLUMNS = ("kind", "model", "method", "eval_set", "top1")
COLUMNS = (*REQUIRED_COLUMNS, "trial_id", "spec_hash", "alpha", "downstream", "seed",
           "train_subset", "final", "finished_at", "epoch", "layer", "value", "decode", "eval_precision",
           "method_label", "rib", "data_fingerprint", "data_generated", "train_generated", "model_weights",
           "fidelity", "ribray_version", "git_sha", "model_name")  # from data_fingerprint on: provenance and deviations
NUMBERS = ("top1", "alpha", "value")  # float64 columns, NaN where missing; every other column: objects, None
# One final accuracy (percent) of one trial on one eval set per row; `method` is the table label.
ACCURACY_COLUMNS = (
    "model",  # the model's label
    "method",  # the method's label: ft, lp, ..., wise_ft(0.5), soup, ewc(weight=10), pretrained
    "downstream", "seed", "train_subset", "eval_set", "top1", "trial_id",
    "finished",  # when the trial finished, as an orderable number (-inf: not recorded)
    "decode",  # pil | nvjpeg; None: not recorded (ribray 0.1)
    "precision",  # bf16 | fp16 | fp32; None: not recorded
    "kind",  # the trial's kind (finetune, interpolate, pretrained)
    "base",  # the registered method or interpolation the label is a variant of
    "alpha",
    "rib",  # RI averages over its eval set (None: not recorded, ribray 0.2 and older)
    "data",  # the eval set's fingerprint (ribray.data.fingerprint); None: not recorded
    "fidelity",  # ribray | reference (ribray.fidelity); older rows, which recorded none: ribray
)
MIXED_FIDELITY = "mixed"  # a report over several fidelity modes (only with allow_mixed)
KEY = ("model", "method", "downstream", "seed", "train_subset", "eval_set")  # what one number stands for


class MixedSpecsError(RibrayError):
    """The results come from several specs and the user did not say that is intended."""


class MixedEvaluationError(RibrayError):
    """One eval set's accuracies were made from different pixels or precisions."""


def result_frame(results: pa.Table | pd.DataFrame | Iterable[ResultRow]) -> pd.DataFrame:
    """The columns a report reads of a pyarrow Table, a pandas DataFrame or a list of row dicts:
    numbers as float64 (NaN where missing), everything else as Python objects with None for
    missing values (pandas writes NaN / NaT / <NA>, pyarrow None)."""
    if hasattr(results, "column_names"):  # pyarrow Table: only the columns a report needs
        present = [c for c in COLUMNS if c in results.column_names]
        return pd.DataFrame({c: _column(results.column(c), c) for c in present}, index=pd.RangeIndex(results.num_rows))
    if hasattr(results, "to_dict"):  # pandas DataFrame
        frame = results[[c for c in COLUMNS if c in results.columns]]
    else:
        rows = list(results)
        present = [c for c in COLUMNS if any(c in row for row in rows)]
        frame = pd.DataFrame({c: pd.Series([row.get(c) for row in rows], dtype=object) for c in present})
    return pd.DataFrame({c: _plain(frame[c], c) for c in frame.columns}, index=pd.RangeIndex(len(frame)))


def _column(column: pa.ChunkedArray, name: str) -> pd.Series:
    """An Arrow column as `result_frame` holds it. Objects through a dictionary: each distinct
    value is one Python object (450,000 rows name a few hundred models, methods and sets)."""
    if name in NUMBERS:
        return pd.Series(column.to_numpy(), dtype="float64")  # nulls become NaN
    if name == "finished_at":
        return column.to_pandas()
    encoded = column.combine_chunks().dictionary_encode()
    values = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
    return pd.Series(values[encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()], dtype=object)


def _plain(column: pd.Series, name: str) -> pd.Series:
    column = column.reset_index(drop=True)
    if name in NUMBERS:
        return pd.to_numeric(column.astype(object).where(column.notna(), None), errors="coerce").astype("float64")
    if name == "finished_at":
        return column
    return column.astype(object).where(column.notna(), None)


def records(frame: pd.DataFrame) -> list[ResultRow]:
    """A few rows as dicts, None for missing values (learning-curve points, analysis values)."""
    return [{k: _none_if_missing(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _none_if_missing(value: Any) -> Any:
    try:
        return None if value != value else value  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return value


def check_columns(frame: pd.DataFrame) -> None:
    if frame.empty:
        raise RibrayError("no result rows to report on")
    absent = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if absent:
        raise RibrayError(f"results lack the column(s) {', '.join(absent)} "
                          "(expected the ribray results schema, ribray.results.SCHEMA)")


def check_one_spec(frame: pd.DataFrame, allow_mixed: bool) -> None:
    """Refuse results written by several specs unless the caller says that is intended."""
    found = frame["spec_hash"] if "spec_hash" in frame.columns else pd.Series([], dtype=object)
    hashes = sorted({h for h in found.unique() if h})
    if len(hashes) > 1 and not allow_mixed:
        raise MixedSpecsError(
            f"the results come from {len(hashes)} different specs (spec hashes {', '.join(hashes)}); "
            "pass the spec file instead of the results folder to report the trials it defines, "
            "or --allow-mixed to report every shard together")


def _trials_per_value(accuracies: pd.DataFrame, by: list[str]) -> dict[tuple, tuple[int, str]]:
    """(eval set, *values of `by`) -> (how many accuracies, the first one's trial id or '?')."""
    groups = accuracies.assign(trial=accuracies["trial_id"].map(lambda t: t or "?")) \
        .groupby(["eval_set", *by], dropna=False, sort=False)["trial"]
    return {key: (count, first) for key, count, first in zip(groups.size().index, groups.size(), groups.first(),
                                                             strict=True)}


def check_one_evaluation(accuracies: pd.DataFrame, allow_mixed: bool) -> list[str]:
    """Refuse, unless allowed, an eval set whose accuracies were computed with different
    decoders or precisions (they are not comparable: different pixels, different rounding);
    with allow_mixed, a note per such set."""
    by_set: dict[str, dict[tuple, tuple[int, str]]] = {}
    for (eval_set, decode, precision), found in _trials_per_value(accuracies, ["decode", "precision"]).items():
        by_set.setdefault(eval_set, {})[(_or_none(decode), _or_none(precision))] = found
    mixed = {s: modes for s, modes in by_set.items() if len(modes) > 1}
    if not mixed:
        return []
    lines = [f"{s} was evaluated with " + " and with ".join(
        f"decode {d or 'unrecorded'}, precision {p or 'unrecorded'} ({count} trial(s), e.g. {first})"
        for (d, p), (count, first) in sorted(modes.items(), key=lambda m: (str(m[0][0]), str(m[0][1]))))
        for s, modes in sorted(mixed.items())]
    if not allow_mixed:
        raise MixedEvaluationError(
            f"{lines[0]}{f' (and {len(lines) - 1} more set(s))' if len(lines) > 1 else ''}: accuracies made "
            "from different pixels or precisions are not comparable; re-evaluate with one `eval:` setting, "
            "or pass --allow-mixed to report them together anyway")
    return [f"mixed evaluations: {line}" for line in lines]


def check_one_fidelity(accuracies: pd.DataFrame, allow_mixed: bool) -> tuple[str, list[str]]:
    """The fidelity mode of the results (`ribray.fidelity`), and notes. Results of several modes
    are refused unless allowed (their ObjectNet scoring, precisions and pixels differ: an RI
    over them compares unlike numbers); with allow_mixed the mode is 'mixed', with a note."""
    found = _trials_per_value(accuracies.assign(eval_set=""), ["fidelity"])
    if len(found) <= 1:
        return next(iter(found))[1] if found else RIBRAY, []
    described = " and ".join(f"fidelity {mode} ({count} accuracies, e.g. trial {first})"
                             for (_, mode), (count, first) in sorted(found.items()))
    if not allow_mixed:
        raise MixedEvaluationError(
            f"the results mix {described}: the modes score ObjectNet, round and resize differently, so "
            "their accuracies are not comparable; report one mode's results (pass its spec), or pass "
            "--allow-mixed to report them together anyway")
    return MIXED_FIDELITY, [f"mixed fidelity modes: {described}"]


def check_one_image_set(accuracies: pd.DataFrame, allow_mixed: bool) -> list[str]:
    """Refuse, unless allowed, an eval set whose accuracies were computed on different images
    (its folder's fingerprint differs between rows: RI would subtract accuracies on different
    images); with allow_mixed, a note per such set. Rows that recorded none are not compared."""
    by_set: dict[str, dict[str, tuple[int, str]]] = {}
    recorded = accuracies[accuracies["data"].map(bool).astype(bool)]
    for (eval_set, listed), found in _trials_per_value(recorded, ["data"]).items():
        by_set.setdefault(eval_set, {})[listed] = found
    mixed = {s: found for s, found in by_set.items() if len(found) > 1}
    if not mixed:
        return []
    lines = [f"{s} was evaluated on " + " and on ".join(
        f"{listed} ({count} trial(s), e.g. {first})" for listed, (count, first) in sorted(found.items()))
        for s, found in sorted(mixed.items())]
    if not allow_mixed:
        raise MixedEvaluationError(
            f"{lines[0]}{f' (and {len(lines) - 1} more set(s))' if len(lines) > 1 else ''} (files:listing "
            "fingerprints): accuracies on different images are not comparable; run the sweep with "
            "--rerun-changed-data to evaluate everything on the data as it is now, or pass --allow-mixed "
            "to report them together anyway")
    return [f"different images: {line}" for line in lines]


def _or_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def optional_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """`frame[name]`, or all None where the rows lack that optional column (rows from a notebook)."""
    return frame[name] if name in frame.columns else pd.Series([None] * len(frame), index=frame.index, dtype=object)


def final_accuracies(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that count in tables: final evaluations (not learning-curve points) of the
    pretrained, fine-tuned and interpolated models; analysis rows (CKA, OTDD) are left out.
    Columns: ACCURACY_COLUMNS."""
    learning_curve_point = optional_column(frame, "final").map(lambda final: final is not None and not final).astype(bool)
    kept = frame[~learning_curve_point & frame["kind"].map(reported).astype(bool) & frame["top1"].notna()]
    alpha = kept["alpha"] if "alpha" in kept.columns else pd.Series(math.nan, index=kept.index)
    labels = optional_column(frame, "method_label").loc[kept.index]
    shown = [label or method_label(method, None if math.isnan(a) else a)
             for label, method, a in zip(labels, kept["method"], alpha, strict=True)]
    finished = pd.to_datetime(optional_column(frame, "finished_at").loc[kept.index], utc=True)
    stamps = finished.astype("int64").astype("float64").where(finished.notna(), -math.inf)
    return pd.DataFrame({
        "model": kept["model"], "method": shown, "downstream": optional_column(frame, "downstream").loc[kept.index],
        "seed": pd.Series([None if s is None else int(s) for s in optional_column(frame, "seed").loc[kept.index]],
                          index=kept.index, dtype=object),
        "train_subset": optional_column(frame, "train_subset").loc[kept.index].map(lambda s: s or "all"),
        "eval_set": kept["eval_set"], "top1": kept["top1"].astype("float64"),
        "trial_id": optional_column(frame, "trial_id").loc[kept.index], "finished": stamps,
        "decode": optional_column(frame, "decode").loc[kept.index], "precision": optional_column(frame, "eval_precision").loc[kept.index],
        "kind": kept["kind"], "base": kept["method"], "alpha": alpha.astype("float64"),
        "rib": optional_column(frame, "rib").loc[kept.index], "data": optional_column(frame, "data_fingerprint").loc[kept.index],
        "fidelity": optional_column(frame, "fidelity").loc[kept.index].map(lambda f: f or RIBRAY),
    }, columns=list(ACCURACY_COLUMNS)).reset_index(drop=True).astype(
        {c: object for c in ACCURACY_COLUMNS if c not in ("top1", "finished", "alpha")})


def reported(kind: str) -> bool:
    """Whether rows of this trial kind are accuracies for the tables (not analysis values)."""
    return kind in KINDS and KINDS.get(kind).reported


def as_planned(accuracies: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Each accuracy of a planned trial under the plan's names: its model's and method's labels
    (a trial that another spec ran under other labels is this spec's row), and its train subset
    (interpolation rows of older versions carry none)."""
    names = {t.trial_id: (t.model.shown, t.method_label, t.row_fields()["train_subset"] or "all")
             for t in plan.trials}
    planned = accuracies["trial_id"].map(names)
    found = accuracies.copy()
    mask = planned.notna()
    for index, column in enumerate(("model", "method", "train_subset")):
        found.loc[mask, column] = planned[mask].map(lambda named, i=index: named[i])
    return found


def newest_per_cell(accuracies: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """One accuracy per cell: when several trials claim one (e.g. results of two specs),
    the most recently finished wins. Returns the kept rows (in the order their cells first
    come, finish order) and the superseded trial ids."""
    order = accuracies.assign(_tid=accuracies["trial_id"].map(lambda t: t or ""), _at=range(len(accuracies)))
    order = order.sort_values(["finished", "_tid", "_at"], kind="stable")
    cell = order.groupby(list(KEY), dropna=False, sort=False).ngroup()
    kept = order.assign(_cell=cell.to_numpy()).drop_duplicates("_cell", keep="last").sort_values("_cell")
    winners = set(kept["trial_id"])
    superseded = {t for t in accuracies["trial_id"].unique() if t and t not in winners}
    return kept.drop(columns=["_tid", "_at", "_cell"]).reset_index(drop=True), superseded
