"""Which expected trials have no results, or lack evaluations the tables need."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ribray.report.rows import PRETRAINED
from ribray.report.scope import ExpectedTrial, Scope


@dataclass(frozen=True)
class Missing:
    """An expected trial with no results (eval_sets empty) or without some evaluations."""

    trial: ExpectedTrial
    eval_sets: tuple[str, ...] = ()

    def describe(self) -> str:
        what = f"no evaluation on {', '.join(self.eval_sets)}" if self.eval_sets else "no results"
        trial_id = f" (trial {self.trial.trial_id})" if self.trial.trial_id else ""
        return f"{self.trial.label}: {what}{trial_id}"

    def to_json(self) -> dict:
        trial = self.trial
        return {"model": trial.model, "method": trial.method, "downstream": trial.downstream,
                "seed": trial.seed, "train_subset": trial.train_subset, "trial_id": trial.trial_id,
                "eval_sets": list(self.eval_sets), "what": self.describe()}


def evaluated_sets(accuracies: pd.DataFrame) -> dict[tuple, set[str]]:
    """(model, method, downstream, seed) -> eval sets with a result; the pretrained model's
    evaluations are pooled over seeds (its evaluation does not depend on one)."""
    found: dict[tuple, set[str]] = {}
    seeds = accuracies["seed"].where(accuracies["method"] != PRETRAINED, None)
    for *trial, eval_set in zip(accuracies["model"], accuracies["method"], accuracies["downstream"], seeds,
                                accuracies["eval_set"], strict=True):
        found.setdefault(tuple(trial), set()).add(eval_set)
    return found


def find_missing(scope: Scope, accuracies: pd.DataFrame) -> list[Missing]:
    """Every expected trial that is absent or lacks an evaluation RI or the tables need."""
    found = evaluated_sets(accuracies)
    missing = []
    for trial in scope.expected:
        have = found.get(trial.key)
        if have is None:
            missing.append(Missing(trial))
            continue
        lacking = tuple(s for s in scope.required_eval_sets if s not in have)
        if lacking:
            missing.append(Missing(trial, lacking))
    return missing


def pretrained_gaps(scope: Scope, missing: list[Missing]) -> list[str]:
    """One note per model whose pretrained evaluation lacks a downstream set (RI undefined)."""
    notes = []
    for item in missing:
        if item.trial.method != PRETRAINED:
            continue
        lacking = [s for s in (item.eval_sets or scope.rib_sets) if s in scope.rib_sets]
        if not lacking:
            continue
        if len(lacking) == 1 and lacking[0] in scope.downstream and len(scope.downstream) > 1:
            where = f"for fine-tunes on every downstream set except {lacking[0]}"
        else:
            where = "for every downstream set"
        notes.append(f"{item.trial.model}: no pretrained evaluation on {', '.join(lacking)}, "
                     f"so RI is undefined {where}")
    return notes
