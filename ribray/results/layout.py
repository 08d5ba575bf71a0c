"""Where a sweep keeps its pieces, and how a command's TARGET (a spec file, a sweep folder,
its results folder, or an s3:// / gs:// URI of either) finds them. The one owner of the
storage layout; see the README's "Layout of a sweep's storage".

A TARGET is taken for a sweep only when it is one: marked by the file a sweep writes when it
creates its folder, or, for folders of older ribray versions, by what only a sweep's folder
holds. Nothing is guessed from a folder's parent: `ribray prune` of the wrong folder deletes."""

from __future__ import annotations

import json
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.fs as pafs

from ribray.errors import RibrayError
from ribray.storage import Location

if TYPE_CHECKING:
    from ribray.spec import Spec

RESULTS, WEIGHTS, TUNE, REPORT, SCRATCH = "results", "weights", "tune", "report", "scratch"
FAILED = "failed"
MLFLOW_DB, MLFLOW_ARTIFACTS = "mlflow.db", "mlartifacts"
SWEEP_MARKER, LOCK_FILE = "ribray-sweep.json", "sweep.lock"
SHARD_INDEX = "shard-index.json"
TUNE_RUN_PREFIX, TUNE_RUN_STATE = "run-", "tuner.pkl"
RUN_TRIALS_FILE = "ribray-trials.json"  # in each Tune run's folder: the plan ids it was started with
FINISHED_NOTE = "ribray-finished.txt"  # what stays in a finished trial's emptied checkpoint folder
SET_ASIDE = ".set-aside"  # results/.set-aside/, weights/.set-aside/: hidden from readers
SHARD_SUFFIX, WEIGHTS_SUFFIX, FAILED_SUFFIX = ".parquet", ".safetensors", ".txt"
EXPECTED = "expected a spec file, a sweep folder (<storage>/<name>) or its results/ folder"


