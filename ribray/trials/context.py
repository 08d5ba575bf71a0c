"""What a trial reads besides its own typed parameters: the sweep's settings, resolved once in
the driver (Tune changes the working directory), and its own MLflow run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ribray.errors import PermanentError
from ribray.options import EvalOptions
from ribray.results.layout import SweepLayout
from ribray.results.tracking import TrackingInfo, TrialRun
from ribray.storage import Location


@dataclass(frozen=True)
class SweepContext:
    """Absolute locations and settings of the sweep, the same for every trial."""

    sweep: str
    spec_hash: str
    sweep_dir: str  # local path or s3:// / gs:// URI
    data_root: str
    data_folders: dict[str, str] = field(default_factory=dict)
    eval: EvalOptions = EvalOptions()
    tracking: TrackingInfo | None = None
    scratch: str = ""  # a local folder for temporary files (artifacts before upload)
    data_fingerprints: dict[str, str] = field(default_factory=dict)  # dataset -> data.fingerprint()
    generated: frozenset[str] = frozenset()  # datasets whose folder `ribray data fake` wrote
    plugins: tuple = ()  # the spec's plugins (ribray.plugins.Plugin), their code captured by the driver
    declared: dict = field(default_factory=dict)  # origin -> declaration (the spec's datasets:)

    def activate(self) -> None:
        """Make the sweep's plugins and declared datasets this worker's, before a trial is read
        (an older run's pickled context has neither)."""
        from ribray.plugins import activate

        activate(getattr(self, "plugins", ()), getattr(self, "declared", {}), in_worker=True)

    def fingerprint(self, dataset: str | None) -> str | None:
        """The dataset's fingerprint as the driver took it (None: not taken, e.g. a run
        restored from ribray 0.1, whose pickled context has none)."""
        return getattr(self, "data_fingerprints", {}).get(dataset) if dataset else None

    def is_generated(self, dataset: str | None) -> bool | None:
        """Whether the dataset's folder holds generated images (None: no dataset, or not
        recorded: a run restored from an older ribray, whose pickled context has no such field)."""
        if not dataset or not hasattr(self, "generated"):
            return None
        return dataset in self.generated

    def check_unchanged(self, datasets: Iterable[str | None]) -> None:
        """A PermanentError when a dataset's folder no longer has the fingerprint the driver
        took at the sweep's start (an image deleted or added while the trial read it): the
        trial's rows would claim data they were not computed on."""
        from ribray.data.fingerprint import fingerprints
        from ribray.results.checks import listed_files

        taken = {d: self.fingerprint(d) for d in sorted({d for d in datasets if d})}
        taken = {d: f for d, f in taken.items() if f}
        now = fingerprints({d: self.dataset_folder(d) for d in taken}) if taken else {}
        changed = [f"{d} at {self.dataset_folder(d)}: {listed_files(taken[d])} at the sweep's start, "
                   f"{listed_files(now[d])} after this trial read it" for d in taken if now[d] != taken[d]]
        if changed:
            raise PermanentError(f"data changed while the sweep ran ({'; '.join(changed)}), so this trial's rows "
                                 "would claim data they were not computed on; once the data is settled, "
                                 "`ribray sweep SPEC --rerun-changed-data` runs again every trial of the old data")

    @property
    def layout(self) -> SweepLayout:
        return SweepLayout(Location(self.sweep_dir))

    @property
    def results(self) -> Location:
        return self.layout.results

    @property
    def weights(self) -> Location:
        return self.layout.weights

    def dataset_folder(self, name: str) -> Path:
        """Where a dataset lives: its folder override, else the registry's default under root."""
        from ribray.data import dataset_folder

        return dataset_folder(self.data_root, name, self.data_folders)


def worker_count(setting: int | str) -> int:
    """Decoding worker processes: the setting, or for "auto" the CPUs Ray gave this trial
    (all of this machine's outside Ray)."""
    if setting != "auto":
        return int(setting)
    import os

    import ray

    if ray.is_initialized():
        assigned = ray.get_runtime_context().get_assigned_resources().get("CPU")
        if assigned:
            return max(1, int(assigned))
    return os.cpu_count() or 1


@dataclass
class TrialContext:
    """A running trial's handle on the sweep: its settings and the trial's MLflow run (every
    call guarded)."""

    sweep: SweepContext
    run_log: TrialRun
    plugins: dict[str, str] = field(default_factory=dict)  # plugin -> code identity its results depend on

    @property
    def device(self):
        """The GPU Ray assigned to this trial, else the CPU."""
        import torch

        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
