"""The results schema: the Arrow types of `ResultRow`'s columns (ribray.results.row, where each
column is described), in its order. Every column is nullable: a row fills only its kind's
columns, and shards of older versions lack the newer ones."""

from __future__ import annotations

import types
import typing
from datetime import datetime

import pyarrow as pa

from ribray.results.row import ResultRow

ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_(),
               datetime: pa.timestamp("us", tz="UTC")}


def arrow_type(hint: object) -> pa.DataType:
    """The Arrow type of a column's Python type: `X | None` is X's, `list[X]` a list of X's, a
    TypedDict a struct of its keys."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is list:
        return pa.list_(arrow_type(typing.get_args(hint)[0]))
    if typing.is_typeddict(hint):
        return pa.struct(arrow_fields(hint))
    return ARROW_TYPES[hint]


def arrow_fields(row: type) -> list[tuple[str, pa.DataType]]:
    """A TypedDict's keys, in their order, with their Arrow types."""
    return [(name, arrow_type(hint)) for name, hint in typing.get_type_hints(row).items()]


def _with_pandas_dtypes(schema: pa.Schema) -> pa.Schema:
    """The schema with pandas metadata asking for nullable integer and boolean columns, so that
    `pandas.read_parquet` keeps `seed` an integer where the pretrained rows have none (not
    float64 with NaN)."""
    import pandas as pd

    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    empty = schema.empty_table().to_pandas(types_mapper=nullable.get)
    return schema.with_metadata(pa.Schema.from_pandas(empty, preserve_index=False).metadata)


SCHEMA = _with_pandas_dtypes(pa.schema(arrow_fields(ResultRow)))
