"""ChgygLin/TrackNetV2-pytorch label CSV: ``frame_num,visible,x,y``.

The TrackNetV2 layout converted by that repository's ``tools/handle_tracknet_dataset.py``:
``frame_num`` is the 0-based frame index, ``visible`` is 1 (shuttle visible) or 0,
and ``x``/``y`` are FRACTIONS of the frame width/height (pixel / size). So the reader
needs the source video's ``width`` and ``height``; pixels are ``fraction * size``.
Invisible rows keep TrackNet's ``0,0`` placeholder: their coordinates are read as NaN.

Visible rows get ``visibility_class='visible'``; invisible rows ``None``.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np
import pandas as pd

from balltrack.labels._csv import default_video_id, fraction_to_pixels, read_cells, require_size, source_name
from balltrack.labels.table import make_context, make_labels, parse_floats, parse_integers, sort_labels, validate_labels

CHGYGLIN_COLUMNS: tuple[str, ...] = ("frame_num", "visible", "x", "y")


def read_chgyglin_csv(
    path: str | os.PathLike[str],
    *,
    video_id: str | None = None,
    width: float | None = None,
    height: float | None = None,
    n_frames: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a ``frame_num,visible,x,y`` fraction CSV into a label table.

    ``width``/``height`` (source pixels) are required: coordinates come out as
    ``fraction * width`` and ``fraction * height``. ``video_id`` defaults to the file's
    stem; ``n_frames`` optionally bounds the frame indices. Raises ``LabelError``.
    """
    source = source_name(path)
    w, h = require_size(width, height, source=source, fmt="ChgygLin TrackNetV2-pytorch")
    csv = read_cells(path, columns=CHGYGLIN_COLUMNS, storage_options=storage_options)
    ctx = make_context(source, csv.rows, csv.names)
    cells = csv.cells
    frame = parse_integers(cells["frame_num"], ctx=ctx, column="frame_num")
    flag = parse_integers(cells["visible"], ctx=ctx, column="visible")
    ctx.fail_where(~np.isin(flag, (0, 1)), "visible", lambda i: f"visible {flag[i]} is not 0 or 1")
    visible = flag == 1
    x = fraction_to_pixels(parse_floats(cells["x"], ctx=ctx, column="x"), w, ctx=ctx, column="x")
    y = fraction_to_pixels(parse_floats(cells["y"], ctx=ctx, column="y"), h, ctx=ctx, column="y")
    table = make_labels(
        video_id if video_id is not None else default_video_id(path),
        frame,
        visible,
        np.where(visible, x, np.nan),
        np.where(visible, y, np.nan),
        np.where(visible, "visible", None),
    )
    checked = validate_labels(
        table,
        source=source,
        n_frames=n_frames,
        width=w,
        height=h,
        rows=csv.rows,
        file_columns={"frame_index": csv.names["frame_num"], **{c: csv.names[c] for c in ("visible", "x", "y")}},
    )
    return sort_labels(checked)
