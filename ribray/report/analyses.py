"""The paper's analyses in the report: learning curves, CKA per layer, OTDD between sets. Each is
a section builder that its trial kind names (`Trial.sections`), called with that kind's rows."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ribray.data import short_name
from ribray.models.paper import paper_name
from ribray.options import PRETRAINED
from ribray.report.build import Report
from ribray.report.figures import save_figure
from ribray.report.robustness import Stat
from ribray.report.sections import Section
from ribray.report.tables import Grid, set_labels, slug


@dataclass
class CurvePlot:
    """Top-1 against epochs trained, one panel per downstream set, one line per eval set."""

    stem: str
    title: str
    points: dict[str, dict[str, dict[int, list[float]]]]  # downstream -> eval set -> epoch -> values

    def draw(self, path: Path) -> Path:
        from matplotlib.figure import Figure

        panels = sorted(self.points)
        columns = min(4, len(panels))
        rows = math.ceil(len(panels) / columns)
        figure = Figure(figsize=(3.4 * columns, 2.8 * rows + 0.6), dpi=120, layout="constrained")
        for index, downstream in enumerate(panels):
            axes = figure.add_subplot(rows, columns, index + 1)
            for eval_set, by_epoch in sorted(self.points[downstream].items()):
                epochs = sorted(by_epoch)
                means = [sum(by_epoch[e]) / len(by_epoch[e]) for e in epochs]
                style = "-" if eval_set == downstream else "--"
                axes.plot(epochs, means, style, marker="o", markersize=3, label=short_name(eval_set))
            axes.set_title(f"fine-tuned on {short_name(downstream)}", fontsize=9)
            axes.set_xlabel("epoch")
            axes.set_ylabel("top-1 (%)")
            axes.legend(fontsize=6)
        figure.suptitle(self.title, fontsize=10)
        return save_figure(figure, path)


def curve_sections(report: Report, rows: list[dict]) -> list[Section]:
    """Per (model, method): accuracy after every epoch (solid: the downstream set itself), from
    the fine-tunes' learning-curve points."""
    points: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    for row in rows:
        if row.get("top1") is not None:
            key = (row["model"], row["method"])
            points[key][row["downstream"]][row["eval_set"]][row["epoch"]].append(row["top1"])
    plots = [CurvePlot(f"curves/{slug(model)}/{slug(method)}", f"{paper_name(model)} / {method}: accuracy during fine-tuning",
                       _plain(points[(model, method)])) for model, method in sorted(points)]
    return [Section("Learning curves", plots=plots, detail=True)] if plots else []


def _plain(nested):
    """Nested defaultdicts as plain dicts (a plot travels to a drawing process by pickle)."""
    return {key: _plain(value) for key, value in nested.items()} if isinstance(nested, dict) else nested


def cka_sections(report: Report, rows: list[dict]) -> list[Section]:
    """Per (model, method): CKA to the pretrained model, layers x downstream sets."""
    values: dict = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        values[(row["model"], row["method"])][(row["layer"], row["downstream"])][row["seed"]] = row["value"]
    grids = []
    for (model, method), cells in sorted(values.items()):
        layers = tuple(sorted({layer for layer, _ in cells}, key=_layer_order))
        sets = tuple(d for d in report.scope.downstream if any(c[1] == d for c in cells)) or \
            tuple(sorted({d for _, d in cells}))
        grids.append(Grid(stem=f"cka/{slug(model)}/{slug(method)}", title=f"CKA to the pretrained model: {paper_name(model)} / {method}",
                          corner="layer", rows=layers, columns=sets, column_title="fine-tuned on",
                          cells={k: Stat.of(v) for k, v in cells.items()}, unit="linear CKA",
                          labels=set_labels(sets), short=f"{paper_name(model)} / {method}"))
    return [Section("CKA between pretrained and fine-tuned representations", grids=grids, detail=True)] if grids else []


def otdd_sections(report: Report, rows: list[dict]) -> list[Section]:
    """Per model: the OTDD matrix between downstream sets (symmetric, 0 on the diagonal)."""
    values: dict = defaultdict(dict)
    for row in rows:
        values[row["model"]][(row["downstream"], row["eval_set"])] = row["value"]
    grids = []
    for model, pairs in sorted(values.items()):
        sets = tuple(dict.fromkeys(s for pair in pairs for s in pair))
        cells = {(a, b): Stat.of({None: 0.0 if a == b else pairs.get((a, b), pairs.get((b, a), math.nan))})
                 for a in sets for b in sets}
        grids.append(Grid(stem=f"otdd/{slug(model)}", title=f"OTDD between downstream sets ({paper_name(model)} features)",
                          corner="set", rows=sets, columns=sets, column_title="set", cells=cells,
                          unit="OTDD", labels=set_labels(sets), short=paper_name(model)))
    text = [line for model, pairs in sorted(values.items()) for line in _drop_correlation(report, model, pairs)]
    return [Section("Dataset distances (OTDD)", grids=grids, text=text)] if grids else []


