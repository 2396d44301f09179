"""Shared plumbing of the CSV readers: open (local path or fsspec URL), read every cell
as text, find the format's columns, remember each row's data-row number for errors."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import IO, Any, Mapping, Sequence, cast

import fsspec
import numpy as np
import pandas as pd

from balltrack.labels.table import LabelError, RowContext


def source_name(path: str | os.PathLike[str]) -> str:
    """How messages name a file: the path or URL as the caller gave it."""
    return os.fspath(path)


def default_video_id(path: str | os.PathLike[str]) -> str:
    """The file's stem (name without its last extension), for local paths and URLs."""
    text = os.fspath(path)
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("?", 1)[0].rstrip("/")
    return posixpath.splitext(posixpath.basename(text.replace("\\", "/")))[0]


def open_text(path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> IO[str]:
    """Open a local path or fsspec URL for reading text (a UTF-8 BOM is dropped)."""
    try:
        return cast(
            IO[str],
            fsspec.open(os.fspath(path), "rt", encoding="utf-8-sig", newline="", **dict(storage_options or {})).open(),
        )
    except FileNotFoundError:
        raise LabelError(f"{source_name(path)}: no such file") from None


@dataclass(frozen=True)
class CsvCells:
    """A CSV read as text. ``cells`` has one column per wanted column (stripped strings),
    ``rows`` the 1-based data-row number of each (blank lines are skipped but counted),
    ``names`` maps each wanted column to its spelling in the file."""

    cells: pd.DataFrame
    rows: np.ndarray
    names: Mapping[str, str]
    header: tuple[str, ...]


def read_header(path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The first non-blank line split on commas, each name stripped."""
    with open_text(path, storage_options) as f:
        for line in f:
            if line.strip():
                return tuple(name.strip().strip('"') for name in line.strip().split(","))
    return ()


def read_cells(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str],
    storage_options: Mapping[str, Any] | None = None,
) -> CsvCells:
    """Read the CSV at ``path`` keeping ``columns`` (matched case-insensitively after
    stripping spaces) as text. Missing columns raise ``LabelError`` naming the file."""
    source = source_name(path)
    with open_text(path, storage_options) as f:
        try:
            # Clean numeric columns come out numeric (fast C parsing); a column with any
            # non-numeric cell stays text, and the parsers then name the bad cell.
            raw = pd.read_csv(f, keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False)
        except pd.errors.EmptyDataError:
            raise LabelError(f"{source}: empty file (no header line)") from None
        except pd.errors.ParserError as exc:
            raise LabelError(f"{source}: not a readable CSV: {exc}") from None
    header = tuple(str(c).strip() for c in raw.columns)
    by_lower = {name.lower(): name for name in reversed(header)}
    missing = [c for c in columns if c.lower() not in by_lower]
    if missing:
        wanted = ",".join(columns)
        raise LabelError(
            f"{source}: missing column(s) {', '.join(repr(c) for c in missing)} in header {','.join(header)!r}; "
            f"expected {wanted!r}"
        )
    raw.columns = list(header)
    names = {c: by_lower[c.lower()] for c in columns}
    cells = pd.DataFrame({c: _stripped(raw[names[c]]) for c in columns})
    # pandas gives a blank line one row of empty cells; skip it but keep the numbering
    # of the rows after it honest (row N is the N-th line after the header).
    blank = np.logical_and.reduce([_empty(raw[name]) for name in dict.fromkeys(header)])
    rows = np.flatnonzero(~blank) + 1
    return CsvCells(cells.loc[~blank].reset_index(drop=True), rows, names, header)


def _stripped(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column
    return column.where(column.isna(), column.astype(str).str.strip())


def _empty(column: pd.Series) -> np.ndarray:
    missing = column.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(column.dtype):
        return missing
    return missing | (column.astype(str).str.strip() == "").to_numpy()


def require_size(width: float | None, height: float | None, *, source: str, fmt: str) -> tuple[float, float]:
    """The frame size a fraction format needs, or a ``LabelError`` saying so."""
    if width is None or height is None:
        raise LabelError(
            f"{source}: {fmt} labels give x,y as fractions of the frame; pass width= and height= "
            "(the source video's size in pixels) to convert them to pixels"
        )
    if not (float(width) > 0 and float(height) > 0):
        raise LabelError(f"{source}: width and height must be positive, got {width!r} x {height!r}")
    return float(width), float(height)


def fraction_to_pixels(fraction: np.ndarray, size: float, *, ctx: RowContext, column: str) -> np.ndarray:
    """``fraction * size``. A value far above 1 means the file holds pixels, not
    fractions: say so rather than report a coordinate miles outside the frame."""
    with np.errstate(invalid="ignore"):
        ctx.fail_where(
            fraction > 1.5,
            column,
            lambda i: f"{fraction[i]:g} is not a fraction of the frame (0..1): does this file hold pixel coordinates?",
        )
    return fraction * size
