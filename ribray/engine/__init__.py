"""The engine: turns a plan into Ray Tune trials (`run_sweep`), hands them out as their
dependencies finish (`PlanSearcher`) and shows progress. Imports Ray; the CLI loads it only
for the commands that run trials."""

from ribray.engine.sweep import SweepSummary, run_sweep

__all__ = ["SweepSummary", "run_sweep"]
