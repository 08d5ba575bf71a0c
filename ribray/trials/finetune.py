"""Fine-tune one (model, method, downstream set, seed[, subset]), checkpointing every epoch."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
from ray import tune

from ribray.config import TrainConfig, TrainSubset
from ribray.data import get_dataset
from ribray.data.loading import train_loader
from ribray.data.scoring import LabelProjector
from ribray.evaluate import EvalResult, evaluate
from ribray.faults import with_faults
from ribray.loop import Trainer
from ribray.methods import get_method
from ribray.trials import register
from ribray.trials.common import Outcome, base_model, seed_everything, trial_device
from ribray.weights import has_weights, load_weights, save_weights

STATE_FILE = "trainer.pt"


@register("finetune")
def run(trial, context, run_log) -> Outcome:
    device = trial_device()
    seed_everything(trial.seed or 0)
    loaded = base_model(trial)
    method_cls = get_method(trial.method)
    method = method_cls(method_cls.Config.model_validate(trial.config["options"]))
    if trial.config.get("init_weights"):  # LP-FT: start from the finished LP weights
        loaded.module.load_state_dict(load_weights(context.weights, trial.config["init_weights"]))
    model = method.prepare(loaded.module).to(device)
    method.select_trainable(model)
    method.setup(model)
    config = TrainConfig(**trial.config["train"])
    outcome = Outcome(final=[], epochs=config.epochs)
    if has_weights(context.weights, trial.weights_key):  # trained before, for other eval sets
        model = method.load_export(model, load_weights(context.weights, trial.weights_key))
    else:
        _train(trial, context, model, method, loaded.data_config, device, run_log, outcome)
        save_weights(context.weights, trial.weights_key, method.export(model))
    outcome.final = evaluate([model], trial.config["eval_sets"], context, loaded.data_config, device)[0]
    return outcome


def _train(trial, context, model, method, data_config, device, run_log, outcome: Outcome) -> None:
    """Train the remaining epochs (resuming from Tune's checkpoint); curve points go to outcome."""
    config = TrainConfig(**trial.config["train"])
    entry = get_dataset(trial.downstream)
    folder = context.dataset_folder(trial.downstream)
    project = LabelProjector(entry.class_indices()).to(device)
    indices = _subset_indices(trial, entry, folder)

    def loader(epoch: int):
        return train_loader(entry, folder, data_config, config.batch_size, config.workers,
                            seed=(trial.seed or 0) * 100_003 + epoch, indices=indices,
                            pin_memory=device.type == "cuda")

    trainer = Trainer(model, method, config, device, project, steps_per_epoch=len(loader(0)))
    if _resume(trainer, outcome):
        run_log.log_metrics({"resumed_from_epoch": trainer.epoch}, step=trainer.epoch)
    else:
        _curve_point(trial, context, model, data_config, device, run_log, outcome, epoch=0)
    while trainer.epoch < config.epochs:
        batches = with_faults(loader(trainer.epoch), context.fault, trial.method, trainer.epoch)
        end = trainer.train_epoch(batches)
        outcome.train_seconds += end.seconds
        run_log.log_metrics({"train_loss": end.loss, "train_images_per_second": end.images / end.seconds},
                            step=end.epoch)
        _curve_point(trial, context, model, data_config, device, run_log, outcome, epoch=end.epoch)
        _checkpoint(trainer, outcome, {"epoch": end.epoch, "train_loss": end.loss})


def _subset_indices(trial, entry, folder) -> list[int] | None:
    """The class-balanced, per-seed subset of the downstream set this trial trains on."""
    if trial.config.get("subset") is None:
        return None
    from ribray.analysis.subsets import select_subset

    subset = TrainSubset(**trial.config["subset"])
    labels = [sample.label for sample in entry.samples(folder)]
    return select_subset(labels, seed=trial.seed or 0, shots_per_class=subset.shots_per_class,
                         fraction=subset.fraction)


def _curve_point(trial, context, model, data_config, device, run_log, outcome, epoch: int) -> None:
    """Learning curves: accuracy on the downstream and OOD sets after `epoch` epochs."""
    curves = trial.config.get("curves")
    if not curves:
        return
    results = evaluate([model], curves["eval_sets"], context, data_config, device,
                       limit=curves["limit_per_set"], seed=trial.seed or 0)[0]
    outcome.curve += [(epoch, result) for result in results]
    run_log.log_metrics({f"curve/top1/{r.eval_set}": r.top1 for r in results}, step=epoch)


def _resume(trainer: Trainer, outcome: Outcome) -> bool:
    """Continue from Tune's last epoch checkpoint of this trial, if there is one."""
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return False
    with checkpoint.as_directory() as folder:
        state = torch.load(Path(folder) / STATE_FILE, weights_only=True, map_location="cpu")
    trainer.load_state_dict(state["trainer"])
    outcome.train_seconds = state["train_seconds"]
    outcome.curve = [(epoch, EvalResult(**fields)) for epoch, fields in state["curve"]]
    return True


def _checkpoint(trainer: Trainer, outcome: Outcome, metrics: dict) -> None:
    started = time.perf_counter()
    state = {"trainer": trainer.state_dict(), "train_seconds": outcome.train_seconds,
             "curve": [(epoch, vars(result)) for epoch, result in outcome.curve]}
    with tempfile.TemporaryDirectory() as folder:
        torch.save(state, Path(folder) / STATE_FILE)
        metrics = metrics | {"trial_finished": 0, "checkpoint_seconds": time.perf_counter() - started}
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
