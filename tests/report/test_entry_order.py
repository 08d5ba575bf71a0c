"""Where rows and columns stand comes from the entries' own `rib` and `order`: a plugin's dataset
and method land where theirs say, beside the paper's eight sets and seven methods in the paper's
order."""

from __future__ import annotations

from pathlib import Path

from ribray.plugins import activate, resolve
from ribray.report import build_report
from ribray.report.tables import mri_grid, ri_grid
from ribray.results import read_results, write_shard
from ribray.storage import Location

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "ordered"
MODEL = "vit_base_patch16_224.augreg_in1k"
RIB = ["imagenet_sketch", "between_ood", "imagenet_r", "imagenet_v2"]  # written out of order on purpose
EVAL_SETS = ["imagenet_val", *RIB]


def _write(folder: Path, method: str, kind: str, downstream: str | None, top1: float) -> None:
    trial_id = f"{method}-{downstream}"
    rows = [{"trial_id": trial_id, "sweep": "rib", "spec_hash": "s", "kind": kind, "model": MODEL,
             "method": method, "downstream": downstream, "seed": None if downstream is None else 0,
             "train_subset": None if downstream is None else "all", "epoch": 10, "final": True,
             "eval_set": s, "rib": s in RIB, "top1": top1 + 10.0 * (s == downstream)} for s in EVAL_SETS]
    write_shard(Location(str(folder)), trial_id, rows)


def test_a_plugins_rib_set_and_method_stand_where_their_order_says(tmp_path, no_plugins):
    activate([resolve(str(PLUGIN))])
    _write(tmp_path, "pretrained", "pretrained", None, 50.0)
    for method, top1 in (("lwf", 51.0), ("lp", 52.0), ("between_ft", 53.0), ("ft", 54.0)):
        for downstream in RIB:
            _write(tmp_path, method, "finetune", downstream, top1)
    report = build_report(read_results(str(tmp_path)))

    paper_order = ("imagenet_v2", "imagenet_r", "between_ood", "imagenet_sketch")
    assert report.scope.rib_sets == paper_order and report.scope.n == 4
    assert report.scope.eval_sets == ("imagenet_val", *paper_order)
    assert report.scope.methods == ("ft", "between_ft", "lp", "lwf")
    assert mri_grid(report).rows == ("ft", "between_ft", "lp", "lwf")  # the mRI table's rows
    ri = ri_grid(report, MODEL)  # one model's RI table: a row per method, a column per set fine-tuned on
    assert (ri.rows, ri.columns[:4]) == (("ft", "between_ft", "lp", "lwf"), paper_order)
    assert any("between_ood is not one of the paper's eight" in note for note in report.notes)
