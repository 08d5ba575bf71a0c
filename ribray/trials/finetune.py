"""Fine-tune one (model, method, downstream set, seed[, subset]), checkpointing every epoch."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from ribray.data import get_dataset
from ribray.data.tensors.loading import train_loader
from ribray.data.tensors.scoring import LabelProjector
from ribray.methods import MethodInputs, get_method
from ribray.plan import FinetuneTrial
from ribray.results.tracking import top1_metric
from ribray.storage import full_error
from ribray.trials import runs
from ribray.trials.common import Outcome, base_model, probe_batches, seed_everything
from ribray.trials.context import TrialContext
from ribray.trials.evaluate import EvalResult, evaluate
from ribray.trials.loop import Trainer
from ribray.trials.weights import has_weights, load_weights, save_weights

STATE_FILE = "trainer.pt"


@runs(FinetuneTrial)
def run(trial: FinetuneTrial, ctx: TrialContext) -> Outcome:
    seed_everything(trial.seed or 0)
    loaded = base_model(trial)
    method = get_method(trial.method)(trial.options)
    weights = ctx.sweep.weights
    if trial.init_weights:  # LP-FT: start from the finished LP weights
        loaded.module.load_state_dict(load_weights(weights, trial.init_weights))
    model = method.prepare(loaded.module).to(ctx.device)
    method.select_trainable(model)
    method.setup(model, method_inputs(trial, ctx, loaded.data_config))
    outcome = Outcome(final=[], epochs=trial.train.epochs)
    trained_on = ctx.sweep.fingerprint(trial.downstream)
    if has_weights(weights, trial.weights_key, trained_on, ctx.plugins):  # trained before, for other eval sets
        model = method.load_export(model, load_weights(weights, trial.weights_key))
    else:
        _train(trial, ctx, model, method, loaded.data_config, outcome)
        save_weights(weights, trial.weights_key, method.export(model), trained_on, ctx.plugins)
    outcome.final = evaluate([model], list(trial.eval_sets), ctx.sweep, loaded.data_config, ctx.device,
                             trial.evaluation)[0]
    return outcome


def method_inputs(trial: FinetuneTrial, ctx: TrialContext, data_config: dict) -> MethodInputs:
    """What `Method.setup` may read besides the model: other sets' images, as the trial's own
    pipeline makes them (the trial's decoder, a fixed class-balanced subset per seed)."""

    def batches(name: str, images: int, seed: int = 0):
        for images_, labels, _ in probe_batches(ctx.sweep, name, data_config, ctx.device, ctx.sweep.eval.batch_size,
                                                images, trial.evaluation, seed=seed, balanced=True):
            yield images_, labels

    def projector(name: str):
        return LabelProjector(get_dataset(name).scored_as(trial.evaluation.fidelity).class_indices()).to(ctx.device)

    return MethodInputs(device=ctx.device, data_config=data_config, batches=batches, projector=projector)


def _train(trial: FinetuneTrial, ctx: TrialContext, model, method, data_config, outcome: Outcome) -> None:
    """Train the remaining epochs (resuming from Tune's checkpoint); curve points go to outcome."""
    entry = get_dataset(trial.downstream).scored_as(trial.evaluation.fidelity)
    folder = ctx.sweep.dataset_folder(trial.downstream)
    device = ctx.device
    project = LabelProjector(entry.class_indices()).to(device)
    indices = _subset_indices(trial, entry, folder)

    def loader(epoch: int):
        return train_loader(entry, folder, data_config, trial.train.batch_size, trial.train.workers,
                            seed=(trial.seed or 0) * 100_003 + epoch, device=device, indices=indices)

    trainer = Trainer(model, method, trial.train, device, project, steps_per_epoch=len(loader(0)))
    if _resume(trainer, outcome, ctx):
        ctx.run_log.log_metrics({"resumed_from_epoch": trainer.epoch}, step=trainer.epoch)
    else:
        _curve_point(trial, ctx, model, data_config, outcome, epoch=0)
    while trainer.epoch < trial.train.epochs:
        end = trainer.train_epoch(loader(trainer.epoch))
        outcome.train_seconds += end.seconds
        ctx.run_log.log_metrics({"train_loss": end.loss, "train_images_per_second": end.images / end.seconds},
                                step=end.epoch)
        _curve_point(trial, ctx, model, data_config, outcome, epoch=end.epoch)
        _checkpoint(trainer, outcome, ctx, {"epoch": end.epoch, "train_loss": end.loss})


def _subset_indices(trial: FinetuneTrial, entry, folder) -> list[int] | None:
    """The class-balanced, per-seed subset of the downstream set this trial trains on."""
    subset = trial.train_subset
    if subset.label() == "all":
        return None
    from ribray.data.subsets import select_subset

    labels = [sample.label for sample in entry.samples(folder)]
    return select_subset(labels, seed=trial.seed or 0, shots_per_class=subset.shots_per_class,
                         fraction=subset.fraction)


def _curve_point(trial: FinetuneTrial, ctx: TrialContext, model, data_config, outcome: Outcome,
                 epoch: int) -> None:
    """Learning curves: accuracy on the downstream and OOD sets after `epoch` epochs."""
    if trial.curves is None:
        return
    curve = trial.evaluation.model_copy(update={"limit_per_set": trial.curves.limit_per_set})
    results = evaluate([model], list(trial.curves.eval_sets), ctx.sweep, data_config, ctx.device, curve,
                       seed=trial.seed or 0)[0]
    outcome.curve += [(epoch, result) for result in results]
    ctx.run_log.log_metrics({f"curve {top1_metric(r.eval_set)}": r.top1 for r in results}, step=epoch)


def _resume(trainer: Trainer, outcome: Outcome, ctx: TrialContext) -> bool:
    """Continue from Tune's last epoch checkpoint of this trial, if there is one and it was
    trained with the plugins' code this trial runs (else the trial starts afresh)."""
    from ray import tune

    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return False
    with checkpoint.as_directory() as folder:
        state = torch.load(Path(folder) / STATE_FILE, weights_only=True, map_location="cpu")
    if state.get("plugins", {}) != ctx.plugins:
        ctx.run_log.log_metrics({"restarted_for_changed_plugins": 1})
        return False
    trainer.load_state_dict(state["trainer"])
    outcome.train_seconds = state["train_seconds"]
    outcome.curve = [(epoch, EvalResult(**fields)) for epoch, fields in state["curve"]]
    return True


def _checkpoint(trainer: Trainer, outcome: Outcome, ctx: TrialContext, metrics: dict) -> None:
    """Hand Tune this epoch's checkpoint (it copies it to the sweep's tune/ folder); a full disk
    fails the trial at once (StorageFullError: a retry would fill it again)."""
    from ray import tune

    started = time.perf_counter()
    state = {"trainer": trainer.state_dict(), "train_seconds": outcome.train_seconds,
             "curve": [(epoch, vars(result)) for epoch, result in outcome.curve], "plugins": ctx.plugins}
    with tempfile.TemporaryDirectory() as folder:
        torch.save(state, Path(folder) / STATE_FILE)
        metrics = metrics | {"trial_finished": 0, "checkpoint_seconds": time.perf_counter() - started}
        try:
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
        except OSError as error:
            full = full_error(error, ctx.sweep.layout.tune.path, f"the checkpoint of epoch {metrics['epoch']}")
            if full is None:
                raise
            raise full from error
