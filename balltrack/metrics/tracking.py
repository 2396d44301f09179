"""Ball-tracking metrics under the TrackNet papers' evaluation protocols (numpy + pandas).

Every labelled frame falls in exactly one class:

============================  ==================  =====================================
label                         prediction          class
============================  ==================  =====================================
visible                       visible, near       TP
visible                       visible, far        FP1 (a wrong position)
invisible                     visible             FP2 (a ball where there is none)
visible                       invisible/missing   FN
invisible                     invisible/missing   TN
============================  ==================  =====================================

``precision = TP / (TP + FP1 + FP2)``, ``recall = TP / (TP + FN)``,
``accuracy = (TP + TN) / n_frames``, ``f1`` their harmonic mean; each is 0.0 when its
denominator is 0. ``rmse`` is the root mean square distance, in SOURCE pixels, of the TP
frames (None when there are none).

"Near" depends on the protocol:

- ``'tracknetv2'`` (TrackNetV2/V3 papers and code): the distance is measured in the model's
  heatmap pixels - source coordinates scaled by ``model_size / source_size`` per axis
  (``x * 512 / w``, ``y * 288 / h``) - and near means ``distance <= tolerance`` (default 4).
- ``'wasb'`` (WASB-SBDT): the distance is in source pixels and near means
  ``distance < tolerance`` (strict).

Frames in ``labels`` with no prediction row count as predicted invisible. Prediction rows
for frames without a label are not scored; they are counted as ``unlabelled_predictions``.

``ap`` ranks the detections (visible predictions) by ``score`` and takes the area under
the precision-recall curve (``balltrack.metrics.ap``: VOC all-point interpolation); a
detection is a TP exactly when its frame's class is TP above. The curve's recall counts
every visible labelled ball (TP + FP1 + FN: a misplaced detection leaves its ball
unfound), so it ends at the table's ``precision`` and at a recall of
``TP / (TP + FP1 + FN)``, at most the TrackNet ``recall`` (which leaves FP1 out). ``frame_outcomes`` gives the per-frame
table behind every number, and ``summarize`` the numbers of any subset of it (a slice).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from balltrack.metrics.ap import average_precision, pr_curve_json

__all__ = ["FRAME_COLUMNS", "OUTCOMES", "PROTOCOLS", "evaluate_tracks", "frame_outcomes", "summarize"]

PROTOCOLS = ("tracknetv2", "wasb")
OUTCOMES = ("TP", "FP1", "FP2", "FN", "TN")
_KEY = ["video_id", "frame_index"]
_REQUIRED = ("video_id", "frame_index", "visible", "x", "y")
FRAME_COLUMNS = (
    "video_id", "frame_index", "label_visible", "x_label", "y_label",
    "pred_visible", "x_pred", "y_pred", "score", "error_px", "outcome",
)
"""Columns of ``frame_outcomes``: one row per labelled frame; ``error_px`` is the
prediction's distance from the label in source pixels (NaN unless both are visible);
``outcome`` one of ``OUTCOMES``."""


def evaluate_tracks(
    pred: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    protocol: str = "tracknetv2",
    tolerance: float = 4.0,
    source_size: Mapping[str, tuple[int, int]] | tuple[int, int] | None = None,
    model_size: tuple[int, int] = (512, 288),
) -> dict[str, Any]:
    """Score predicted ball tracks against labels.

    Args:
        pred: columns ``video_id, frame_index, visible, x, y`` and optionally ``score`` (ranks
            detections for ``ap``; others ignored); x, y in source pixels; at most one row per frame.
        labels: columns ``video_id, frame_index, visible, x, y`` in source pixels (the label
            table of ``balltrack.labels``); at most one row per frame; a visible row needs x, y.
        protocol: ``'tracknetv2'`` or ``'wasb'`` (see the module docstring).
        tolerance: distance threshold, in model pixels (``'tracknetv2'``) or source pixels (``'wasb'``).
        source_size: ``(width, height)`` of the source videos, one for all or a dict by
            video_id; required by ``'tracknetv2'``, unused by ``'wasb'``.
        model_size: ``(width, height)`` of the heatmaps the tolerance refers to (``'tracknetv2'``).

    Returns:
        JSON-serialisable dict: ``protocol``, ``tolerance``, ``tolerance_units``,
        ``model_size``, ``total`` and ``per_video`` (each labelled video_id -> the same fields
        as ``total``):
        ``TP, FP1, FP2, FN, TN, n_frames, accuracy, precision, recall, f1, rmse, ap,
        unlabelled_predictions``; and ``pr_curve`` of all frames (``threshold, precision,
        recall`` lists, ``ap``, ``n_positives``, ``n_detections``).
    """
    frames, unlabelled = _outcomes(pred, labels, protocol, tolerance, source_size, model_size)
    per_video = {}
    for vid, group in frames.groupby("video_id", sort=True):
        per_video[str(vid)] = summarize(group, int(unlabelled.get(vid, 0)))
    return {
        "protocol": protocol,
        "tolerance": float(tolerance),
        "tolerance_units": _UNITS[protocol],
        "model_size": [int(model_size[0]), int(model_size[1])],
        "total": summarize(frames, int(unlabelled.sum())),
        "per_video": per_video,
        "pr_curve": pr_curve_of(frames),
    }


_UNITS = {"tracknetv2": "model_pixels", "wasb": "source_pixels"}


def frame_outcomes(
    pred: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    protocol: str = "tracknetv2",
    tolerance: float = 4.0,
    source_size: Mapping[str, tuple[int, int]] | tuple[int, int] | None = None,
    model_size: tuple[int, int] = (512, 288),
) -> pd.DataFrame:
    """The per-frame table behind :func:`evaluate_tracks` (same arguments): one row per
    labelled frame with ``FRAME_COLUMNS``, sorted by video_id and frame_index. ``score``
    is the prediction's (NaN when it has none or no prediction row exists)."""
    return _outcomes(pred, labels, protocol, tolerance, source_size, model_size)[0]


