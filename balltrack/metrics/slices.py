"""Slices: the frames grouped by what makes the ball hard to find (numpy + pandas).

Every slice kind is declared once, in ``SLICES``; ``docs/evaluation.md`` explains them.
Each kind partitions ALL labelled frames: a frame falls in exactly one bin of each
kind, so the bins' frame counts sum to the total. Besides its own bins, a kind that
describes the ball puts frames whose label has no visible ball in ``NO_BALL``, and
any frame whose quantity could not be measured in ``UNKNOWN``.

Pixel quantities are measured at the model's input size (``model_size``, 512x288 by
default), the scale the detector sees and the ``tracknetv2`` tolerance is counted in,
so clips of different resolutions share bins. Coordinates follow the pixel-centre
convention of ``balltrack.models.preprocess``: ``x_model = (x_src + 0.5) * W / w - 0.5``.

The per-frame table the functions here work on is ``frame_outcomes``'s, plus the
quantity columns named in ``SLICES`` (``speed_px``, ``diameter_px``,
``visibility_class``, ``contrast``, ``border_px``, ``shot``, ``since_cut``, ``video_id``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from balltrack.metrics.tracking import summarize

__all__ = [
    "NO_BALL",
    "SLICES",
    "UNKNOWN",
    "SliceKind",
    "assign_slices",
    "ball_speed",
    "border_distance",
    "frames_since_cut",
    "slice_metrics",
    "slice_table",
    "to_model_coords",
]

NO_BALL = "no ball"
"""Bin of the frames whose label has no visible ball (kinds that describe the ball)."""
UNKNOWN = "unknown"
"""Bin of the frames whose quantity could not be measured."""
INF = math.inf


@dataclass(frozen=True)
class SliceKind:
    """One way of slicing frames.

    ``edges`` (ascending) make numeric bins ``[edges[i], edges[i+1])`` named ``bins[i]``;
    values below ``edges[0]`` join the first bin. Without edges the kind is categorical:
    one bin per value of ``column`` (``order`` first, the rest sorted). ``needs_ball``
    sends frames without a visible labelled ball to ``NO_BALL``.
    """

    name: str
    column: str
    description: str
    unit: str = ""
    edges: tuple[float, ...] = ()
    bins: tuple[str, ...] = ()
    needs_ball: bool = True
    order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.edges and (len(self.bins) != len(self.edges) - 1 or list(self.edges) != sorted(self.edges)):
            raise ValueError(f"slice {self.name}: need ascending edges and one name per bin")

    @property
    def numeric(self) -> bool:
        return bool(self.edges)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column, "description": self.description, "unit": self.unit,
                               "needs_ball": self.needs_ball}
        if self.numeric:
            out["bin_ranges"] = [{"bin": b, "low": lo, "high": None if hi == INF else hi}
                           for b, lo, hi in zip(self.bins, self.edges[:-1], self.edges[1:])]
        return out


_VISIBILITY_ORDER = ("visible", "blurred", "motion", "partially_occluded", "occluded", "not_in_play", "out_of_frame")

SLICES: tuple[SliceKind, ...] = (
    SliceKind(
        "speed", "speed_px",
        "ball displacement per frame from the labels: half the distance between the positions one frame "
        "before and after; one-sided when only one neighbour has a visible ball; unknown when neither has",
        "px/frame at model size", (0, 2, 5, 10, INF), ("<2", "2-5", "5-10", ">=10"),
    ),
    SliceKind(
        "size", "diameter_px",
        "apparent ball diameter: exact for synthetic clips (meta.csv Radius), otherwise estimated from the "
        "decoded frame (width of the ball's radial colour profile); unknown without the video or when "
        "nothing stands out at the label",
        "px at model size", (0, 4, 6, 9, INF), ("<4", "4-6", "6-9", ">=9"),
    ),
    SliceKind(
        "visibility", "visibility_class",
        "the label's visibility class (labels that carry one: synthetic meta.csv, mareksubocz states, "
        "SageMaker); unknown for formats without one",
        needs_ball=False, order=_VISIBILITY_ORDER,
    ),
    SliceKind(
        "contrast", "contrast",
        "colour distance between the ball (mean RGB within 1.5 px of the label, or half the radius when "
        "known) and its local background (median RGB of a ring 6-10 px away, or 2r to 2r+4 px) in the "
        "decoded frame at model size; unknown without the video",
        "RGB distance (0-441) at model size", (0, 30, 60, 120, INF), ("<30", "30-60", "60-120", ">=120"),
    ),
    SliceKind(
        "border", "border_px",
        "distance from the labelled ball centre to the nearest frame edge",
        "px at model size", (0, 16, 48, INF), ("<16", "16-48", ">=48"),
    ),
    SliceKind(
        "shot", "shot",
        "camera shot, as video#index: from the track job's shots/, else the synthetic meta.csv Shot column, "
        "else cuts detected in the decoded video; unknown otherwise",
        needs_ball=False,
    ),
    SliceKind(
        "since_cut", "since_cut",
        "frames since the cut that began the frame's camera shot; 'no cut before' in a video's first shot. "
        "The 0-2 bin holds the frames whose 3-frame TrackNet window reaches back across the cut",
        "frames", (-1, 0, 3, 25, INF), ("no cut before", "0-2", "3-24", ">=25"), needs_ball=False,
    ),
    SliceKind("video", "video_id", "the video the frame belongs to", needs_ball=False),
)
SLICE_NAMES: tuple[str, ...] = tuple(k.name for k in SLICES)


def to_model_coords(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray,
                    model_size: tuple[int, int] = (512, 288)) -> tuple[np.ndarray, np.ndarray]:
    """Source pixels to model pixels (pixel-centre convention); arrays broadcast."""
    mw, mh = model_size
    return (np.asarray(x, np.float64) + 0.5) * mw / w - 0.5, (np.asarray(y, np.float64) + 0.5) * mh / h - 0.5


def ball_speed(frame_index: np.ndarray, visible: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(N,) ball displacement per frame of ONE video's labels (any order, one row per
    frame): ``|p[f+1] - p[f-1]| / 2`` when both neighbours show the ball, else the
    one-sided ``|p[f±1] - p[f]|``, else NaN; NaN where the ball is not visible.
    Units are those of ``x``, ``y``."""
    idx = np.asarray(frame_index, np.int64)
    vis = np.asarray(visible, bool)
    pos = {int(f): (float(a), float(b)) for f, v, a, b in zip(idx, vis, x, y) if v}
    out = np.full(len(idx), np.nan)
    for i, (f, v) in enumerate(zip(idx, vis)):
        if not v:
            continue
        prev, nxt, here = pos.get(int(f) - 1), pos.get(int(f) + 1), pos[int(f)]
        if prev and nxt:
            out[i] = math.hypot(nxt[0] - prev[0], nxt[1] - prev[1]) / 2
        elif prev or nxt:
            other = prev or nxt
            out[i] = math.hypot(here[0] - other[0], here[1] - other[1])
    return out


