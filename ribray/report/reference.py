"""Reference numbers to put a sweep's beside: the paper's published tables, shipped as data in
ribray/report/published/ (`--compare paper`), or a file of the user's own in the same format
(another paper, a colleague's run).

The format, `ribray-reference/1`, is YAML:

    format: ribray-reference/1
    paper: what the numbers are from                     (optional)
    tables:
      - id: slides_mri                                   (unique; letters, digits, . _ -)
        title: what the table shows                      (optional)
        source: where the numbers come from              (required)
        version: the paper's or the results' version     (required)
        quantity: mri | absolute | ri | accuracy         (what ribray's report computes)
        train_subset: all                                (the report compared with; default all)
        tolerance: 0.5                                   (pp; optional, see compare.py)
        decimals: 2                                      (as published; default: as each value is written)
        n: 8                                             (RI's n, for mri/ri/absolute: ribray's must match)
        note: anything a reader should know              (optional)
        cells:
          - {model: M, method: K, value: V}                              (mri, absolute)
          - {model: M, method: K, downstream: D, value: V}               (ri)
          - {model: M, method: K, downstream: D, eval_set: S, value: V}  (accuracy)
          - {model: M, method: pretrained, eval_set: S, value: V}        (accuracy, the pretrained row)

Models are timm names, registry aliases or the paper's column names ("IN-1K + AugReg"); methods
are the report's row labels (ft, lp_ft, wise_ft(0.5), soup, ...); values are percent (accuracy,
absolute robustness) or percentage points (RI, mRI)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ribray.errors import RibrayError, SpecError
from ribray.models.paper import PAPER_MODELS
from ribray.report.rows import PRETRAINED

FORMAT = "ribray-reference/1"
PAPER = "paper"  # `--compare paper`: every file in PUBLISHED
PUBLISHED = Path(__file__).parent / "published"
MAX_REFERENCE_BYTES = 1 << 20

# What identifies a cell of each quantity, after model and method.
QUANTITY_KEYS: dict[str, tuple[str, ...]] = {"mri": (), "absolute": (), "ri": ("downstream",),
                                             "accuracy": ("downstream", "eval_set")}


class ReferenceFileError(RibrayError):
    """A reference file that is not in the ribray-reference/1 format; the message names the key."""


class ReferenceCell(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    method: str = Field(min_length=1)
    downstream: str | None = None
    eval_set: str | None = None
    value: float = Field(strict=True, allow_inf_nan=False)


class ReferenceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = ""
    source: str = Field(min_length=1)
    version: str = Field(min_length=1)
    quantity: Literal["mri", "absolute", "ri", "accuracy"]
    train_subset: str = "all"
    tolerance: float | None = Field(None, ge=0, allow_inf_nan=False)
    decimals: int | None = Field(None, ge=0, le=10)  # as published: 0.10 has 2, which YAML's 0.1 cannot show
    n: int | None = Field(None, ge=1)  # RI's n: the number of ImageNet-RIB sets its RI averages over (paper: 8)
    note: str = ""
    cells: list[ReferenceCell] = Field(min_length=1)

    @model_validator(mode="after")
    def _cells_fit_the_quantity(self) -> ReferenceTable:
        seen = set()
        for index, cell in enumerate(self.cells):
            problem = _cell_problem(self.quantity, cell)
            if problem:
                raise ValueError(f"cells.{index}: {problem}")
            key = cell_key(self.quantity, cell)
            if key in seen:
                raise ValueError(f"cells.{index}: {', '.join(str(k) for k in key)} is given twice")
            seen.add(key)
        return self


class ReferenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["ribray-reference/1"]
    paper: str = ""
    tables: list[ReferenceTable] = Field(min_length=1)


def _cell_problem(quantity: str, cell: ReferenceCell) -> str:
    """What is wrong with a cell for its table's quantity ('' when nothing)."""
    wanted = set(QUANTITY_KEYS[quantity])
    if quantity == "accuracy" and cell.method == PRETRAINED:
        wanted = {"eval_set"}  # the pretrained row was fine-tuned on nothing
    for key in ("downstream", "eval_set"):
        given = getattr(cell, key) is not None
        if key in wanted and not given:
            return f"a {quantity} cell needs {key}"
        if key not in wanted and given:
            return f"{key} has no meaning in a {quantity} cell" + (
                " of the pretrained model" if quantity == "accuracy" else "")
    return ""


