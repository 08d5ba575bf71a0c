"""Before a sweep trusts its finished shards: each must be a whole ribray shard, and must have
been computed on the data the spec names now. A shard that fails either is set aside (moved,
never deleted) and its trial runs again, or the sweep refuses and says why."""

from __future__ import annotations

import pyarrow.parquet as pq

from ribray.errors import first_line
from ribray.storage import Location

# Columns every ribray version has written: a Parquet file without them is not a shard
REQUIRED_COLUMNS = ("trial_id", "kind", "model", "method", "eval_set", "top1", "final")
SET_ASIDE = ".set-aside"  # results/.set-aside/, weights/.set-aside/: hidden from readers


def shard_problem(location: Location) -> str | None:
    """Why `location` is not a readable ribray shard (its footer only: fast, also in S3), or None."""
    try:
        with location.fs.open_input_file(location.path) as handle:
            metadata = pq.ParquetFile(handle).metadata
    except Exception as error:  # noqa: BLE001 - pyarrow's errors for truncated or foreign files vary
        return f"not a complete Parquet file ({first_line(error)})"
    names = set(metadata.schema.names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        return f"not ribray results: no column {', '.join(missing)}"
    if metadata.num_rows == 0:
        return "holds no rows"
    return None


def set_aside(location: Location) -> Location:
    """Move a file into the hidden .set-aside/ folder beside it; returns where it went."""
    target = location.parent.child(SET_ASIDE, location.name)
    target.write_bytes(location.read_bytes())
    location.delete()
    return target


def verified_done(results: Location, echo=print) -> set[str]:
    """Ids of the trials whose shard is whole; a broken shard is set aside (and said so), and
    its trial counts as not done."""
    done = set()
    for name in results.list_files(".parquet"):
        shard = results.child(name)
        problem = shard_problem(shard)
        if problem is None:
            done.add(name.removesuffix(".parquet"))
            continue
        moved = set_aside(shard)
        echo(f"warning: {shard.uri}: {problem}; moved to {moved.uri}, its trial runs again")
    return done


def identity_changes(results: Location, fingerprints: dict[str, str], plugins: dict[str, str],
                     trial_ids: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """({trial id: what changed} for data, the same for plugins' code), read in one pass over the
    finished trials' shards: rows that record another fingerprint of their eval set or of the set
    they were fine-tuned on than the data has now; rows that record a plugin whose code (or a
    declared dataset whose declaration) is not `plugins`' now. Shards of ribray versions that
    recorded none are taken as they are."""
    columns = ["trial_id", "eval_set", "downstream", "data_fingerprint", "train_fingerprint", "plugins"]
    data, code = {}, {}
    for trial_id in sorted(trial_ids):
        shard = results.child(f"{trial_id}.parquet")
        with shard.fs.open_input_file(shard.path) as handle:
            present = [c for c in columns if c in pq.ParquetFile(handle).schema_arrow.names]
            if "data_fingerprint" not in present:
                continue
            table = pq.read_table(handle, columns=present)
        for row in table.to_pylist():
            for dataset, recorded, what in ((row["eval_set"], row["data_fingerprint"], "evaluated on"),
                                            (row.get("downstream"), row.get("train_fingerprint"), "fine-tuned on")):
                now = fingerprints.get(dataset)
                if recorded and now and recorded != now:
                    data.setdefault(trial_id, f"{what} {dataset}: {listed_files(recorded)} then, {listed_files(now)} now")
            for used in row.get("plugins") or []:
                now = plugins.get(used["plugin"])
                if now != used["identity"]:
                    code.setdefault(trial_id, f"{used['plugin']}: code {used['identity']} then, "
                                              + (f"{now} now" if now else "not named by the spec now"))
    return data, code


def listed_files(fingerprint: str) -> str:
    """A fingerprint in words: '80 files (listing 3f2a...)'."""
    count, _, digest = fingerprint.partition(":")
    return f"{count} files (listing {digest})" if digest else fingerprint

