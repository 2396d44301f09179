"""mareksubocz/TrackNet label CSV: ``frame_num,x,y,visible``.

Written by that repository's ``labellingTool.py``: one row per frame the annotator
clicked on (frames with no row are unlabelled, not invisible), ``x``/``y`` are FRACTIONS
of the frame width/height (click pixel / size), and ``visible`` is NOT a flag but the
tool's ``State`` enum recorded with the click::

    0 = VISIBLE   1 = OCCLUDED   2 = MOTION   3 = NON_PLAY (not in play)

Our mapping (decided here, on the tool's source and the example data):

=====  ==================  ========  =====================================
state  visibility_class    visible   x, y
=====  ==================  ========  =====================================
0      'visible'           True      fraction * size (required)
1      'occluded'          False     kept when present: where the hidden ball is
2      'motion'            False     kept when present: a smeared, blurred ball
3      'not_in_play'       False     kept when present
=====  ==================  ========  =====================================

Every row of the tool carries a click position, whatever the state, and the
repository's own training uses it for all states. We keep that position on the
invisible rows (the table allows positions on invisible rows) but set ``visible`` only
for state 0: a detector is scored on balls that can be seen, and a caller who wants
occluded or motion-blurred balls counted as seen can select them by
``visibility_class``. Extra columns (the tool's optional ``w``, ``h`` ball size) are
ignored. The reader needs the source video's ``width`` and ``height``.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np
import pandas as pd

from balltrack.labels._csv import default_video_id, fraction_to_pixels, read_cells, require_size, source_name
from balltrack.labels.table import make_context, make_labels, parse_floats, parse_integers, sort_labels, validate_labels

MAREKSUBOCZ_COLUMNS: tuple[str, ...] = ("frame_num", "x", "y", "visible")

MAREKSUBOCZ_STATES: Mapping[int, str] = {0: "visible", 1: "occluded", 2: "motion", 3: "not_in_play"}
"""The labelling tool's ``State`` enum value -> our ``visibility_class``."""


def read_mareksubocz_csv(
    path: str | os.PathLike[str],
    *,
    video_id: str | None = None,
    width: float | None = None,
    height: float | None = None,
    n_frames: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a ``frame_num,x,y,visible`` fraction CSV with the state enum into a label
    table (mapping in the module docstring).

    ``width``/``height`` (source pixels) are required. ``video_id`` defaults to the
    file's stem; ``n_frames`` optionally bounds the frame indices. Raises ``LabelError``.
    """
    source = source_name(path)
    w, h = require_size(width, height, source=source, fmt="mareksubocz TrackNet")
    csv = read_cells(path, columns=MAREKSUBOCZ_COLUMNS, storage_options=storage_options)
    ctx = make_context(source, csv.rows, csv.names)
    cells = csv.cells
    frame = parse_integers(cells["frame_num"], ctx=ctx, column="frame_num")
    state = parse_integers(cells["visible"], ctx=ctx, column="visible")
    known = list(MAREKSUBOCZ_STATES)
    ctx.fail_where(
        ~np.isin(state, known),
        "visible",
        lambda i: f"state {state[i]} is not one of "
        + ", ".join(f"{k} ({v})" for k, v in MAREKSUBOCZ_STATES.items()),
    )
    x = fraction_to_pixels(parse_floats(cells["x"], ctx=ctx, column="x"), w, ctx=ctx, column="x")
    y = fraction_to_pixels(parse_floats(cells["y"], ctx=ctx, column="y"), h, ctx=ctx, column="y")
    table = make_labels(
        video_id if video_id is not None else default_video_id(path),
        frame,
        state == 0,
        x,
        y,
        [MAREKSUBOCZ_STATES[int(s)] for s in state],
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
