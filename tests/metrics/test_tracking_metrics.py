"""TrackNet evaluation protocols, against hand-computed cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from balltrack.metrics.tracking import evaluate_tracks

NAN = float("nan")


def _df(rows):
    return pd.DataFrame(rows, columns=["video_id", "frame_index", "visible", "x", "y"])


# Video "a", 1280x720 source. Per frame: label, prediction, and the class under tracknetv2 at tol 4
# (model pixels = source * 512/1280 = source * 288/720 = source * 0.4).
LABELS_A = _df(
    [
        ("a", 0, True, 100.0, 100.0),  # pred 10 px right: 4.0 model px -> TP (boundary, <=)
        ("a", 1, True, 200.0, 200.0),  # pred 11 px down: 4.4 model px -> FP1
        ("a", 2, False, NAN, NAN),  # pred visible -> FP2
        ("a", 3, True, 300.0, 50.0),  # pred invisible -> FN
        ("a", 4, False, NAN, NAN),  # pred invisible -> TN
        ("a", 5, True, 10.0, 10.0),  # no pred row -> FN
        ("a", 6, False, 20.0, 20.0),  # no pred row -> TN (an occluded ball's position is ignored)
        ("a", 8, True, 300.0, 300.0),  # pred (3, 4) px away: 5 source px, 2.0 model px -> TP
    ]
)
PRED_A = _df(
    [
        ("a", 0, True, 110.0, 100.0),
        ("a", 1, True, 200.0, 211.0),
        ("a", 2, True, 5.0, 5.0),
        ("a", 3, False, NAN, NAN),
        ("a", 4, False, NAN, NAN),
        ("a", 7, True, 1.0, 1.0),  # no label: not scored, counted
        ("a", 8, True, 303.0, 304.0),
    ]
)


def _counts(d):
    return {k: d[k] for k in ("TP", "FP1", "FP2", "FN", "TN", "n_frames")}


def test_tracknetv2_every_class_and_scaling():
    r = evaluate_tracks(PRED_A, LABELS_A, protocol="tracknetv2", tolerance=4.0, source_size=(1280, 720))
    t = r["total"]
    assert _counts(t) == {"TP": 2, "FP1": 1, "FP2": 1, "FN": 2, "TN": 2, "n_frames": 8}
    assert t["precision"] == 0.5  # 2 / (2 + 1 + 1)
    assert t["recall"] == 0.5  # 2 / (2 + 2)
    assert t["f1"] == 0.5
    assert t["accuracy"] == 0.5  # (2 + 2) / 8
    assert t["rmse"] == pytest.approx(math.sqrt((10**2 + 5**2) / 2))  # source pixels
    assert t["unlabelled_predictions"] == 1
    assert r["tolerance_units"] == "model_pixels" and r["protocol"] == "tracknetv2"
    assert r["per_video"]["a"] == t
    json.dumps(r, allow_nan=False)


def test_wasb_strict_source_pixels():
    r = evaluate_tracks(PRED_A, LABELS_A, protocol="wasb", tolerance=4.0)
    t = r["total"]
    # 10, 11 and 5 source px are all >= 4: every visible pair is FP1; nothing to take an RMSE of.
    assert _counts(t) == {"TP": 0, "FP1": 3, "FP2": 1, "FN": 2, "TN": 2, "n_frames": 8}
    assert t["precision"] == 0.0 and t["recall"] == 0.0 and t["f1"] == 0.0
    assert t["accuracy"] == 0.25 and t["rmse"] is None
    assert r["tolerance_units"] == "source_pixels"
    json.dumps(r, allow_nan=False)

    r = evaluate_tracks(PRED_A, LABELS_A, protocol="wasb", tolerance=10.5)
    assert _counts(r["total"]) == {"TP": 2, "FP1": 1, "FP2": 1, "FN": 2, "TN": 2, "n_frames": 8}
    assert r["total"]["rmse"] == pytest.approx(math.sqrt(62.5))


def test_boundary_distance_equal_to_tolerance():
    labels = _df([("v", 0, True, 100.0, 100.0)])
    pred = _df([("v", 0, True, 103.0, 104.0)])  # exactly 5 px away
    # Source already at model size: the same 5 px in both protocols.
    v2 = evaluate_tracks(pred, labels, protocol="tracknetv2", tolerance=5.0, source_size=(512, 288))
    wasb = evaluate_tracks(pred, labels, protocol="wasb", tolerance=5.0)
    assert (v2["total"]["TP"], v2["total"]["FP1"]) == (1, 0)  # <=
    assert (wasb["total"]["TP"], wasb["total"]["FP1"]) == (0, 1)  # <


def test_per_video_split_and_sizes():
    labels = pd.concat([LABELS_A, _df([("b", 0, True, 50.0, 50.0), ("b", 1, False, NAN, NAN)])])
    pred = pd.concat([PRED_A, _df([("b", 0, True, 55.0, 50.0), ("b", 1, True, 1.0, 1.0), ("c", 0, True, 1.0, 1.0)])])
    # b is 640x360: 5 source px * 512/640 = 4.0 model px -> TP.
    r = evaluate_tracks(pred, labels, source_size={"a": (1280, 720), "b": (640, 360), "c": (640, 360)})
    assert set(r["per_video"]) == {"a", "b"}  # c has no labels
    assert _counts(r["per_video"]["b"]) == {"TP": 1, "FP1": 0, "FP2": 1, "FN": 0, "TN": 0, "n_frames": 2}
    assert r["per_video"]["b"]["rmse"] == 5.0 and r["per_video"]["b"]["unlabelled_predictions"] == 0
    assert _counts(r["total"]) == {"TP": 3, "FP1": 1, "FP2": 2, "FN": 2, "TN": 2, "n_frames": 10}
    assert r["total"]["unlabelled_predictions"] == 2  # a/7 and c/0
    assert r["total"]["rmse"] == pytest.approx(math.sqrt((100 + 25 + 25) / 3))
    # At 320x180, b's 5 source px are 8.0 model px: FP1.
    small = evaluate_tracks(pred, labels, source_size={"a": (1280, 720), "b": (320, 180), "c": (1, 1)})
    assert small["per_video"]["b"]["FP1"] == 1


def test_missing_predictions_only():
    labels = _df([("v", 0, True, 1.0, 1.0), ("v", 1, False, NAN, NAN)])
    r = evaluate_tracks(_df([]), labels, source_size=(512, 288))
    assert _counts(r["total"]) == {"TP": 0, "FP1": 0, "FP2": 0, "FN": 1, "TN": 1, "n_frames": 2}
    assert r["total"]["accuracy"] == 0.5 and r["total"]["f1"] == 0.0


def test_errors():
    bad = _df([("v", 3, True, NAN, 2.0)])
    with pytest.raises(ValueError, match=r"labels has 1 visible rows without finite x, y.*'v' frame 3"):
        evaluate_tracks(_df([]), bad, protocol="wasb")
    with pytest.raises(ValueError, match="source_size"):
        evaluate_tracks(PRED_A, LABELS_A, protocol="tracknetv2")
    with pytest.raises(ValueError, match="no .*width, height.* for videos \\['a'\\]"):
        evaluate_tracks(PRED_A, LABELS_A, source_size={"b": (640, 360)})
    with pytest.raises(ValueError, match="protocol"):
        evaluate_tracks(PRED_A, LABELS_A, protocol="tracknetv3", source_size=(1280, 720))
    with pytest.raises(ValueError, match="repeated frames"):
        evaluate_tracks(pd.concat([PRED_A, PRED_A]), LABELS_A, source_size=(1280, 720))
    with pytest.raises(ValueError, match="lacks columns"):
        evaluate_tracks(PRED_A.drop(columns="y"), LABELS_A, source_size=(1280, 720))


def test_label_table_dtypes_are_accepted():
    """The label readers' table (str video_id, extra visibility_class column) works as is."""
    labels = LABELS_A.assign(visibility_class=None, video_id=LABELS_A["video_id"].astype("str"))
    pred = PRED_A.assign(score=np.linspace(0, 1, len(PRED_A)), visible=PRED_A["visible"].astype(int))
    r = evaluate_tracks(pred, labels, source_size=(1280, 720))
    assert r["total"]["TP"] == 2
