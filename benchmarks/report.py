"""The benchmark's outputs: a printed table, results.json, and a throughput table in the
format `ribray plan --throughput FILE` reads (ribray/throughput.json)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.jpeg_files import LARGE, SMALL
from benchmarks.results import Check, Section

IMAGENET_C_SHARE = 0.93  # of all evaluation images (DESIGN.md, "Sizes"): 224x224 JPEGs


def _value(check: Check) -> str:
    if check.value is None:
        return "-"
    return f"{check.value:.2f}" + ("" if check.name.endswith("(s)") else "x")


def _verdict(check: Check) -> str:
    if check.value is None:
        return "not run"
    return {True: "pass", False: "FAIL", None: "info"}[check.passed]


def table(sections: list[Section], device: str, device_type: str, quick: bool) -> str:
    """One line per check: name, value, target, verdict; then the raw images/s."""
    title = f"ribray benchmark on {device} ({'quick' if quick else 'full'} sizes)"
    lines = [title, "=" * len(title)]
    if device_type != "cuda":
        lines.append("device is a CPU: the train/eval ratios are NOT meaningful (only their code "
                     "paths ran); the Ray overhead and makespan rows are")
    width = max((len(c.name) for s in sections for c in s.checks), default=10)
    lines.append(f"{'check':<{width}}  {'value':>8}  {'target':>8}  result")
    for section in sections:
        for check in section.checks:
            target = "-" if check.target is None else \
                f"{'>=' if check.at_least else '<='} {check.target:g}"
            line = f"{check.name:<{width}}  {_value(check):>8}  {target:>8}  {_verdict(check)}"
            lines.append(line + (f"  ({check.note})" if check.note else ""))
    lines += ["", "images/s:"] + [f"  {name}: {text}" for name, text in _rates(sections)]
    lines += _engine_times(sections)
    return "\n".join(lines)


def _engine_times(sections: list[Section]) -> list[str]:
    """The engine measurement's seconds per operation at each plan size, and its growth."""
    engine = next((s.numbers for s in sections if s.name == "engine"), None)
    if engine is None:
        return []
    plans = engine["plans"]
    header = f"  {'operation':<20}" + "".join(f"{p['trials']:>10,}" for p in plans) + "  exponent"
    lines = ["", "engine seconds by trials in the plan:", header]
    for name, value in engine["exponents"].items():
        lines.append(f"  {name:<20}" + "".join(f"{p['seconds'][name]:>10.3f}" for p in plans)
                     + f"  {'-' if value is None else f'{value:.2f}':>8}")
    return lines


def _rates(sections: list[Section]) -> list[tuple[str, str]]:
    """Every images/s number, flattened for printing."""
    found = []

    def walk(prefix: str, numbers: dict) -> None:
        for key, value in numbers.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key} ", value)
            elif key.endswith("images_per_s"):
                found.append((f"{prefix}{key.removesuffix('_images_per_s')}", f"{value:,.0f}"))

    for section in sections:
        walk(f"{section.name} ", section.numbers)
    return found


def throughput_table(sections: list[Section], device: str, model: str) -> dict:
    """{"device", "default": {"train", "eval"}, "models": {model: ...}} from the measured
    rates: ribray's eager training loop, and its evaluation mixed as a full evaluation is
    (93% ImageNet-C-sized JPEGs, the rest ImageNet-sized)."""
    by_name = {s.name: s.numbers for s in sections}
    if "train" not in by_name or "eval" not in by_name:
        raise ValueError("the throughput table needs the train and eval measurements")
    sets = by_name["eval"]["sets"]
    small, large = (sets[k.name]["ribray_images_per_s"] for k in (SMALL, LARGE))
    evaluation = 1.0 / (IMAGENET_C_SHARE / small + (1.0 - IMAGENET_C_SHARE) / large)
    rates = {"train": round(by_name["train"]["ribray_eager_images_per_s"], 1),
             "eval": round(evaluation, 1)}
    return {"device": device, "default": rates, "models": {model: dict(rates)}}


def write_json(path: str | Path, payload: dict) -> None:
    Path(path).write_text(json.dumps(payload, indent=2, default=str) + "\n")
