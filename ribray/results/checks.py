"""Before a sweep trusts its finished shards: each must be a whole ribray shard, and must have
been computed on the data the spec names now. A shard that fails either is set aside (moved,
never deleted) and its trial runs again, or the sweep refuses and says why."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ribray.errors import RibrayError, first_line
from ribray.results.identity import ShardIdentity
from ribray.results.layout import set_aside_place, shard_infos, trial_id_of_shard
from ribray.storage import Location

# Columns every ribray version has written: a Parquet file without them is not a shard
REQUIRED_COLUMNS = ("trial_id", "kind", "model", "method", "eval_set", "top1", "final")
SCAN_THREADS = 16  # footers read at once from an object store (latency-bound); a local disk: one


def shard_problem(location: Location) -> str | None:
    """Why `location` is not a readable ribray shard (its footer only: fast, also in S3), or None."""
    return _scan(location, identity=False)[0]


def footer_problem(metadata: pq.FileMetaData) -> str | None:
    """Why a Parquet file with this footer is not a whole ribray shard, or None."""
    names = set(metadata.schema.names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        return f"not ribray results: no column {', '.join(missing)}"
    if metadata.num_rows == 0:
        return "holds no rows"
    return None


def _scan(location: Location, identity: bool = True) -> tuple[str | None, ShardIdentity | None]:
    """(why the shard is not whole, or None; what it was computed from, if `identity`): one open."""
    try:
        with location.fs.open_input_file(location.path) as handle:
            parquet = pq.ParquetFile(handle)
            problem = footer_problem(parquet.metadata)
            if problem is not None or not identity:
                return problem, None
            return None, ShardIdentity.of_file(parquet)
    except Exception as error:  # noqa: BLE001 - pyarrow's errors for truncated or foreign files vary
        return f"not a complete Parquet file ({first_line(error)})", None


def set_aside(location: Location) -> Location:
    """Move a file into the hidden .set-aside/ folder beside it; returns where it went."""
    target = set_aside_place(location)
    target.write_bytes(location.read_bytes())
    location.delete()
    return target


def verified_done(results: Location, echo=print, index: Location | None = None) -> dict[str, ShardIdentity | None]:
    """{trial id: what its shard was computed from} of the trials whose shard is whole, from one
    read of each shard's footer (on an object store, in parallel threads: there each read waits on
    the network; on a local disk they would only contend for the GIL); a broken shard is set
    aside (and said so), and its trial counts as not done. With `index` (the sweep's
    shard-index.json), only the shards it has not seen at their size and time are read."""
    whole, broken = ShardIndex(index, echo).scan(results)
    for name, problem in broken.items():
        shard = results.child(name)
        moved = set_aside(shard)
        echo(f"warning: {shard.uri}: {problem}; moved to {moved.uri}, its trial runs again")
    return {trial_id_of_shard(name): identity for name, identity in whole.items()}


class ShardIndex:
    """What a footer scan learnt of each whole shard (its identity), kept in a JSON file by the
    shard's name, size and modification time as the listing gives them: a shard rewritten since
    has another time (or size), and is read again; one without a listed time is always read. The
    identities are few (one per data and plugin state), so the file keeps each once. A missing,
    foreign or unreadable file is an empty index: the cost is one full scan, never a wrong result."""

    VERSION = 1

    def __init__(self, location: Location | None, echo=print):
        self.location, self.echo = location, echo

    def scan(self, results: Location) -> tuple[dict[str, ShardIdentity | None], dict[str, str]]:
        """({shard file name: identity} of the whole shards, {name: why not whole} of the others):
        the index's answer where it has seen a shard as it is now, a footer read for the rest; the
        index is rewritten when the answer differs from what it held."""
        stamps = {name: _stamp(info) for name, info in shard_infos(results)}
        known = self._load()
        fresh = [name for name, stamp in stamps.items() if stamp is None or known.get(name, (None,))[0] != stamp]
        with ThreadPoolExecutor(max_workers=1 if results.is_local else SCAN_THREADS) as pool:
            scans = dict(zip(fresh, pool.map(lambda name: _scan(results.child(name)), fresh), strict=True))
        whole, broken, entries = {}, {}, {}
        for name, stamp in stamps.items():
            problem, identity = scans[name] if name in scans else (None, known[name][1])
            if problem is not None:
                broken[name] = problem
                continue
            whole[name] = identity
            if stamp is not None:
                entries[name] = (stamp, identity)
        if entries != known:
            self._save(entries)
        return whole, broken

    def _load(self) -> dict[str, tuple[list[int], ShardIdentity | None]]:
        if self.location is None:
            return {}
        try:
            found = json.loads(self.location.read_bytes())
            if found.get("version") != self.VERSION:
                return {}
            identities = [None if i is None else ShardIdentity(i["evaluated"], i["trained"], i["plugins"])
                          for i in found["identities"]]
            return {name: (stamp, identities[at] if at is not None else None)
                    for name, (stamp, at) in found["shards"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return {}  # none yet, or not this version's: read every footer once

    def _save(self, entries: dict[str, tuple[list[int], ShardIdentity | None]]) -> None:
        if self.location is None:
            return
        identities: dict[str, int] = {}  # an identity's JSON -> its place in the file's list
        shards = {}
        for name, (stamp, identity) in entries.items():
            key = None if identity is None else json.dumps(vars(identity), sort_keys=True)
            shards[name] = [stamp, None if key is None else identities.setdefault(key, len(identities))]
        payload = {"version": self.VERSION, "identities": [json.loads(k) for k in identities], "shards": shards}
        try:
            self.location.write_bytes(json.dumps(payload, separators=(",", ":")).encode())
        except RibrayError as error:  # the index only saves time: a storage that refuses it costs a scan
            self.echo(f"warning: could not save {self.location.uri} ({first_line(error)}); the next start "
                      "reads every footer again")


def _stamp(info: pafs.FileInfo) -> list[int] | None:
    """[size, modification time in ns] of a listed file, or None when the listing has no time."""
    mtime = info.mtime_ns
    return None if mtime is None or info.size is None else [info.size, mtime]


def identity_changes(shards: dict[str, ShardIdentity | None], fingerprints: dict[str, str],
                     plugins: dict[str, str], trial_ids: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """({trial id: what changed} for data, the same for plugins' code), of the finished trials
    `trial_ids` (their identities, read by verified_done): shards that record another fingerprint
    of their eval set or of the set they were fine-tuned on than the data has now; shards that
    record a plugin whose code (or a declared dataset whose declaration) is not `plugins`' now.
    Shards of ribray versions that recorded none are taken as they are."""
    data, code = {}, {}
    for trial_id in sorted(trial_ids):
        identity = shards.get(trial_id)
        if identity is None:
            continue
        recorded = [*((d, was, "evaluated on") for d, was in identity.evaluated.items()),
                    *((d, was, "fine-tuned on") for d, was in identity.trained.items())]
        for dataset, was, what in recorded:
            now = fingerprints.get(dataset)
            if now and was != now:
                data.setdefault(trial_id, f"{what} {dataset}: {listed_files(was)} then, {listed_files(now)} now")
        for plugin, was in identity.plugins.items():
            now = plugins.get(plugin)
            if now != was:
                code.setdefault(trial_id, f"{plugin}: code {was} then, "
                                          + (f"{now} now" if now else "not named by the spec now"))
    return data, code


def listed_files(fingerprint: str) -> str:
    """A fingerprint in words: '80 files (listing 3f2a...)'."""
    count, _, digest = fingerprint.partition(":")
    return f"{count} files (listing {digest})" if digest else fingerprint