def canonical_model(name: str) -> str:
    """A model named by the paper's column, a registry alias or its source, as its source
    (the timm name), so that "IN-1K + AugReg" and vit_base_patch16_224.augreg_in1k match."""
    for entry in PAPER_MODELS:
        if name in (entry.alias, entry.source, entry.column):
            return entry.source
    return name


def cell_key(quantity: str, cell: ReferenceCell) -> tuple:
    """(model, method, then downstream/eval_set as the quantity needs) of a cell."""
    return (canonical_model(cell.model), cell.method, *(getattr(cell, k) for k in QUANTITY_KEYS[quantity]))


@dataclass(frozen=True)
class Reference:
    """The tables of one or more reference files, each table with the file it came from."""

    tables: tuple[tuple[Path, ReferenceTable], ...]

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(path for path, _ in self.tables))


def published_files() -> list[Path]:
    """The paper's published tables that ribray ships (ribray/report/published/*.yaml)."""
    return sorted(PUBLISHED.glob("*.yaml"))


def load_references(names: list[str] | tuple[str, ...]) -> Reference:
    """`--compare` values: `paper` (the shipped published tables) or paths of reference files.
    Table ids must be unique over all of them."""
    tables: list[tuple[Path, ReferenceTable]] = []
    for name in names:
        paths = published_files() if name == PAPER else [Path(name)]
        for path in paths:
            tables += [(path, table) for table in load_reference_file(path).tables]
    seen: dict[str, Path] = {}
    for path, table in tables:
        if table.id in seen:
            raise ReferenceFileError(f"table id {table.id!r} is in {seen[table.id]} and in {path}: "
                                     "give each compared table its own id")
        seen[table.id] = path
    return Reference(tuple(tables))


def load_reference_file(path: str | Path) -> ReferenceFile:
    """Read and check one reference file; every problem is a ReferenceFileError naming its key."""
    from ribray.spec.load import read_yaml, validation_lines

    path = Path(path)
    if not path.is_file():
        what = "is not a file" if path.exists() else "not found"
        raise ReferenceFileError(f"reference file {path} {what} (--compare takes `{PAPER}` or a {FORMAT} YAML file)")
    if path.stat().st_size > MAX_REFERENCE_BYTES:
        raise ReferenceFileError(f"{path}: over {MAX_REFERENCE_BYTES // 2**20} MiB, not a reference file")
    try:
        raw = read_yaml(path.read_bytes().decode("utf-8"), str(path), top_level="format, tables")
    except UnicodeDecodeError:
        raise ReferenceFileError(f"{path}: not UTF-8 text") from None
    except SpecError as error:
        raise ReferenceFileError(str(error)) from None
    if raw.get("format") != FORMAT:
        raise ReferenceFileError(f"{path}: format: {raw.get('format')!r} is not {FORMAT!r} (the first "
                                 f"line of a reference file is `format: {FORMAT}`)")
    try:
        return ReferenceFile.model_validate(raw)
    except ValidationError as error:
        lines = validation_lines(error, ReferenceFile)
        raise ReferenceFileError(f"{path}: " + ("\n  ".join(["", *lines]) if len(lines) > 1 else lines[0])) from None


def decimals(value: float) -> int:
    """Digits after the point as the value is written (1.3 -> 1, 2.21 -> 2, 4 -> 0)."""
    text = repr(float(value))
    if "e" in text or not math.isfinite(value):
        return 0
    fraction = text.partition(".")[2].rstrip("0")
    return len(fraction)
