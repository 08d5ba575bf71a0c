"""What the driver resolves once and every trial reads: paths, tracking, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ribray.config import EvalConfig
from ribray.storage import Location
from ribray.tracking import TrackingInfo


@dataclass(frozen=True)
class SweepContext:
    """Absolute locations and settings, resolved in the driver (Tune changes the cwd)."""

    sweep: str
    spec_hash: str
    sweep_dir: str  # local path or s3:// / gs:// URI
    data_root: str
    data_folders: dict[str, str] = field(default_factory=dict)
    eval: EvalConfig = EvalConfig()
    tracking: TrackingInfo | None = None
    scratch: str = ""  # a local folder for temporary files (artifacts before upload)
    fault: dict[str, str] | None = None  # ribray's own fault tests (ribray.faults)

    @property
    def root(self) -> Location:
        return Location(self.sweep_dir)

    @property
    def results(self) -> Location:
        return self.root.child("results")

    @property
    def weights(self) -> Location:
        return self.root.child("weights")

    def dataset_folder(self, name: str) -> Path:
        """Where a dataset lives: its folder override, else the registry's default under root."""
        from ribray.data import get_dataset

        if name in self.data_folders:
            return Path(self.data_folders[name])
        return get_dataset(name).path(Path(self.data_root))
