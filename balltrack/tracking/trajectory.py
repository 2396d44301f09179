"""Trajectory repair for one video's ball track: drop implausible jumps, fill short gaps.

Pure numpy over per-frame arrays in frame order (no Ray). Coordinates are source pixels.
The two steps, each working inside one camera shot only (a shot starts at each frame
listed in ``cuts``; nothing is ever compared or joined across a cut):

1. **Jump rejection.** Two detections ``a``, ``b`` *agree* when the ball could travel
   between them: ``dist(a, b) <= max_speed_px * |frame_b - frame_a|``. Consecutive
   detections that agree are chained into *tracklets*. Detections more than ``link_gap``
   frames apart are never judged against each other (a point after a long gap is not
   measured against a stale one). A tracklet of at most ``max_outlier_run`` detections is
   an outlier, and turned invisible, when

   - it has neighbours on both sides and those two neighbours agree with each other
     (the ball went on as if the tracklet were not there), or
   - it has a neighbour on one side only (the first after a cut or a long gap, the last
     before one) and that neighbouring tracklet is longer than it (corroborated).

   Otherwise it is kept: with no neighbours there is nothing to judge against, and when
   the neighbours disagree too, no side can be preferred. Tracklets are decided left to
   right; once one is rejected its neighbours are judged as adjacent (so alternating
   good/bad detections resolve to the good ones).

2. **Gap filling.** Between two accepted detections of the same shot with at most
   ``max_gap`` frames between them that agree with each other, the frames in between are
   filled by linear interpolation of ``x`` and ``y`` over ``frame_index``.

Output conventions (columns of the ``tracks/`` dataset):

- ``source``: ``'detected'`` for a kept detection, ``'interpolated'`` for a filled frame,
  ``None`` for every frame without a ball (never detected, or rejected as a jump).
- ``score``: the detector's score, unchanged, for every frame that was not filled (rejected
  detections keep theirs: it says what the detector saw); ``NaN`` for interpolated frames
  (no detector saw a ball there).
- ``x``, ``y``: NaN wherever ``visible`` is False.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_LINK_GAP",
    "DEFAULT_MAX_GAP",
    "DEFAULT_MAX_OUTLIER_RUN",
    "MAX_SPEED_FRACTION",
    "default_max_speed_px",
    "repair_track",
    "repair_trajectory",
]

# Fastest plausible ball, as a fraction of the frame diagonal per frame. The fastest
# shuttle in the TrackNetV3 labels (1280x720, 30 fps smashes) moves 0.09 diagonals per
# frame; false detections (heads, logos, shoes) usually sit much further away.
MAX_SPEED_FRACTION = 0.15
DEFAULT_MAX_GAP = 5
DEFAULT_LINK_GAP = 10
DEFAULT_MAX_OUTLIER_RUN = 2

DETECTED = "detected"
INTERPOLATED = "interpolated"


def default_max_speed_px(width: float, height: float) -> float:
    """``MAX_SPEED_FRACTION`` of the frame diagonal, in pixels per frame."""
    if not (width > 0 and height > 0):
        raise ValueError(f"width and height must be > 0, got {width}x{height}")
    return MAX_SPEED_FRACTION * math.hypot(width, height)


def repair_trajectory(
    frame_index: np.ndarray,
    visible: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    score: np.ndarray | None = None,
    *,
    width: float | None = None,
    height: float | None = None,
    cuts: Iterable[int] = (),
    max_speed_px: float | None = None,
    max_gap: int = DEFAULT_MAX_GAP,
    link_gap: int = DEFAULT_LINK_GAP,
    max_outlier_run: int = DEFAULT_MAX_OUTLIER_RUN,
) -> dict[str, np.ndarray]:
    """Repair one video's track (see the module docstring for the rules).

    Inputs are aligned 1-D arrays in frame order: ``frame_index`` (int, strictly
    increasing; usually 0..n-1, but frames may be missing), ``visible`` (bool), ``x``,
    ``y`` (float source pixels; a visible row with a non-finite coordinate counts as not
    visible), ``score`` (float, optional: NaN when omitted). ``cuts`` are frame indices
    where a new camera shot starts. ``max_speed_px`` (pixels per frame) defaults to
    :func:`default_max_speed_px` of ``width`` x ``height``, which are then required.

    Returns a dict of arrays, one row per input row: ``frame_index`` (int64),
    ``visible`` (bool), ``x``, ``y``, ``score`` (float64) and ``source`` (object:
    ``'detected'`` | ``'interpolated'`` | None).
    """
    fi = np.asarray(frame_index, dtype=np.int64).reshape(-1)
    n = len(fi)
    vis = np.asarray(visible, dtype=bool).reshape(-1)
    xs = np.asarray(x, dtype=np.float64).reshape(-1)
    ys = np.asarray(y, dtype=np.float64).reshape(-1)
    sc = np.full(n, np.nan) if score is None else np.asarray(score, dtype=np.float64).reshape(-1)
    if not (len(vis) == len(xs) == len(ys) == len(sc) == n):
        raise ValueError(
            f"arrays differ in length: frame_index {n}, visible {len(vis)}, x {len(xs)}, y {len(ys)}, score {len(sc)}"
        )
    if n > 1 and not np.all(np.diff(fi) > 0):
        raise ValueError("frame_index must be strictly increasing (rows in frame order, no duplicates)")
    if max_speed_px is None:
        if width is None or height is None:
            raise ValueError("give width and height (for the default max speed) or max_speed_px")
        max_speed_px = default_max_speed_px(width, height)
    if not max_speed_px > 0:
        raise ValueError(f"max_speed_px must be > 0, got {max_speed_px}")
    for name, value in (("max_gap", max_gap), ("link_gap", link_gap), ("max_outlier_run", max_outlier_run)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")

    detected = vis & np.isfinite(xs) & np.isfinite(ys)
    shot = np.searchsorted(np.unique(np.asarray(list(cuts), dtype=np.int64)), fi, side="right")
    det_rows = np.flatnonzero(detected)

    keep = np.zeros(n, dtype=bool)
    for rows in _split(det_rows, shot[det_rows]):
        keep[_reject_jumps(rows, fi, xs, ys, max_speed_px, link_gap, max_outlier_run)] = True

    out_vis = keep.copy()
    out_x = np.where(keep, xs, np.nan)
    out_y = np.where(keep, ys, np.nan)
    out_score = sc.copy()
    source = np.full(n, None, dtype=object)
    source[keep] = DETECTED

    kept = np.flatnonzero(keep)
    for a, b in zip(kept[:-1], kept[1:]):
        if b - a < 2 or shot[a] != shot[b] or fi[b] - fi[a] - 1 > max_gap:
            continue
        if not _agree(fi[a], xs[a], ys[a], fi[b], xs[b], ys[b], max_speed_px):
            continue  # a line the ball could not have travelled
        between = np.arange(a + 1, b)
        t = (fi[between] - fi[a]) / (fi[b] - fi[a])
        out_x[between] = xs[a] + (xs[b] - xs[a]) * t
        out_y[between] = ys[a] + (ys[b] - ys[a]) * t
        out_vis[between] = True
        out_score[between] = np.nan
        source[between] = INTERPOLATED

    return {"frame_index": fi, "visible": out_vis, "x": out_x, "y": out_y, "score": out_score, "source": source}


def repair_track(track: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """:func:`repair_trajectory` on a DataFrame with columns ``frame_index, visible, x, y``
    (and optionally ``score``) for ONE video. Other columns (``pts_s``, ``model``...) are
    kept; ``visible, x, y, score, source`` are replaced. Rows are sorted by frame first."""
    df = track.sort_values("frame_index", kind="stable").reset_index(drop=True)
    fixed = repair_trajectory(
        df["frame_index"].to_numpy(),
        df["visible"].to_numpy(dtype=bool),
        df["x"].to_numpy(dtype=np.float64),
        df["y"].to_numpy(dtype=np.float64),
        df["score"].to_numpy(dtype=np.float64) if "score" in df else None,
        **kwargs,
    )
    out = df.copy()
    for column in ("visible", "x", "y", "score", "source"):
        out[column] = fixed[column]
    return out


def _split(rows: np.ndarray, keys: np.ndarray) -> list[np.ndarray]:
    """``rows`` grouped into runs of equal ``keys`` (keys are sorted)."""
    if len(rows) == 0:
        return []
    edges = np.flatnonzero(np.diff(keys)) + 1
    return np.split(rows, edges)


def _agree(fa: int, xa: float, ya: float, fb: int, xb: float, yb: float, speed: float) -> bool:
    # A hair of tolerance so a ball moving at exactly the limit is not lost to rounding.
    return math.hypot(xb - xa, yb - ya) <= speed * abs(int(fb) - int(fa)) * (1 + 1e-9)


def _reject_jumps(
    rows: np.ndarray, fi: np.ndarray, xs: np.ndarray, ys: np.ndarray, speed: float, link_gap: int, max_run: int
) -> np.ndarray:
    """The rows of one shot's detections (in frame order) that survive jump rejection."""
    if len(rows) < 2 or max_run == 0:
        return rows

    def agree(a: int, b: int) -> bool:
        return _agree(fi[a], xs[a], ys[a], fi[b], xs[b], ys[b], speed)

    def near(a: int, b: int) -> bool:
        return abs(int(fi[b]) - int(fi[a])) <= link_gap

    # Initial tracklets: chains of consecutive detections that are near and agree.
    tracklets: list[list[int]] = [[int(rows[0])]]
    for a, b in zip(rows[:-1], rows[1:]):
        if near(a, b) and agree(a, b):
            tracklets[-1].append(int(b))
        else:
            tracklets.append([int(b)])

    accepted: list[list[int]] = []  # decided tracklets; the last one may still grow by merging
    for i, t in enumerate(tracklets):
        prev = accepted[-1] if accepted and near(accepted[-1][-1], t[0]) else None
        nxt = tracklets[i + 1] if i + 1 < len(tracklets) and near(t[-1], tracklets[i + 1][0]) else None
        if prev is not None and agree(prev[-1], t[0]):
            prev.extend(t)  # joined now that what sat between them is gone
            continue
        # Here t disagrees with both neighbours (initial tracklets end where agreement does).
        if len(t) <= max_run:
            if prev is not None and nxt is not None:
                outlier = agree(prev[-1], nxt[0])
            elif prev is not None:
                outlier = len(prev) > len(t)
            elif nxt is not None:
                outlier = len(nxt) > len(t)
            else:
                outlier = False
            if outlier:
                continue
        accepted.append(list(t))
    return np.array([r for t in accepted for r in t], dtype=np.int64)