def summarize(frames: pd.DataFrame, unlabelled_predictions: int = 0) -> dict[str, Any]:
    """The metrics of any set of rows of :func:`frame_outcomes` (a video, a slice):
    ``TP, FP1, FP2, FN, TN, n_frames, accuracy, precision, recall, f1, rmse, ap,
    unlabelled_predictions`` (see the module docstring)."""
    outcome = frames["outcome"].to_numpy()
    c = {k: int(np.count_nonzero(outcome == k)) for k in OUTCOMES}
    n = len(frames)
    precision = _ratio(c["TP"], c["TP"] + c["FP1"] + c["FP2"])
    recall = _ratio(c["TP"], c["TP"] + c["FN"])
    tp = outcome == "TP"
    sq = frames["error_px"].to_numpy(dtype=np.float64)[tp] ** 2
    detected = frames["pred_visible"].to_numpy(dtype=bool)
    return {
        **c,
        "n_frames": int(n),
        "accuracy": _ratio(c["TP"] + c["TN"], n),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "rmse": math.sqrt(float(sq.sum()) / c["TP"]) if c["TP"] else None,
        "ap": average_precision(frames["score"].to_numpy(dtype=np.float64)[detected], tp[detected],
                                c["TP"] + c["FP1"] + c["FN"]),
        "unlabelled_predictions": int(unlabelled_predictions),
    }


def pr_curve_of(frames: pd.DataFrame) -> dict[str, Any]:
    """The precision-recall curve of rows of :func:`frame_outcomes` (``pr_curve_json``)."""
    outcome = frames["outcome"].to_numpy()
    detected = frames["pred_visible"].to_numpy(dtype=bool)
    n_pos = int(np.count_nonzero(np.isin(outcome, ("TP", "FP1", "FN"))))
    return pr_curve_json(frames["score"].to_numpy(dtype=np.float64)[detected], (outcome == "TP")[detected], n_pos)


