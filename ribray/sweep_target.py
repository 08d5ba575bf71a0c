"""Commands that take "a spec or a sweep folder" find the sweep's pieces the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ribray.errors import RibrayError
from ribray.storage import Location
from ribray.tracking import default_tracking_uri


@dataclass(frozen=True)
class SweepTarget:
    sweep: str
    sweep_dir: Location
    tracking_uri: str
    experiment: str

    @property
    def results(self) -> Location:
        return self.sweep_dir.child("results")


def sweep_dir(spec) -> Location:
    """Where a spec's sweep lives: <storage>/<name>."""
    return Location(spec.storage).child(spec.name)


def resolve_target(target: str) -> SweepTarget:
    """A spec file (its storage and MLflow settings) or a local sweep folder (defaults)."""
    path = Path(target)
    if path.is_file():
        from ribray.spec import load_spec

        spec = load_spec(path)
        root = sweep_dir(spec)
        uri = spec.mlflow.tracking_uri or default_tracking_uri(root.path)
        return SweepTarget(spec.name, root, uri, spec.mlflow.experiment or spec.name)
    folder = path.resolve()
    if folder.name == "results":
        folder = folder.parent
    if not (folder / "results").is_dir():
        raise RibrayError(f"{target} is neither a spec file nor a sweep folder (no results/ inside)")
    return SweepTarget(folder.name, Location(str(folder)), default_tracking_uri(str(folder)), folder.name)