def border_distance(x: np.ndarray, y: np.ndarray, model_size: tuple[int, int] = (512, 288)) -> np.ndarray:
    """Distance in model pixels from a model-pixel position to the nearest frame edge
    (pixel ``i`` spans ``[i - 0.5, i + 0.5]``), 0 outside the frame, NaN for NaN."""
    mw, mh = model_size
    x, y = np.asarray(x, np.float64) + 0.5, np.asarray(y, np.float64) + 0.5
    d = np.minimum(np.minimum(x, mw - x), np.minimum(y, mh - y))
    return np.where(np.isnan(d), np.nan, np.maximum(d, 0.0))


def frames_since_cut(frame_index: np.ndarray, shot_start: np.ndarray) -> np.ndarray:
    """Frames since the cut that started each frame's shot: ``frame - shot_start``, or -1
    when the shot starts the video (``shot_start == 0``: no cut before it); NaN where the
    shot is unknown (``shot_start`` NaN)."""
    f = np.asarray(frame_index, np.float64)
    s = np.asarray(shot_start, np.float64)
    return np.where(np.isnan(s), np.nan, np.where(s <= 0, -1.0, f - s))


def assign_slices(frames: pd.DataFrame, kinds: Sequence[SliceKind] = SLICES) -> pd.DataFrame:
    """The bin of every frame for every kind: a DataFrame aligned with ``frames`` with one
    string column per kind, named after it. A missing quantity column makes the whole
    kind ``UNKNOWN`` (``NO_BALL`` still applies)."""
    has_ball = frames["label_visible"].to_numpy(bool)
    out = {}
    for kind in kinds:
        col = frames[kind.column] if kind.column in frames else pd.Series([None] * len(frames), index=frames.index)
        if kind.numeric:
            v = pd.to_numeric(col, errors="coerce").to_numpy(np.float64)
            names = np.array(kind.bins + (UNKNOWN,), dtype=object)
            i = np.clip(np.searchsorted(np.asarray(kind.edges), v, side="right") - 1, 0, len(kind.bins) - 1)
            b = names[np.where(np.isnan(v), len(kind.bins), i)]
        else:
            b = np.array([UNKNOWN if _missing(c) else str(c) for c in col], dtype=object)
        if kind.needs_ball:
            b = np.where(has_ball, b, NO_BALL)
        out[kind.name] = b
    return pd.DataFrame(out, index=frames.index)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def bin_order(kind: SliceKind, present: Sequence[str]) -> list[str]:
    """Bins of a kind in display order: the defined bins (all of them, numeric kinds) or
    ``order`` then the sorted rest (categorical), then ``NO_BALL`` and ``UNKNOWN`` when present."""
    present_set = set(present)
    special = [s for s in (NO_BALL, UNKNOWN) if s in present_set]
    if kind.numeric:
        return list(kind.bins) + special
    first = [c for c in kind.order if c in present_set]
    rest = sorted(present_set - set(first) - {NO_BALL, UNKNOWN})
    return first + rest + special


def slice_metrics(frames: pd.DataFrame, bins: pd.DataFrame | None = None,
                  kinds: Sequence[SliceKind] = SLICES) -> dict[str, Any]:
    """Every metric of ``summarize`` per bin of every kind: ``{kind: {definition...,
    "bins": [{"bin": name, TP..., ap}, ...]}}`` (JSON-serialisable)."""
    bins = assign_slices(frames, kinds) if bins is None else bins
    result: dict[str, Any] = {}
    for kind in kinds:
        labels = bins[kind.name].to_numpy()
        rows = []
        for name in bin_order(kind, list(pd.unique(labels))):
            rows.append({"bin": name, **summarize(frames[labels == name])})
        result[kind.name] = {**kind.to_json(), "bins": rows}
    return result


def slice_table(slices: Mapping[str, Any]) -> pd.DataFrame:
    """``slice_metrics``'s result as one long table: ``kind, bin`` and the metrics."""
    rows = [{"kind": kind, **row} for kind, spec in slices.items() for row in spec["bins"]]
    return pd.DataFrame(rows)
