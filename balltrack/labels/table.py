"""The one label table every reader produces, and its validation.

A label table is a ``pandas.DataFrame`` with exactly these columns, in this order:

=================  =========  ==========================================================
column             dtype      meaning
=================  =========  ==========================================================
video_id           str        id of the video the row labels
frame_index        int64      0-based index of the frame in the source video
visible            bool       the ball can be seen in this frame
x                  float64    ball centre, source-video pixels from the left edge
y                  float64    ball centre, source-video pixels from the top edge
visibility_class   object     why (in)visible, when the format says: one of
                              ``VISIBILITY_CLASSES`` or None when the format is silent
=================  =========  ==========================================================

``x``/``y`` are NaN when the file gives no position. A visible row always has a
position. An invisible row may still carry one when the format records where a hidden
ball is (an occluded ball, say): filter on ``visible`` to get only seen positions.
Rows are sorted by ``video_id`` then ``frame_index``; frames the file does not mention
have no row (unknown is not the same as invisible).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from balltrack.errors import BalltrackError

LABEL_COLUMNS: tuple[str, ...] = ("video_id", "frame_index", "visible", "x", "y", "visibility_class")
"""Column names of the label table, in order."""

LABEL_DTYPES: Mapping[str, str] = {
    "video_id": "str",
    "frame_index": "int64",
    "visible": "bool",
    "x": "float64",
    "y": "float64",
    "visibility_class": "object",
}
"""Dtype of each column (``str`` is pandas' default string dtype; ``visibility_class``
is ``object`` so a missing class stays ``None``)."""

VISIBILITY_CLASSES: tuple[str, ...] = (
    "visible",
    "partially_occluded",
    "occluded",
    "motion",
    "blurred",
    "not_in_play",
    "out_of_frame",
)
"""Values ``visibility_class`` may take besides None."""

COORD_MARGIN_FRACTION = 0.01
"""Coordinates may lie this fraction of the frame size (at least ``COORD_MARGIN_PX``)
outside the frame before validation calls them wrong: annotators click on the edge and
fraction formats round."""
COORD_MARGIN_PX = 2.0

class LabelError(BalltrackError, ValueError):
    """A label file (or table) is unusable. The message names the file, and the row and
    column when one is at fault."""


def empty_labels() -> pd.DataFrame:
    """A label table with no rows and the right dtypes."""
    return make_labels([], [], [], [], [], [])


def make_labels(
    video_id: Sequence[str] | str,
    frame_index: Iterable[int] | np.ndarray,
    visible: Iterable[bool] | np.ndarray,
    x: Iterable[float] | np.ndarray,
    y: Iterable[float] | np.ndarray,
    visibility_class: Iterable[str | None] | np.ndarray,
) -> pd.DataFrame:
    """Assemble a label table from aligned columns (no validation, no sorting).

    ``video_id`` may be one string for every row.
    """
    frames = np.asarray(list(frame_index) if not isinstance(frame_index, np.ndarray) else frame_index, dtype=np.int64)
    n = len(frames)
    ids = [video_id] * n if isinstance(video_id, str) else list(video_id)
    classes = np.empty(n, dtype=object)
    classes[:] = list(visibility_class) if not isinstance(visibility_class, np.ndarray) else visibility_class
    classes[pd.isna(classes)] = None  # NaN (pandas' missing string) -> None
    odd = [i for i, c in enumerate(classes) if c is not None and not isinstance(c, str)]
    classes[odd] = [str(classes[i]) for i in odd]
    return pd.DataFrame(
        {
            "video_id": pd.Series(ids, dtype="str") if n else pd.Series([], dtype="str"),
            "frame_index": frames,
            "visible": np.asarray(list(visible) if not isinstance(visible, np.ndarray) else visible, dtype=bool),
            "x": np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=np.float64),
            "y": np.asarray(list(y) if not isinstance(y, np.ndarray) else y, dtype=np.float64),
            "visibility_class": pd.Series(classes, dtype=object),
        },
        columns=list(LABEL_COLUMNS),
    )


def validate_labels(
    df: pd.DataFrame,
    *,
    source: str,
    n_frames: int | None = None,
    width: float | None = None,
    height: float | None = None,
    rows: Sequence[int] | np.ndarray | None = None,
    file_columns: Mapping[str, str] | None = None,
    row_name: str = "data row",
) -> pd.DataFrame:
    """Check a label table and return it with canonical column order and dtypes.

    Raises ``LabelError`` naming ``source``, the 1-based data row and the column for:
    a missing column; a frame index that is missing, not an integer, negative, past the
    end (``>= n_frames``, when given) or repeated within a video; a visibility that is
    not boolean; a coordinate that is not a number, or missing on a visible row; a
    coordinate outside the ``width`` x ``height`` frame (source pixels, when given) by
    more than a small margin.

    ``rows`` gives the file's data-row number of each table row (default: position + 1);
    ``file_columns`` maps table columns to the file's own column names for messages;
    ``row_name`` says what a row is called in the file ("data row", "entry", ...).
    The input is not modified.
    """
    missing = [c for c in LABEL_COLUMNS if c not in df.columns]
    if missing:
        raise LabelError(f"{source}: missing column(s) {_quote(missing)}; expected {_quote(LABEL_COLUMNS)}")
    if df.columns.duplicated().any():
        raise LabelError(f"{source}: repeated column(s) {_quote(sorted(set(df.columns[df.columns.duplicated()])))}")
    row_numbers = np.arange(1, len(df) + 1) if rows is None else np.asarray(rows)
    if len(row_numbers) != len(df):
        raise ValueError(f"rows has {len(row_numbers)} entries for {len(df)} table rows")
    names = dict(file_columns or {})
    ctx = RowContext(source, row_numbers, names, row_name)

    frame = parse_integers(df["frame_index"], ctx=ctx, column="frame_index")
    ctx.fail_where(frame < 0, "frame_index", lambda i: f"negative frame index {frame[i]}")
    if n_frames is not None:
        ctx.fail_where(
            frame >= n_frames,
            "frame_index",
            lambda i: f"frame index {frame[i]} is past the end of the video "
            f"({n_frames} frames, last index {n_frames - 1})",
        )
    visible = _parse_bools(df["visible"], ctx=ctx, column="visible")
    x = parse_floats(df["x"], ctx=ctx, column="x")
    y = parse_floats(df["y"], ctx=ctx, column="y")
    _check_coordinates(ctx, "x", x, visible, width)
    _check_coordinates(ctx, "y", y, visible, height)

    ids = df["video_id"].reset_index(drop=True)
    id_missing = ids.isna().to_numpy()
    id_text = ids.where(~id_missing, "").astype(str)
    ctx.fail_where(id_missing | (id_text == "").to_numpy(), "video_id", lambda i: "empty video_id")
    keys = pd.DataFrame({"video_id": id_text, "frame_index": frame})
    dup = keys.duplicated(keep="first").to_numpy()

    def _repeated(i: int) -> str:
        same = (id_text.to_numpy() == id_text[i]) & (frame == frame[i])
        return f"frame {frame[i]} repeated (first at {row_name} {row_numbers[int(np.flatnonzero(same)[0])]})"

    ctx.fail_where(dup, "frame_index", _repeated)

    return make_labels(id_text.tolist(), frame, visible, x, y, df["visibility_class"].to_numpy(dtype=object))


def _check_coordinates(
    ctx: RowContext, column: str, values: np.ndarray, visible: np.ndarray, size: float | None
) -> None:
    ctx.fail_where(visible & np.isnan(values), column, lambda i: "visible row has no coordinate (empty or NaN)")
    ctx.fail_where(np.isinf(values), column, lambda i: f"coordinate {values[i]} is not finite")
    if size is None:
        return
    margin = max(COORD_MARGIN_PX, COORD_MARGIN_FRACTION * float(size))
    with np.errstate(invalid="ignore"):
        outside = (values < -margin) | (values > float(size) + margin)
    ctx.fail_where(
        outside,
        column,
        lambda i: f"coordinate {values[i]:g} is outside the frame (0..{size:g} px, margin {margin:g} px)",
    )


def sort_labels(df: pd.DataFrame) -> pd.DataFrame:
    """The table sorted by ``video_id`` then ``frame_index`` with a fresh 0..n-1 index."""
    return df.sort_values(["video_id", "frame_index"], kind="stable").reset_index(drop=True)


class RowContext:
    """Where a value came from, to word errors: file, row numbers, file column names."""

    def __init__(self, source: str, rows: np.ndarray, names: Mapping[str, str], row_name: str) -> None:
        self.source = source
        self.rows = rows
        self.names = names
        self.row_name = row_name

    def where(self, pos: int, column: str) -> str:
        return f"{self.source}: {self.row_name} {self.rows[pos]}, column '{self.names.get(column, column)}'"

    def fail_where(self, bad: np.ndarray, column: str, problem: Any) -> None:
        """Raise for the first True position of ``bad``; ``problem(pos)`` words it."""
        hits = np.flatnonzero(bad)
        if len(hits) == 0:
            return
        first = int(hits[0])
        more = f" (and {len(hits) - 1} more {self.row_name}s)" if len(hits) > 1 else ""
        raise LabelError(f"{self.where(first, column)}: {problem(first)}{more}")


def make_context(
    source: str, rows: Sequence[int] | np.ndarray, names: Mapping[str, str] | None = None, row_name: str = "data row"
) -> RowContext:
    """An error context for readers that parse their own columns (see ``parse_floats``)."""
    return RowContext(source, np.asarray(rows), dict(names or {}), row_name)


def parse_floats(values: pd.Series | Sequence[Any], *, ctx: RowContext, column: str) -> np.ndarray:
    """Values as float64; empty strings and None become NaN; anything else that is not
    a number raises ``LabelError`` naming its row and column."""
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        ctx.fail_where(np.ones(len(series), bool), column, lambda i: f"{series[i]!r} is not a number")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = series.isna().to_numpy()
    text = series.where(~missing, "").astype(str).str.strip()
    blank = missing | (text == "").to_numpy()
    numbers = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    spelled_nan = text.str.lower().isin(["nan", "-nan", "+nan"]).to_numpy()
    ctx.fail_where(np.isnan(numbers) & ~blank & ~spelled_nan, column, lambda i: f"{series[i]!r} is not a number")
    return numbers


def parse_integers(values: pd.Series | Sequence[Any], *, ctx: RowContext, column: str) -> np.ndarray:
    """Values as int64; empty, non-numeric or fractional values raise ``LabelError``."""
    numbers = parse_floats(values, ctx=ctx, column=column)
    ctx.fail_where(np.isnan(numbers), column, lambda i: "missing value (an integer is required)")
    with np.errstate(invalid="ignore"):
        ctx.fail_where(numbers != np.round(numbers), column, lambda i: f"{numbers[i]:g} is not an integer")
    return numbers.astype(np.int64)


_TRUE = ("1", "1.0", "true", "yes")
_FALSE = ("0", "0.0", "false", "no")


def _parse_bools(values: pd.Series, *, ctx: RowContext, column: str) -> np.ndarray:
    series = values.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    text = [str(v).strip().lower() for v in series.to_numpy(dtype=object)]
    truth = np.array([t in _TRUE for t in text], dtype=bool)
    known = truth | np.array([t in _FALSE for t in text], dtype=bool)
    ctx.fail_where(~known, column, lambda i: f"{series[i]!r} is not a boolean (0/1, True/False)")
    return truth


def _quote(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)