def _drop_correlation(report: Report, model: str, pairs: dict, reference: str = "imagenet_val") -> list[str]:
    """Pearson r, over the downstream sets, between a set's OTDD to ImageNet-1K val and the
    drop in ImageNet-1K val accuracy after fine-tuning on it, per method."""
    pretrained = report.pretrained.get(model, {}).get(reference)
    if pretrained is None or not pretrained.complete:
        return []
    lines = []
    for method in report.scope.methods:
        xs, ys = [], []
        for downstream in report.scope.downstream:
            distance = pairs.get((downstream, reference))
            tuned = report.accuracy.get((model, method, downstream), {}).get(reference)
            if distance is not None and tuned is not None and tuned.complete:
                xs.append(distance)
                ys.append(pretrained.mean - tuned.mean)
        if len(xs) >= 3:
            lines.append(f"{model} / {method}: Pearson r = {_pearson(xs, ys):.2f} between OTDD to "
                         f"{reference} and the {reference} accuracy drop, over {len(xs)} downstream sets")
    return lines


def _pearson(xs: list[float], ys: list[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    spread = math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))
    return cov / spread if spread else math.nan


def _layer_order(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in name.split("."))


def subset_order(label: str) -> tuple:
    """shots=1 < shots=2 < ... < fraction=0.1 < ... < all."""
    kind, _, value = label.partition("=")
    return {"shots": 0, "fraction": 1}.get(kind, 2), float(value or 0)


def images_per_class(train_subset: str, downstream: tuple[str, ...]) -> float | None:
    """The fine-tuning set's size as images per class: K for K shots, the fraction of the real
    set's mean class size, or its whole mean class size; None over several downstream sets."""
    from ribray.data import DATASETS

    if len(downstream) != 1 or downstream[0] not in DATASETS:
        return None
    entry = DATASETS.get(downstream[0])
    kind, _, value = train_subset.partition("=")
    if kind == "shots":
        return float(value)
    per_class = entry.expected_images / entry.num_classes
    return per_class * (float(value) if kind == "fraction" else 1.0)


@dataclass
class SizePlot:
    """The paper's dataset-size figure: against the fine-tuning set's size (images per class,
    log scale), the mean accuracy on the ImageNet-RIB sets (robustness) and on ImageNet-1K val,
    with the pretrained model's level as a dashed line; and RI (mRI). One line per model and
    method."""

    stem: str
    title: str
    reports: list[Report]

    def rows(self) -> list[dict]:
        found = []
        for report in sorted(self.reports, key=lambda r: subset_order(r.scope.train_subset)):
            scope = report.scope
            for (model, method), mri in report.mri.items():
                imagenet = report.imagenet_accuracy.get((model, method))
                absolute = report.absolute.get((model, method))
                found.append({"model": model, "method": method, "train_subset": scope.train_subset,
                              "images_per_class": images_per_class(scope.train_subset, scope.downstream),
                              "ood_accuracy": absolute.mean if absolute else math.nan, "mri": mri.mean,
                              "imagenet_val": imagenet.mean if imagenet else math.nan})
        return found

    def pretrained(self) -> dict[str, dict[str, float]]:
        """model -> the pretrained model's mean OOD and ImageNet-1K val accuracy."""
        levels: dict[str, dict[str, float]] = {}
        for report in self.reports:
            for (model, method), stat in report.absolute.items():
                if method == PRETRAINED and stat.complete:
                    imagenet = report.imagenet_accuracy.get((model, PRETRAINED))
                    levels[model] = {"ood_accuracy": stat.mean, "mri": 0.0,
                                     "imagenet_val": imagenet.mean if imagenet else math.nan}
        return levels

    def draw(self, path: Path) -> Path:
        from matplotlib.figure import Figure

        rows = self.rows()
        numeric = all(r["images_per_class"] for r in rows)
        labels = list(dict.fromkeys(r["train_subset"] for r in rows))
        panels = (("ood_accuracy", "mean accuracy on the ImageNet-RIB sets (%)"),
                  ("imagenet_val", "ImageNet-1K val top-1 (%)"), ("mri", "RI, mean over downstream sets (pp)"))
        figure = Figure(figsize=(13, 3.8), dpi=120, layout="constrained")
        for index, (key, name) in enumerate(panels):
            axes = figure.add_subplot(1, len(panels), index + 1)
            for (model, method), colour in zip(dict.fromkeys((r["model"], r["method"]) for r in rows),
                                               _COLOURS, strict=False):
                line = [r for r in rows if (r["model"], r["method"]) == (model, method)]
                xs = [r["images_per_class"] if numeric else labels.index(r["train_subset"]) for r in line]
                axes.plot(xs, [r[key] for r in line], marker="o", color=colour, label=f"{paper_name(model)} / {method}")
                level = self.pretrained().get(model, {}).get(key)
                if level is not None and not math.isnan(level):
                    axes.axhline(level, color=colour, linestyle="--", linewidth=0.8)
            if numeric:
                axes.set_xscale("log")
                axes.set_xlabel("fine-tuning images per class (log)")
            else:
                axes.set_xticks(range(len(labels)), labels=labels, rotation=30, ha="right")
                axes.set_xlabel("fine-tuning set")
            axes.set_ylabel(name)
            axes.legend(fontsize=6, title="dashed: before fine-tuning", title_fontsize=6)
        figure.suptitle(self.title, fontsize=10)
        return save_figure(figure, path)


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")
