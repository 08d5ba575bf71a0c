"""`ribray report`: the paper's robustness tables (RI / mRI, accuracy matrices) from the
results dataset, as CSV, Markdown, PNG heatmaps and one static HTML page.

In a notebook:
    from ribray.results import read_results
    from ribray.report import build_report, mri_grid
    report = build_report(read_results("runs/rib-vit-b16/results"))   # or a pandas DataFrame
    mri_grid(report).to_pandas()
"""

from ribray.report.build import Report, build_report, build_reports
from ribray.report.output import report_json, summary_text, write_report, write_reports
from ribray.report.robustness import Stat, robustness_improvement
from ribray.report.source import run_report
from ribray.report.tables import accuracy_grid, mri_grid, ri_grid

__all__ = ["Report", "Stat", "accuracy_grid", "build_report", "build_reports", "mri_grid",
           "report_json", "ri_grid", "robustness_improvement", "run_report", "summary_text",
           "write_report", "write_reports"]
