"""What a plan will cost: GPU-hours from measured images/second (ribray/throughput.json, or
a file the benchmark writes), broken down by trial kind, downstream set and eval set; and the
storage its fine-tunes' weights and resume checkpoints need."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ribray.errors import RibrayError
from ribray.plan.make import Plan
from ribray.plan.trial import Trial


@dataclass(frozen=True)
class Throughput:
    """Images/second of one GPU, and where they were measured."""

    device: str
    default: dict[str, float]
    models: dict[str, dict[str, float]]
    measured: str = ""  # date
    commit: str = ""  # ribray commit the benchmark ran at

    def rate(self, model: str, phase: str) -> float:
        return self.models.get(model, self.default).get(phase, self.default[phase])

    def source(self) -> str:
        when = f", measured {self.measured}" + (f" at ribray {self.commit}" if self.commit else "") \
            if self.measured else " (no measurement date recorded)"
        return f"{self.device}{when}"


def load_throughput(path: str | Path | None = None) -> Throughput:
    """The packaged table, or a file written by the benchmark."""
    try:
        text = Path(path).read_text() if path else \
            resources.files("ribray").joinpath("throughput.json").read_text()
        raw = json.loads(text)
        throughput = Throughput(raw.get("device", "unknown"), raw["default"], raw.get("models", {}),
                                raw.get("measured", ""), raw.get("commit", ""))
        for phase in ("train", "eval"):
            if not isinstance(throughput.default.get(phase), (int, float)) or throughput.default[phase] <= 0:
                raise ValueError(f'"default" needs a positive "{phase}" rate (images/s)')
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        what = f"{type(error).__name__}: {error}" if not isinstance(error, KeyError) else f"no key {error}"
        raise RibrayError(f"throughput file {path}: {what} (write it with `python -m benchmarks.run`; "
                          'it holds {"device", "default": {"train", "eval"}, "models"})') from None
    return throughput


@dataclass
class Hours:
    """A trial's GPU-hours: training, and evaluation per eval set."""

    train: float = 0.0
    eval: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.train + sum(self.eval.values())


def trial_cost(trial: Trial, throughput: Throughput) -> Hours:
    """Training passes over the training images (compiled when the trial compiles) plus the
    images the trial evaluates, at the measured rates."""
    work = trial.work()
    model = trial.model.name
    train_rate = throughput.rate(model, "train")
    if work.compiled:
        train_rate = throughput.rate(model, "train_compiled") if "train_compiled" in throughput.default else train_rate
    eval_rate = throughput.rate(model, "eval")
    return Hours(train=work.train_images / train_rate / 3600,
                 eval={s: n / eval_rate / 3600 for s, n in work.eval_images.items()})


def trial_hours(trial: Trial, throughput: Throughput) -> float:
    return trial_cost(trial, throughput).total


def plan_hours(plan: Plan, throughput: Throughput) -> dict[str, float]:
    return {t.trial_id: trial_hours(t, throughput) for t in plan.trials}


@dataclass
class Breakdown:
    """A plan's GPU-hours in total, by trial, by trial kind, by downstream set (training and
    evaluation of the trials fine-tuned on it) and by eval set (evaluation only)."""

    total: float
    by_trial: dict[str, float]
    by_kind: dict[str, float]
    by_downstream: dict[str, float]
    by_eval_set: dict[str, float]


def breakdown(plan: Plan, throughput: Throughput) -> Breakdown:
    by_trial: dict[str, float] = {}
    by_kind: dict[str, float] = defaultdict(float)
    by_downstream: dict[str, float] = defaultdict(float)
    by_eval_set: dict[str, float] = defaultdict(float)
    for trial in plan.trials:
        cost = trial_cost(trial, throughput)
        by_trial[trial.trial_id] = cost.total
        by_kind[trial.kind] += cost.total
        if trial.downstream:
            by_downstream[trial.downstream] += cost.total
        for name, hours in cost.eval.items():
            by_eval_set[name] += hours
    ordered = lambda found: dict(sorted(found.items(), key=lambda item: -item[1]))  # noqa: E731
    return Breakdown(sum(by_trial.values()), by_trial, ordered(by_kind), ordered(by_downstream), ordered(by_eval_set))


@dataclass(frozen=True)
class Storage:
    """Bytes a sweep keeps: the final weights of every fine-tune (read by interpolations and
    LP-FT, kept), and the resume checkpoint of each fine-tune while it runs (weights and SGD
    momentum, deleted once its weights and results are written)."""

    weights: float
    finetunes: int
    checkpoint_per_running: float


def storage(plan: Plan, model_bytes: dict[str, float]) -> Storage:
    """From the bytes of each model's state dict (fp32; `ribray.models.state_bytes`)."""
    finetunes = [t for t in plan.trials if t.produces_weights]
    distinct = {t.weights_key: model_bytes.get(t.model.name, 0.0) for t in finetunes}
    largest = max((model_bytes.get(t.model.name, 0.0) for t in finetunes), default=0.0)
    return Storage(sum(distinct.values()), len(distinct), 2.0 * largest)


@dataclass(frozen=True)
class GpuPrice:
    """US dollars per GPU-hour, and what they are the price of."""

    usd: float
    what: str


# The GPU workers of the cluster/ configs, one GPU each: on-demand list prices (2024) in the
# configs' regions. Their spot workers usually cost 60-70 % less, and prices change: give yours
# with `--price`.
GPU_PRICES = {
    "g5.2xlarge": GpuPrice(1.212, "AWS g5.2xlarge (1x A10G) on-demand in us-east-1, cluster/aws.yaml's GPU worker"),
    "g2-standard-8": GpuPrice(0.854, "GCP g2-standard-8 (1x L4) on-demand in us-central1, cluster/gcp.yaml's "
                                     "GPU worker"),
}


def gpu_price(text: str) -> GpuPrice:
    """`--price`: dollars per GPU-hour (`2.5`), or the name of an instance type of GPU_PRICES."""
    if text in GPU_PRICES:
        return GPU_PRICES[text]
    try:
        usd = float(text.removeprefix("$"))
    except ValueError:
        usd = float("nan")
    if not usd >= 0 or usd == float("inf"):
        raise RibrayError(f"--price {text}: give dollars per GPU-hour (e.g. 2.5) or one of {', '.join(GPU_PRICES)}")
    return GpuPrice(usd, "the given price")
