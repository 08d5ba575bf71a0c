"""Fine-tune one (model, method, downstream set, seed), checkpointing every epoch."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
from ray import tune

from ribray.config import TrainConfig
from ribray.data import get_dataset
from ribray.data.loading import train_loader
from ribray.data.scoring import LabelProjector
from ribray.evaluate import evaluate
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
    method = get_method(trial.method)(get_method(trial.method).Config.model_validate(
        trial.config["options"]))
    if trial.config.get("init_weights"):  # LP-FT: start from the finished LP weights
        start = load_weights(context.weights, trial.config["init_weights"])
        loaded.module.load_state_dict(start)
    model = method.prepare(loaded.module).to(device)
    method.select_trainable(model)
    method.setup(model)
    train_seconds = 0.0
    if has_weights(context.weights, trial.weights_key):
        model = method.load_export(model, load_weights(context.weights, trial.weights_key))
    else:
        train_seconds = _train(trial, context, model, method, loaded.data_config, device, run_log)
        save_weights(context.weights, trial.weights_key, method.export(model))
    results = evaluate([model], trial.config["eval_sets"], context, loaded.data_config, device)[0]
    return Outcome(final=results, epochs=TrainConfig(**trial.config["train"]).epochs,
                   train_seconds=train_seconds)


def _train(trial, context, model, method, data_config, device, run_log) -> float:
    """Train the remaining epochs (resuming from Tune's checkpoint); return seconds spent."""
    config = TrainConfig(**trial.config["train"])
    entry = get_dataset(trial.downstream)
    folder = context.dataset_folder(trial.downstream)
    project = LabelProjector(entry.class_indices()).to(device)

    def loader(epoch: int):
        return train_loader(entry, folder, data_config, config.batch_size, config.workers,
                            seed=(trial.seed or 0) * 100_003 + epoch,
                            pin_memory=device.type == "cuda")

    steps = len(loader(0))
    trainer = Trainer(model, method, config, device, project, steps_per_epoch=steps)
    if _resume(trainer):
        run_log.log_metrics({"resumed_from_epoch": trainer.epoch}, step=trainer.epoch)
    spent = 0.0
    while trainer.epoch < config.epochs:
        batches = with_faults(loader(trainer.epoch), context.fault, trial.method, trainer.epoch)
        end = trainer.train_epoch(batches)
        spent += end.seconds
        run_log.log_metrics({"train_loss": end.loss, "train_images_per_second": end.images / end.seconds},
                            step=end.epoch)
        _checkpoint(trainer, {"epoch": end.epoch, "train_loss": end.loss})
    return spent


def _resume(trainer: Trainer) -> bool:
    """Continue from Tune's last epoch checkpoint of this trial, if there is one."""
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return False
    with checkpoint.as_directory() as folder:
        state = torch.load(Path(folder) / STATE_FILE, weights_only=True, map_location="cpu")
    trainer.load_state_dict(state)
    return True


def _checkpoint(trainer: Trainer, metrics: dict) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        torch.save(trainer.state_dict(), Path(folder) / STATE_FILE)
        metrics = metrics | {"trial_finished": 0, "checkpoint_seconds": time.perf_counter() - started}
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
