"""Before a sweep trusts its finished shards: each must be a whole ribray shard, and must have
been computed on the data the spec names now. A shard that fails either is set aside (moved,
never deleted) and its trial runs again, or the sweep refuses and says why."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pyarrow.parquet as pq

from ribray.errors import first_line
from ribray.results.identity import ShardIdentity
from ribray.storage import Location

# Columns every ribray version has written: a Parquet file without them is not a shard
REQUIRED_COLUMNS = ("trial_id", "kind", "model", "method", "eval_set", "top1", "final")
SCAN_THREADS = 16  # footers read at once from an object store (latency-bound); a local disk: one
SET_ASIDE = ".set-aside"  # results/.set-aside/, weights/.set-aside/: hidden from readers


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
    target = location.parent.child(SET_ASIDE, location.name)
    target.write_bytes(location.read_bytes())
    location.delete()
    return target


def verified_done(results: Location, echo=print) -> dict[str, ShardIdentity | None]:
    """{trial id: what its shard was computed from} of the trials whose shard is whole, from one
    read of each shard's footer (on an object store, in parallel threads: there each read waits on
    the network; on a local disk they would only contend for the GIL); a broken shard is set
    aside (and said so), and its trial counts as not done."""
    names = results.list_files(".parquet")
    with ThreadPoolExecutor(max_workers=1 if results.is_local else SCAN_THREADS) as pool:
        scans = list(pool.map(lambda name: _scan(results.child(name)), names))
    done = {}
    for name, (problem, identity) in zip(names, scans, strict=True):
        if problem is None:
            done[name.removesuffix(".parquet")] = identity
            continue
        shard = results.child(name)
        moved = set_aside(shard)
        echo(f"warning: {shard.uri}: {problem}; moved to {moved.uri}, its trial runs again")
    return done


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

