"""What a shard was computed from (the data's fingerprints, the plugins' code), written into
the shard's footer beside its rows, so that a sweep's start-up checks read one footer per
shard instead of its rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

if TYPE_CHECKING:
    from ribray.results.row import ResultRow

IDENTITY_KEY = b"ribray.identity"  # a key of the shard's Parquet key-value metadata
COLUMNS = ("eval_set", "downstream", "data_fingerprint", "train_fingerprint", "plugins")


@dataclass(frozen=True)
class ShardIdentity:
    """The fingerprints a trial's rows recorded: eval set -> its data, downstream set -> the data
    fine-tuned on, plugin -> its code (the rows' order kept, so messages name the first row)."""

    evaluated: dict[str, str] = field(default_factory=dict)
    trained: dict[str, str] = field(default_factory=dict)
    plugins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_rows(cls, rows: list[ResultRow]) -> ShardIdentity:
        evaluated, trained, plugins = {}, {}, {}
        for row in rows:
            if row.get("eval_set") and row.get("data_fingerprint"):
                evaluated.setdefault(row["eval_set"], row["data_fingerprint"])
            if row.get("downstream") and row.get("train_fingerprint"):
                trained.setdefault(row["downstream"], row["train_fingerprint"])
            for used in row.get("plugins") or []:
                plugins.setdefault(used["plugin"], used["identity"])
        return cls(evaluated, trained, plugins)

    def to_metadata(self) -> dict[bytes, bytes]:
        payload = {"evaluated": self.evaluated, "trained": self.trained, "plugins": self.plugins}
        return {IDENTITY_KEY: json.dumps(payload, separators=(",", ":")).encode()}

    @classmethod
    def of_file(cls, parquet: pq.ParquetFile) -> ShardIdentity | None:
        """From the footer; a shard of an older ribray: from its columns (None where it recorded no
        fingerprints, the oldest versions: taken as it is)."""
        recorded = (parquet.metadata.metadata or {}).get(IDENTITY_KEY)
        if recorded is not None:
            payload = json.loads(recorded.decode())
            return cls(payload["evaluated"], payload["trained"], payload["plugins"])
        present = [c for c in COLUMNS if c in parquet.schema_arrow.names]
        if "data_fingerprint" not in present:
            return None
        return cls.of_rows(parquet.read(columns=present).to_pylist())