@dataclass(frozen=True)
class SweepLayout:
    """<storage>/<name>/: results/ (one Parquet shard per trial), weights/ (final weights of
    fine-tunes), tune/ (Ray Tune runs), mlflow.db + mlartifacts/ (the default MLflow store)."""

    root: Location

    @classmethod
    def of(cls, spec: Spec) -> SweepLayout:
        return cls(Location(spec.storage).child(spec.name))

    @property
    def results(self) -> Location:
        return self.root.child(RESULTS)

    @property
    def weights(self) -> Location:
        return self.root.child(WEIGHTS)

    def shard(self, trial_id: str) -> Location:
        """results/<trial_id>.parquet: the trial's shard (see `shard_in`)."""
        return shard_in(self.results, trial_id)

    def weights_file(self, key: str) -> Location:
        """weights/<key>.safetensors: the final weights of the fine-tune with that weights key."""
        return weights_in(self.weights, key)

    @property
    def tune(self) -> Location:
        return self.root.child(TUNE)

    @property
    def marker(self) -> Location:
        """ribray-sweep.json: what makes the folder a sweep's (see `mark`)."""
        return self.root.child(SWEEP_MARKER)

    @property
    def lock(self) -> Location:
        """sweep.lock: who runs a command that writes the folder (`ribray.results.lock`)."""
        return self.root.child(LOCK_FILE)

    def mark(self, sweep: str, experiment: str, spec_hash: str) -> None:
        """Write the marker, when the folder has none: as a sweep starts writing the folder it
        created (or the first folder of an older ribray that a sweep writes again)."""
        if self.read_marker() is not None:
            return
        import ribray

        self.marker.write_bytes(json.dumps({
            "sweep": sweep, "experiment": experiment, "spec_hash": spec_hash,
            "ribray_version": ribray.__version__, "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
            indent=1).encode())

    def read_marker(self) -> dict | None:
        """The marker's fields, or None when there is none (or it is not ribray's)."""
        try:
            found = json.loads(self.marker.read_bytes())
        except (FileNotFoundError, ValueError):  # another OSError: the storage cannot be reached, said as it is
            return None
        return found if isinstance(found, dict) and isinstance(found.get("sweep"), str) else None

    @property
    def shard_index(self) -> Location:
        """shard-index.json: what the start-up checks read in each shard's footer, by the shard's
        size and modification time, so that a re-run reads only shards it has not seen
        (`ribray.results.checks.ShardIndex`); deleting it costs one full scan, nothing else."""
        return self.root.child(SHARD_INDEX)

    @property
    def failed(self) -> Location:
        """failed/<trial_id>.txt: the error of a trial that failed for good (PermanentError) in
        the current run, so that Tune's retries of it stop at once; cleared when a sweep starts."""
        return self.root.child(FAILED)

    def failed_note(self, trial_id: str) -> Location:
        """failed/<trial_id>.txt: the error of that trial, once it failed for good (see `failed`)."""
        return self.failed.child(f"{trial_id}{FAILED_SUFFIX}")

    def failed_notes(self) -> list[Location]:
        """Every note in failed/ (none when the folder is missing)."""
        return [self.failed.child(name) for name in self.failed.list_files(FAILED_SUFFIX)]

    @property
    def scratch(self) -> str:
        """A local folder for temporary files (artifacts before upload); '' off a local disk."""
        return self.root.child(SCRATCH).path if self.root.is_local else ""

    @property
    def default_tracking_uri(self) -> str:
        """The SQLite MLflow store beside the results (only for a local sweep folder)."""
        return default_tracking_uri(self.root.path)


def shard_name(trial_id: str) -> str:
    """The file name of a trial's shard: its trial id, so that "done" is "the shard exists"."""
    return f"{trial_id}{SHARD_SUFFIX}"


def shard_in(results: Location, trial_id: str) -> Location:
    """A trial's shard in a folder of shards (a sweep's results/, or one that a TARGET names)."""
    return results.child(shard_name(trial_id))


def shard_names(results: Location) -> list[str]:
    """The file names of the shards in a folder of shards, sorted (none when it is missing)."""
    return results.list_files(SHARD_SUFFIX)


def shard_infos(results: Location) -> list[tuple[str, pafs.FileInfo]]:
    """(file name, listing entry) of each shard in a folder of shards: their sizes and times."""
    return results.list_file_infos(SHARD_SUFFIX)


def trial_id_of_shard(name: str) -> str:
    """The trial id in a shard's file name (`shard_name`'s inverse)."""
    return name.removesuffix(SHARD_SUFFIX)


def weights_in(weights: Location, key: str) -> Location:
    """The final weights stored under `key` in a weights folder (a sweep's weights/)."""
    return weights.child(f"{key}{WEIGHTS_SUFFIX}")


def set_aside_place(location: Location) -> Location:
    """Where a file set aside goes: the hidden .set-aside/ folder beside it, under its own name."""
    return location.parent.child(SET_ASIDE, location.name)


def tune_trial_folder(kind: str, trial_id: str, tune_id: str) -> str:
    """The folder name of a Tune trial under tune/run-*/: the plan's kind and trial id first."""
    return f"{kind}-{trial_id}-{tune_id}"


def trial_id_of_folder(name: str) -> str | None:
    """The plan trial id in a `tune_trial_folder` name."""
    parts = name.split("-")
    return parts[1] if len(parts) >= 3 else None


def default_tracking_uri(sweep_folder: str) -> str:
    return f"sqlite:///{Path(sweep_folder) / MLFLOW_DB}"


def artifact_root_for(tracking_uri: str) -> str | None:
    """Where a new MLflow experiment keeps its artifacts, never in the current folder's ./mlruns
    (MLflow's default): a SQLite store (a sweep's default one, or one the spec names, also for a
    sweep on S3 / GCS) keeps them in mlartifacts/ beside its file; any other store (a tracking
    server) decides for itself (None)."""
    if tracking_uri.startswith("sqlite:///"):
        return str(Path(tracking_uri.removeprefix("sqlite:///")).parent / MLFLOW_ARTIFACTS)
    return None


def sweep_dir(spec: Spec) -> Location:
    """Where a spec's sweep lives: <storage>/<name>."""
    return SweepLayout.of(spec).root


def sweep_evidence(root: Location) -> str | None:
    """What shows that `root` is a sweep's folder (a name under it), or None. Its marker; or, in
    a folder of an older ribray (which wrote none), strictly one of: a sweep.lock of
    ribray's, a Tune run of ribray (tune/run-*/tuner.pkl), a ribray shard in results/ whose
    `sweep` column names this folder. (mlflow.db, weights/ or report/ alone are no evidence:
    plenty of folders hold such names.)"""
    layout = SweepLayout(root)
    if layout.read_marker() is not None:
        return SWEEP_MARKER
    from ribray.results.lock import lock_holder

    if isinstance((lock_holder(root) or {}).get("pid"), int):
        return LOCK_FILE
    for run in _folders(layout.tune, TUNE_RUN_PREFIX):
        if layout.tune.child(run, TUNE_RUN_STATE).exists():
            return f"{TUNE}/{run}/{TUNE_RUN_STATE}"
    shard = _own_shard(layout)
    return f"{RESULTS}/{shard}" if shard else None


def _folders(location: Location, prefix: str = "", limit: int = 1000) -> list[str]:
    infos = location.fs.get_file_info(pafs.FileSelector(location.path, allow_not_found=True))
    names = sorted(posixpath.basename(i.path) for i in infos if i.type == pafs.FileType.Directory)
    return [n for n in names if n.startswith(prefix)][:limit]


def _own_shard(layout: SweepLayout, tries: int = 3) -> str | None:
    """A shard in results/ that is ribray's and names this sweep folder in its `sweep` column."""
    import pyarrow.parquet as pq

    from ribray.results.checks import shard_problem

    for name in shard_names(layout.results)[:tries]:
        shard = layout.results.child(name)
        if shard_problem(shard) is not None:
            continue
        try:
            column = pq.read_table(shard.path, filesystem=shard.fs, columns=["sweep"]).column(0)
        except (OSError, KeyError, ValueError):  # no sweep column: a foreign table
            continue
        if len(column) and column[0].as_py() == layout.root.name:
            return name
    return None


@dataclass(frozen=True)
class SweepTarget:
    """What a TARGET names: the sweep's layout, its results folder, its MLflow store, and the
    spec when a spec file was given (reports then count exactly its plan's trials)."""

    sweep: str
    layout: SweepLayout
    results: Location
    tracking_uri: str
    experiment: str
    spec: Spec | None = None


def resolve_target(target: str, overrides: tuple = ()) -> SweepTarget:
    """A spec file (its sweep folder, with its storage and MLflow settings); or a sweep folder,
    or the results/ folder of one, local or in an object store, with MLflow's defaults (the
    SQLite store of a local sweep folder). Anything else is refused, naming what was expected.
    `overrides` (ribray.spec.overrides) apply to a spec file."""
    if "://" not in target and Path(target).is_file():
        return _from_spec(target, overrides)
    location = Location(target if "://" in target else str(Path(target).resolve()))
    if location.is_local and not Path(location.path).is_dir():
        what = "is neither a spec file nor a folder" if Path(location.path).exists() else "not found"
        raise RibrayError(f"{target}: {what} ({EXPECTED})")
    if sweep_evidence(location):
        return _of_folder(location, location.child(RESULTS))
    if location.name == RESULTS and sweep_evidence(location.parent):
        return _of_folder(location.parent, location)
    raise RibrayError(_not_a_sweep(location))


def _of_folder(root: Location, results: Location) -> SweepTarget:
    marker = SweepLayout(root).read_marker() or {}
    name = root.name
    uri = default_tracking_uri(root.path) if root.is_local else ""
    return SweepTarget(name, SweepLayout(root), results, uri, marker.get("experiment") or name)


def _from_spec(path: str, overrides: tuple = ()) -> SweepTarget:
    from ribray.spec import load_spec

    spec = load_spec(path, overrides)
    layout = SweepLayout.of(spec)
    if not sweep_evidence(layout.root):
        held = "it does not exist" if not layout.root.exists() else f"it holds no {SWEEP_MARKER}"
        raise RibrayError(f"no sweep has run yet at {layout.root.uri} (the folder of {path}'s sweep: {held}); "
                          f"`ribray sweep {path}` makes it")
    uri = spec.mlflow.tracking_uri or (layout.default_tracking_uri if layout.root.is_local else "")
    return SweepTarget(spec.name, layout, layout.results, uri, spec.mlflow.experiment or spec.name, spec)


def _not_a_sweep(location: Location) -> str:
    """Why `location` is refused as a TARGET, and where the sweep folder nearest to it is."""
    message = (f"{location.uri} is not a sweep folder: it holds no {SWEEP_MARKER} (which ribray writes in "
               f"every sweep folder it makes), nor what an older ribray's sweep folder holds (results/ with its "
               f"shards, tune/run-*/, sweep.lock); {EXPECTED}")
    enclosing = _enclosing_sweep(location)
    if enclosing is not None:
        return f"{message}. It is inside the sweep folder {enclosing.uri}: give that folder"
    within = [name for name in _folders(location, limit=50) if sweep_evidence(location.child(name))]
    if within:
        return f"{message}. It holds the sweep folder(s) {', '.join(within[:10])}: give one of them"
    return message


def _enclosing_sweep(location: Location, levels: int = 8) -> Location | None:
    for _ in range(levels):
        parent = location.parent
        if parent.path.strip("/") in ("", location.path.strip("/")) or "/" not in location.path.strip("/"):
            return None  # the file system's root, or an object store's bucket
        if sweep_evidence(parent):
            return parent
        location = parent
    return None
