"""Tune configs written by ribray 0.1 (one `Trial` dataclass with an untyped `config` dict),
as typed trials: what a run started before the typed plan needs to be resumed.

A restored run brings such configs back in three places, each of which reads them through
`read_trial`: the searcher's saved state (engine/searcher.py), the restored Tune trials that
the progress line names (engine/progress.py) and the trials the restored Tuner runs (their
trainable is given `read_trial` by engine/tune_run.py). `Trial.from_config` reads only this
version's configs: the plan knows nothing of 0.1.
"""

from __future__ import annotations

from typing import Any

from ribray.options import TrainSubset
from ribray.plan.cka import CKA
from ribray.plan.finetune import FinetuneTrial
from ribray.plan.interpolate import InterpolateTrial
from ribray.plan.pretrained import PretrainedTrial
from ribray.plan.trial import KINDS, ModelRef, Trial


def read_trial(config: dict[str, Any]) -> Trial:
    """The typed trial of a Tune config: this version's (`Trial.to_config()`) or ribray 0.1's."""
    return from_legacy_config(config) if is_legacy(config) else Trial.from_config(config)


def is_legacy(config: dict[str, Any]) -> bool:
    """Whether a Tune config is ribray 0.1's: {"trial_id", "kind", ..., "config": {...}}."""
    return "config" in config


def from_legacy_config(legacy: dict[str, Any]) -> Trial:
    """The typed trial of a 0.1 config; its id must come out the same, or this raises."""
    config = legacy["config"]
    common = {"model": ModelRef(**config["model"]), "depends_on": tuple(legacy.get("depends_on") or ())}
    kind = legacy["kind"]
    subset = TrainSubset(**config["subset"]) if config.get("subset") else \
        TrainSubset.from_label(config.get("train_subset", "all"))
    if kind == PretrainedTrial.kind:
        fields = {"eval_sets": config["eval_sets"]}
    elif kind == FinetuneTrial.kind:
        fields = {"method": config["method"], "downstream": config["downstream"], "seed": config["seed"],
                  "options": config["options"], "train": config["train"],
                  "init_weights": config.get("init_weights"), "train_subset": subset,
                  "eval_sets": config["eval_sets"], "curves": config.get("curves")}
    elif kind == InterpolateTrial.kind:
        fields = {"method": config["method"], "downstream": config["downstream"], "seed": config["seed"],
                  "alpha": config.get("alpha"), "ingredients": config["ingredients"],
                  "weights": config["weights"], "train_subset": subset, "eval_sets": config["eval_sets"]}
    elif kind == CKA:
        fields = {"method": config["method"], "downstream": config.get("downstream"),
                  "seed": config.get("seed"), "options": config.get("options"), "weights": config["weights"],
                  "cka": config["cka"], "train_subset": subset}
    else:
        fields = {"downstream_sets": config["downstream_sets"], "reference_set": config.get("reference_set"),
                  "otdd": config["otdd"]}
    trial = KINDS.get(kind)(**common, **fields)
    if trial.trial_id != legacy["trial_id"]:
        raise ValueError(f"ribray 0.1 trial {legacy['trial_id']} ({kind}) hashes to {trial.trial_id} "
                         "in this version: its configuration cannot be carried over")
    return trial
