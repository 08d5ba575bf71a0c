"""Pieces every trial kind shares: seeding, the base model, probe batches, result rows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
import torch

from ribray.fidelity import REFERENCE
from ribray.models import LoadedModel, build_model, weights_origin
from ribray.models.paper import reference_data_config
from ribray.options import Evaluation
from ribray.plan import Trial
from ribray.results.provenance import provenance
from ribray.trials.context import SweepContext, TrialContext, worker_count
from ribray.trials.evaluate import EvalResult

if TYPE_CHECKING:
    from ribray.results.row import ResultRow


@dataclass
class Outcome:
    """What a runner returns: final evaluations, plus learning-curve points and analysis values,
    and result columns it decided itself (a greedy soup's kept ingredients)."""

    final: list[EvalResult]
    epochs: int = 0
    train_seconds: float = 0.0
    curve: list[tuple[int, EvalResult]] = field(default_factory=list)  # (epoch, result)
    analysis: list[ResultRow] = field(default_factory=list)  # {eval_set, layer, value} rows
    row_fields: ResultRow = field(default_factory=dict)


def trial_plugins(trial: Trial, context: SweepContext) -> dict[str, str]:
    """plugin -> code identity of every plugin (or declared dataset) this trial's results depend
    on: those that registered its kind and the entries it uses (`Trial.registry_names`), and
    those the weights it reads were made with (recorded in them)."""
    from ribray.data import DATASETS
    from ribray.interpolations import INTERPOLATIONS
    from ribray.methods import METHODS
    from ribray.models import MODELS
    from ribray.plan import KINDS
    from ribray.plugins import identities
    from ribray.registry import BUILTIN
    from ribray.trials.weights import weights_plugins

    registries = {"kind": KINDS, "method": METHODS, "interpolation": INTERPOLATIONS, "model": MODELS,
                  "dataset": DATASETS}
    current, used = identities(), {}
    for registry, names in ({"kind": [trial.kind]} | trial.registry_names()).items():
        for name in names:
            if name in registries[registry] and (origin := registries[registry].origin(name)) != BUILTIN:
                used[origin] = current[origin]
    for key in trial.weights_read():
        used |= weights_plugins(context.weights, key)
    return dict(sorted(used.items()))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def base_model(trial: Trial) -> LoadedModel:
    """The pretrained model as the spec names it (weights, or a local checkpoint), with its
    preprocessing in the trial's fidelity mode. Built under a fixed seed, so a random-init
    model (tests, the demo) is the same "pretrained" model in every trial and process; trial
    seeds apply after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        loaded = build_model(trial.model.name, pretrained=trial.model.pretrained,
                             checkpoint=trial.model.checkpoint)
    if trial.evaluation.fidelity == REFERENCE:  # the reference code's resize (its ResNet-50: 256 px)
        loaded.data_config = reference_data_config(trial.model.name, loaded.data_config)
    return loaded


def probe_batches(context: SweepContext, name: str, data_config: dict, device: torch.device,
                  batch_size: int, limit: int | None, evaluation: Evaluation, seed: int = 0, balanced: bool = False):
    """A fixed subset of an eval set, decoded for `device` (what CKA and OTDD read) with the
    trial's decoder, labelled as its fidelity mode labels it; `balanced`: the same number of
    images from every class."""
    from ribray.data import get_dataset
    from ribray.data.tensors.loading import iter_eval_batches

    return iter_eval_batches(get_dataset(name).scored_as(evaluation.fidelity), context.dataset_folder(name),
                             data_config, batch_size=batch_size, device=device,
                             workers=worker_count(context.eval.workers), decode=evaluation.decode, limit=limit,
                             seed=seed, balanced=balanced)


def now() -> datetime:
    return datetime.now(timezone.utc)


def result_rows(trial: Trial, ctx: TrialContext, outcome: Outcome,
                started: datetime, finished: datetime) -> list[ResultRow]:
    """One row per (eval set, epoch): the final evaluations and any learning-curve points."""
    base = {
        "trial_id": trial.trial_id, "sweep": ctx.sweep.sweep, "spec_hash": ctx.sweep.spec_hash,
        "kind": trial.kind, "model": trial.model.shown, "model_name": trial.model.name, "method": trial.method,
        "method_label": trial.method_label, "label": trial.label, "downstream": trial.downstream,
        "seed": trial.seed, "fidelity": trial.evaluation.fidelity, **trial.row_fields(), **outcome.row_fields,
        "train_seconds": outcome.train_seconds, "started_at": started, "finished_at": finished,
        "train_fingerprint": ctx.sweep.fingerprint(trial.downstream),
        "train_generated": ctx.sweep.is_generated(trial.downstream),
        "model_weights": weights_origin(trial.model.name, trial.model.pretrained, trial.model.checkpoint),
        "plugins": [{"plugin": p, "identity": i} for p, i in ctx.plugins.items()] or None, **provenance(),
    }
    points = [(outcome.epochs, r, True) for r in outcome.final]
    points += [(epoch, r, False) for epoch, r in outcome.curve]
    rows = [base | r.row() | {"epoch": epoch, "final": final} for epoch, r, final in points]
    rows += [base | row | {"epoch": 0, "final": True} for row in outcome.analysis]
    ctx.sweep.check_unchanged([trial.downstream, *(row.get("eval_set") for row in rows)])  # what the rows claim
    return [row | {"data_fingerprint": ctx.sweep.fingerprint(row.get("eval_set")), "rib": _rib(row.get("eval_set")),
                   "data_generated": ctx.sweep.is_generated(row.get("eval_set"))} for row in rows]


def _rib(eval_set: str | None) -> bool | None:
    """Whether RI averages over this eval set (ImageNet-RIB's eight, and any set a plugin or the
    spec marks `rib`), as the trial's registry says: a report of the results alone reads it."""
    from ribray.data import DATASETS

    return DATASETS.get(eval_set).rib if eval_set in DATASETS else None
