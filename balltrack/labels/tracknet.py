"""TrackNetV2/V3 label CSV: ``Frame,Visibility,X,Y`` (optionally ``,Time``).

One row per frame. ``Frame`` is the 0-based frame index in the video, ``Visibility``
is 1 when the ball is visible and 0 when not, ``X``/``Y`` are source-video pixels
(integers in the TrackNet datasets, floats from our synthetic generator). Invisible rows
hold the placeholder ``0,0,0``: their coordinates are read as NaN whatever they hold.
A trailing ``Time`` column (seconds; TrackNetV3 prediction files) is ignored: the table
is indexed by frame. Any other extra column is ignored too.

Visible rows get ``visibility_class='visible'``; invisible rows ``None`` (the format
does not say why the ball is not seen).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from balltrack.labels._csv import default_video_id, read_cells, source_name
from balltrack.labels.table import (
    LabelError,
    make_context,
    make_labels,
    parse_floats,
    parse_integers,
    sort_labels,
    validate_labels,
)

TRACKNET_COLUMNS: tuple[str, ...] = ("Frame", "Visibility", "X", "Y")


def read_tracknet_csv(
    path: str | os.PathLike[str],
    *,
    video_id: str | None = None,
    width: float | None = None,
    height: float | None = None,
    n_frames: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a TrackNet ``Frame,Visibility,X,Y`` CSV (local path or fsspec URL) into a
    label table (see ``balltrack.labels.table``).

    ``video_id`` defaults to the file's stem. ``width``/``height`` (source pixels) and
    ``n_frames`` are optional and only used to validate coordinates and frame indices.
    Raises ``LabelError`` naming the file, data row and column of the first bad value.
    """
    source = source_name(path)
    csv = read_cells(path, columns=TRACKNET_COLUMNS, storage_options=storage_options)
    ctx = make_context(source, csv.rows, csv.names)
    cells = csv.cells
    frame = parse_integers(cells["Frame"], ctx=ctx, column="Frame")
    visibility = parse_integers(cells["Visibility"], ctx=ctx, column="Visibility")
    ctx.fail_where(
        ~np.isin(visibility, (0, 1)),
        "Visibility",
        lambda i: f"visibility {visibility[i]} is not 0 (invisible) or 1 (visible)",
    )
    visible = visibility == 1
    x = parse_floats(cells["X"], ctx=ctx, column="X")
    y = parse_floats(cells["Y"], ctx=ctx, column="Y")
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
        width=width,
        height=height,
        rows=csv.rows,
        file_columns={
            "frame_index": csv.names["Frame"],
            "visible": csv.names["Visibility"],
            "x": csv.names["X"],
            "y": csv.names["Y"],
        },
    )
    return sort_labels(checked)


def write_tracknet_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a one-video label table as a TrackNet ``Frame,Visibility,X,Y`` CSV.

    Rows are written in frame order; visible rows carry ``X``/``Y`` as shortest
    round-tripping decimals, invisible rows ``0,0,0`` (positions of hidden balls are
    dropped: the format has no place for them). The file appears atomically: written
    under a temporary name in the same directory, then renamed. Local paths only.
    Returns the path written.
    """
    target = Path(path)
    checked = sort_labels(validate_labels(df, source=os.fspath(target)))
    videos = checked["video_id"].unique()
    if len(videos) > 1:
        raise LabelError(
            f"{target}: a TrackNet CSV holds one video; the table has {len(videos)} "
            f"({', '.join(map(str, videos[:3]))}{', ...' if len(videos) > 3 else ''})"
        )
    lines = [",".join(TRACKNET_COLUMNS)]
    columns = (checked[c].to_numpy() for c in ("frame_index", "visible", "x", "y"))
    for frame, visible, x, y in zip(*columns):
        lines.append(f"{frame},1,{float(x)!r},{float(y)!r}" if visible else f"{frame},0,0,0")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
