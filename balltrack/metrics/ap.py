"""Average precision of ball detections ranked by score (numpy only).

A *detection* is a frame the tracker calls visible (its heatmap peak passed the
threshold); it carries that peak's ``score``. As WASB-SBDT does, detections are
ranked by score, highest first; a detection is a true positive when its frame has a
visible labelled ball within the protocol's tolerance (each labelled ball matched at
most once - one detection per frame, so a frame's label can only be claimed by that
frame's detection), otherwise a false positive. Recall's denominator is the number of
visible labelled balls, detected or not, so misses lower the curve's reach.

``AP`` is the area under the precision-recall curve with PASCAL VOC's all-point
interpolation (VOC 2010 on): precision at recall r is the highest precision at any
recall >= r, and AP sums that envelope over every recall step,
``AP = sum_k (r_k - r_{k-1}) * max_{j >= k} p_j`` with ``r_0 = 0``.

Ties: detections with equal scores are one operating point (a threshold cannot
separate them), so the curve has one point per distinct score and the result does
not depend on the order of tied rows. A NaN score (an interpolated position, a CSV
without scores) ranks below every real score, all NaNs tied; when no detection has a
score, the curve is a single point and ``AP = precision * recall``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["average_precision", "precision_recall_curve", "pr_curve_json"]


def precision_recall_curve(scores: np.ndarray, is_tp: np.ndarray, n_positives: int) -> dict[str, np.ndarray]:
    """The curve traced by lowering the score threshold, one point per distinct score.

    Args:
        scores: (N,) float, one per detection; NaN ranks last.
        is_tp: (N,) bool, the detection matched a labelled ball.
        n_positives: visible labelled balls (TP + FN under the protocol), >= ``is_tp.sum()``.

    Returns:
        ``threshold`` (M,) float64 descending (the lowest score still accepted at that
        point; NaN for the tie group of unscored detections), ``precision`` (M,),
        ``recall`` (M,) (all zeros when ``n_positives`` is 0), ``tp`` and ``fp`` (M,)
        int64 cumulative counts. M is 0 when there are no detections.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    is_tp = np.asarray(is_tp, dtype=bool).reshape(-1)
    if scores.shape != is_tp.shape:
        raise ValueError(f"scores and is_tp differ in length: {scores.shape} vs {is_tp.shape}")
    if n_positives < int(is_tp.sum()):
        raise ValueError(f"n_positives {n_positives} < true positives {int(is_tp.sum())}")
    key = np.where(np.isnan(scores), -np.inf, scores)
    order = np.argsort(-key, kind="stable")
    key, hit = key[order], is_tp[order]
    tp = np.cumsum(hit).astype(np.int64)
    fp = np.cumsum(~hit).astype(np.int64)
    # The last row of each run of equal scores is the operating point of that threshold.
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True]) if len(key) else np.zeros(0, np.int64)
    tp, fp = tp[last], fp[last]
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / n_positives if n_positives else np.zeros(len(tp))
    threshold = np.where(np.isinf(key[last]), np.nan, key[last])
    return {"threshold": threshold, "precision": precision, "recall": recall, "tp": tp, "fp": fp}


def average_precision(scores: np.ndarray, is_tp: np.ndarray, n_positives: int) -> float | None:
    """VOC all-point interpolated AP (module docstring); None when there is no labelled
    ball to find (``n_positives == 0``), 0.0 when there are balls but no detection."""
    curve = precision_recall_curve(scores, is_tp, n_positives)
    return _area(curve["precision"], curve["recall"]) if n_positives > 0 else None


def _area(precision: np.ndarray, recall: np.ndarray) -> float:
    if not len(recall):
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(steps * envelope))


def pr_curve_json(scores: np.ndarray, is_tp: np.ndarray, n_positives: int) -> dict[str, Any]:
    """The curve and its AP as plain lists (NaN thresholds become None)."""
    curve = precision_recall_curve(scores, is_tp, n_positives)
    return {
        "ap": _area(curve["precision"], curve["recall"]) if n_positives else None,
        "n_positives": int(n_positives),
        "n_detections": int(len(np.asarray(scores).reshape(-1))),
        "threshold": [None if np.isnan(t) else float(t) for t in curve["threshold"]],
        "precision": [float(p) for p in curve["precision"]],
        "recall": [float(r) for r in curve["recall"]],
    }
