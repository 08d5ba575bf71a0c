"""Where a sweep keeps its pieces, and how a command's TARGET (a spec file, a sweep folder,
a results folder, or an s3:// / gs:// URI of either) finds them. The one owner of the
storage layout; see the README's "Layout of a sweep's storage"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ribray.errors import RibrayError
from ribray.storage import Location

RESULTS, WEIGHTS, TUNE, REPORT, SCRATCH = "results", "weights", "tune", "report", "scratch"
FAILED = "failed"
MLFLOW_DB, MLFLOW_ARTIFACTS = "mlflow.db", "mlartifacts"


@dataclass(frozen=True)
class SweepLayout:
    """<storage>/<name>/: results/ (one Parquet shard per trial), weights/ (final weights of
    fine-tunes), tune/ (Ray Tune runs), mlflow.db + mlartifacts/ (the default MLflow store)."""

    root: Location

    @classmethod
    def of(cls, spec) -> SweepLayout:
        return cls(Location(spec.storage).child(spec.name))

    @property
    def results(self) -> Location:
        return self.root.child(RESULTS)

    @property
    def weights(self) -> Location:
        return self.root.child(WEIGHTS)

    @property
    def tune(self) -> Location:
        return self.root.child(TUNE)

    @property
    def failed(self) -> Location:
        """failed/<trial_id>.txt: the error of a trial that failed for good (PermanentError) in
        the current run, so that Tune's retries of it stop at once; cleared when a sweep starts."""
        return self.root.child(FAILED)

    @property
    def scratch(self) -> str:
        """A local folder for temporary files (artifacts before upload); '' off a local disk."""
        return self.root.child(SCRATCH).path if self.root.is_local else ""

    @property
    def default_tracking_uri(self) -> str:
        """The SQLite MLflow store beside the results (only for a local sweep folder)."""
        return default_tracking_uri(self.root.path)

    @property
    def artifact_root(self) -> str | None:
        return f"{self.root.path}/{MLFLOW_ARTIFACTS}" if self.root.is_local else None


def tune_trial_folder(kind: str, trial_id: str, tune_id: str) -> str:
    """The folder name of a Tune trial under tune/run-*/: the plan's kind and trial id first."""
    return f"{kind}-{trial_id}-{tune_id}"


def trial_id_of_folder(name: str) -> str | None:
    """The plan trial id in a `tune_trial_folder` name."""
    parts = name.split("-")
    return parts[1] if len(parts) >= 3 else None


def default_tracking_uri(sweep_folder: str) -> str:
    return f"sqlite:///{Path(sweep_folder) / MLFLOW_DB}"


def sweep_dir(spec) -> Location:
    """Where a spec's sweep lives: <storage>/<name>."""
    return SweepLayout.of(spec).root


@dataclass(frozen=True)
class SweepTarget:
    """What a TARGET names: the sweep's layout, its results folder, its MLflow store, and the
    spec when a spec file was given (reports then count exactly its plan's trials)."""

    sweep: str
    layout: SweepLayout
    results: Location
    tracking_uri: str
    experiment: str
    spec: object | None = None


def resolve_target(target: str) -> SweepTarget:
    """A spec file (its storage and MLflow settings); or a sweep folder (holding results/) or
    a results folder, local or in an object store, with MLflow's defaults (the SQLite store
    of a local sweep folder)."""
    if "://" not in target and Path(target).is_file():
        return _from_spec(target)
    location = Location(target if "://" in target else str(Path(target).resolve()))
    if location.is_local and not Path(location.path).is_dir():
        what = "is neither a spec file nor a folder" if Path(location.path).exists() else "not found"
        raise RibrayError(f"results folder {what}: {target}")
    is_sweep = not location.list_files(".parquet") and location.child(RESULTS).exists()
    root, results = (location, location.child(RESULTS)) if is_sweep else (_parent(location), location)
    name = root.name
    uri = default_tracking_uri(root.path) if root.is_local else ""
    return SweepTarget(name, SweepLayout(root), results, uri, name)


def _from_spec(path: str) -> SweepTarget:
    from ribray.spec import load_spec

    spec = load_spec(path)
    layout = SweepLayout.of(spec)
    uri = spec.mlflow.tracking_uri or (layout.default_tracking_uri if layout.root.is_local else "")
    return SweepTarget(spec.name, layout, layout.results, uri, spec.mlflow.experiment or spec.name, spec)


def _parent(location: Location) -> Location:
    return location.parent
