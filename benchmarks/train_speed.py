"""Training speed: ribray's Trainer (method `ft`) inside a real Ray Tune trial vs the plainest
PyTorch/timm loop: same model, batch, precision, optimizer, and batches already on the device
(both measure the loop; loading has its own measurement)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
from torch import nn

from benchmarks.device import Stopwatch, autocast, build_model, free_memory, pick_device
from benchmarks.results import Check, Section, ratio
from benchmarks.sizes import Sizes

TARGET_EAGER = 0.95  # ribray's loop in a Tune trial, over the bare eager loop
TARGET_COMPILED = 1.2  # ribray with `compile: true`, over the bare eager loop
DISTINCT_BATCHES = 4
DOWNSTREAM = "imagenet_sketch"  # a 1000-class set: its logits projection is the identity


def synthetic_batches(sizes: Sizes, device: torch.device, seed: int = 0) -> list[tuple]:
    """A few random (images, labels) batches on the device, cycled by both loops."""
    generator = torch.Generator().manual_seed(seed)
    shape = (sizes.train_batch, 3, sizes.image_size, sizes.image_size)
    return [(torch.randn(shape, generator=generator).to(device),
             torch.randint(0, 1000, (sizes.train_batch,), generator=generator).to(device))
            for _ in range(DISTINCT_BATCHES)]


def cycle(batches: list[tuple], steps: int) -> Iterator[tuple]:
    for step in range(steps):
        yield batches[step % len(batches)]


def bare_loop(sizes: Sizes, device: torch.device, compile: bool = False) -> float:
    """Images/s of a bare timm loop: SGD with momentum, autocast, cross-entropy, backward."""
    model = build_model(sizes)[0].to(device).train()
    forward = torch.compile(model) if compile else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        with autocast(device):
            loss = nn.functional.cross_entropy(forward(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    batches = synthetic_batches(sizes, device)
    for images, labels in cycle(batches, sizes.train_warmup_steps):
        step(images, labels)
    with Stopwatch(device) as watch:
        for images, labels in cycle(batches, sizes.train_steps):
            step(images, labels)
    return sizes.train_steps * sizes.train_batch / watch.seconds


def ribray_loop(sizes: Sizes, device: torch.device, compile: bool = False) -> float:
    """Images/s of ribray's Trainer running the `ft` method, set up as a finetune trial does."""
    from ribray.data import get_dataset
    from ribray.data.tensors.scoring import LabelProjector
    from ribray.methods import get_method
    from ribray.options import TrainOptions
    from ribray.trials.loop import Trainer

    method_cls = get_method("ft")
    method = method_cls(method_cls.Options())
    model = method.prepare(build_model(sizes)[0]).to(device)
    method.select_trainable(model)
    method.setup(model, None)  # ft reads nothing besides the downstream set
    options = TrainOptions(batch_size=sizes.train_batch, compile=compile, precision="auto")
    steps = sizes.train_warmup_steps + sizes.train_steps
    project = LabelProjector(get_dataset(DOWNSTREAM).class_indices()).to(device)
    trainer = Trainer(model, method, options, device, project, steps_per_epoch=steps)
    batches = synthetic_batches(sizes, device)
    trainer.train_epoch(cycle(batches, sizes.train_warmup_steps))
    with Stopwatch(device) as watch:
        trainer.train_epoch(cycle(batches, sizes.train_steps))
    return sizes.train_steps * sizes.train_batch / watch.seconds


def _tune_trial(config: dict, sizes: Sizes) -> None:
    """The Tune trainable: ribray's loop on the GPU Ray assigned to this trial."""
    from ray import tune

    device = pick_device(config["device"])
    tune.report({"images_per_second": ribray_loop(sizes, device, compile=config["compile"])})


def ribray_in_tune(sizes: Sizes, device: torch.device, compile: bool) -> float:
    """Images/s of ribray's loop inside one real Ray Tune trial claiming one GPU."""
    import ray
    from ray import tune

    from benchmarks.tune_runner import run_trials

    # Every core, as the bare loop has: Ray sets a trial's torch threads to its CPU count.
    cpus = min(os.cpu_count() or 1, int(ray.cluster_resources().get("CPU", 1)))
    resources = {"cpu": cpus, "gpu": 1 if device.type == "cuda" else 0}
    results = run_trials(tune.with_parameters(_tune_trial, sizes=sizes), resources,
                         param_space={"device": device.type, "compile": compile})
    return results[-1]["images_per_second"]


def measure(sizes: Sizes, device: torch.device) -> Section:
    """Bare eager vs ribray eager (in Tune); with torch.compile where the Trainer compiles (CUDA)."""
    bare = bare_loop(sizes, device)
    free_memory()
    ribray = ribray_in_tune(sizes, device, compile=False)
    numbers = {"model": sizes.model, "batch": sizes.train_batch, "steps": sizes.train_steps,
               "bare_eager_images_per_s": bare, "ribray_eager_images_per_s": ribray}
    compiled, note = None, "not measured: the Trainer compiles only on CUDA"
    if device.type == "cuda":
        compiled, note = ribray_in_tune(sizes, device, compile=True), ""
        numbers["ribray_compiled_images_per_s"] = compiled
        numbers["bare_compiled_images_per_s"] = bare_loop(sizes, device, compile=True)
        free_memory()
    return Section("train", numbers, [
        Check("train: ribray (Tune trial) / bare loop", ratio(ribray, bare), TARGET_EAGER),
        Check("train: ribray compile / bare eager", ratio(compiled, bare), TARGET_COMPILED, note=note),
    ])
