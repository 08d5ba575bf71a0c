"""The training schedule is the paper's: linear warm-up over 196 steps whatever the run's
length, then cosine to 0, one step per batch."""

from __future__ import annotations

import math

import pytest
import torch

from ribray.options import TrainOptions
from ribray.trials.loop import make_schedule


def _learning_rates(options: TrainOptions, steps_per_epoch: int) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=options.lr)
    schedule = make_schedule(optimizer, options, steps_per_epoch)
    rates = []
    for _ in range(options.epochs * steps_per_epoch):
        rates.append(optimizer.param_groups[0]["lr"])  # what the step of this batch uses
        optimizer.step()
        schedule.step()
    return rates


def test_a_one_shot_run_stays_in_the_warm_up():
    # 1 image per class of ImageNet-1K: 1000 images, batch 64 -> 16 steps per epoch, 160 in 10
    # epochs, fewer than the 196 warm-up steps: step k uses 1e-3 * (k + 1) / 196, at most 0.816e-3
    rates = _learning_rates(TrainOptions(), steps_per_epoch=math.ceil(1000 / 64))
    assert len(rates) == 160
    assert rates == pytest.approx([1e-3 * (k + 1) / 196 for k in range(160)], rel=1e-12)
    assert max(rates) == pytest.approx(1e-3 * 160 / 196) and max(rates) < 0.82e-3


def test_a_long_run_warms_up_then_decays_by_a_cosine():
    rates = _learning_rates(TrainOptions(epochs=2), steps_per_epoch=300)  # 600 steps
    assert rates[195] == pytest.approx(1e-3)  # the last warm-up step reaches the full rate
    # then 0.5 * (1 + cos(pi * (k - 196) / (600 - 196)))
    for k in (196, 300, 500, 599):
        assert rates[k] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi * (k - 196) / 404)), rel=1e-12)


def test_compile_auto_is_eager_on_cpu_and_a_failing_compile_falls_back_to_eager(monkeypatch, caplog):
    import logging

    from ribray.methods import get_method
    from ribray.trials.loop import Trainer

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 1000))
    method = get_method("ft")(get_method("ft").Options())
    batches = [(torch.randn(4, 3, 2, 2), torch.randint(0, 1000, (4,)))] * 2
    eager = Trainer(model, method, TrainOptions(epochs=1), torch.device("cpu"), lambda x: x, 2)
    assert eager.forward is model and TrainOptions().compile == "auto"  # auto compiles on CUDA only

    def broken_compile(module):
        def forward(images):
            raise RuntimeError("backend compiler failed\nlong trace")
        return forward

    monkeypatch.setattr(torch, "compile", broken_compile)
    trainer = Trainer(model, method, TrainOptions(epochs=1, compile=True), torch.device("cpu"), lambda x: x, 2)
    with caplog.at_level(logging.WARNING, logger="ribray.trials"):
        end = trainer.train_epoch(batches)
    assert end.images == 8 and trainer.forward is model  # trained, eagerly
    assert "torch.compile failed (RuntimeError: backend compiler failed); this trial trains eagerly" in caplog.text


def test_an_injected_fault_fires_once_at_its_method_epoch_and_step_and_leaves_the_loop_as_it_was(tmp_path):
    """The fault tests' injector is armed around a trial by the trainable, not by the epoch loop."""
    from ribray.methods import get_method
    from ribray.trials import faults
    from ribray.trials.loop import Trainer

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 1000))
    method = get_method("ft")(get_method("ft").Options())
    batches = [(torch.randn(4, 3, 2, 2), torch.randint(0, 1000, (4,)))] * 3
    trainer = Trainer(model, method, TrainOptions(epochs=3), torch.device("cpu"), lambda x: x, 3)
    marker = tmp_path / "fired"
    untouched = Trainer.train_epoch
    with faults.injected(faults.parse(f"raise:method=ft:epoch=1:step=2:marker={marker}")):
        assert trainer.train_epoch(batches).images == 12  # epoch 0: not the fault's
        with pytest.raises(RuntimeError, match="injected fault at step 2"):
            trainer.train_epoch(batches)
        assert marker.exists()
        trainer.epoch = 1
        assert trainer.train_epoch(batches).images == 12  # the retry: it fired already
    with faults.injected(faults.parse(f"raise:method=lp:epoch=0:step=0:marker={tmp_path / 'other'}")):
        trainer.epoch = 0
        assert trainer.train_epoch(batches).images == 12  # another method's fault
    assert Trainer.train_epoch is untouched