def _outcomes(pred, labels, protocol, tolerance, source_size, model_size) -> tuple[pd.DataFrame, pd.Series]:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    lab = _normalise(labels, "labels").drop(columns="score")
    prd = _normalise(pred, "pred")

    merged = lab.merge(prd, on=_KEY, how="outer", suffixes=("_label", "_pred"), indicator=True)
    unlabelled = merged.loc[merged["_merge"] == "right_only", "video_id"].value_counts()
    m = merged[merged["_merge"] != "right_only"].sort_values(_KEY, ignore_index=True)

    label_vis = m["visible_label"].eq(True).to_numpy()
    pred_vis = m["visible_pred"].eq(True).to_numpy()  # no prediction row (NaN) -> invisible
    dx = m["x_pred"].to_numpy(dtype=np.float64) - m["x_label"].to_numpy(dtype=np.float64)
    dy = m["y_pred"].to_numpy(dtype=np.float64) - m["y_label"].to_numpy(dtype=np.float64)
    dist_src = np.hypot(dx, dy)
    both = label_vis & pred_vis

    if protocol == "tracknetv2":
        w, h = _source_sizes(m["video_id"], source_size)
        mw, mh = model_size
        # Multiply before dividing: 10 px * 512 / 1280 is exactly 4.0, 10 * (512 / 1280) need not be.
        near = np.hypot(dx * mw / w, dy * mh / h) <= tolerance
    else:
        near = dist_src < tolerance

    outcome = np.select(
        [both & near, both & ~near, ~label_vis & pred_vis, label_vis & ~pred_vis],
        ["TP", "FP1", "FP2", "FN"],
        default="TN",
    )
    frames = pd.DataFrame(
        {
            "video_id": m["video_id"].to_numpy(dtype=object),
            "frame_index": m["frame_index"].to_numpy(dtype=np.int64),
            "label_visible": label_vis,
            "x_label": m["x_label"].to_numpy(dtype=np.float64),
            "y_label": m["y_label"].to_numpy(dtype=np.float64),
            "pred_visible": pred_vis,
            "x_pred": np.where(pred_vis, m["x_pred"].to_numpy(dtype=np.float64), np.nan),
            "y_pred": np.where(pred_vis, m["y_pred"].to_numpy(dtype=np.float64), np.nan),
            "score": m["score"].to_numpy(dtype=np.float64),
            "error_px": np.where(both, dist_src, np.nan),
            "outcome": outcome.astype(object),
        }
    )
    return frames, unlabelled


def _normalise(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Key columns with one dtype, visible as bool; checks columns, duplicates, positions."""
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; needs {list(_REQUIRED)}")
    out = pd.DataFrame(
        {
            "video_id": df["video_id"].astype(str).to_numpy(dtype=object),
            "frame_index": df["frame_index"].to_numpy(dtype=np.int64),
            "visible": df["visible"].to_numpy(dtype=bool),
            "x": df["x"].to_numpy(dtype=np.float64),
            "y": df["y"].to_numpy(dtype=np.float64),
            "score": df["score"].to_numpy(dtype=np.float64) if "score" in df else np.full(len(df), np.nan),
        }
    )
    dup = out.duplicated(_KEY, keep=False)
    if dup.any():
        first = out[dup].iloc[0]
        raise ValueError(
            f"{name} has {int(dup.sum())} rows for repeated frames, e.g. video "
            f"{first['video_id']!r} frame {first['frame_index']}: one row per frame"
        )
    bad = out["visible"] & ~(np.isfinite(out["x"]) & np.isfinite(out["y"]))
    if bad.any():
        first = out[bad].iloc[0]
        raise ValueError(
            f"{name} has {int(bad.sum())} visible rows without finite x, y, e.g. video "
            f"{first['video_id']!r} frame {first['frame_index']}"
        )
    return out


def _source_sizes(
    video_ids: pd.Series, source_size: Mapping[str, tuple[int, int]] | tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Source width and height for each row."""
    if source_size is None:
        raise ValueError("protocol 'tracknetv2' needs source_size: (width, height) or {video_id: (width, height)}")
    if isinstance(source_size, Mapping):
        missing = sorted(set(video_ids) - {str(k) for k in source_size})
        if missing:
            raise ValueError(f"source_size has no (width, height) for videos {missing[:5]}")
        sizes = {str(k): v for k, v in source_size.items()}
        wh = np.array([sizes[v] for v in video_ids], dtype=np.float64).reshape(-1, 2)
    else:
        wh = np.broadcast_to(np.asarray(source_size, dtype=np.float64), (len(video_ids), 2))
    if wh.size and (wh <= 0).any():
        raise ValueError(f"source sizes must be positive, got {source_size}")
    return wh[:, 0], wh[:, 1]


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0
