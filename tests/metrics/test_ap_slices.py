"""AP, slice quantities, bins and per-slice metrics, against hand-computed cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from balltrack.metrics.ap import average_precision, precision_recall_curve
from balltrack.metrics.appearance import ball_appearance
from balltrack.metrics.slices import (
    NO_BALL,
    SLICES,
    UNKNOWN,
    assign_slices,
    ball_speed,
    border_distance,
    frames_since_cut,
    slice_metrics,
    slice_table,
)
from balltrack.metrics.tracking import evaluate_tracks, frame_outcomes, summarize

NAN = float("nan")


def test_ap_is_the_voc_all_point_area():
    # Ranked: T F T F with 3 balls to find. Points (r, p): (1/3, 1), (1/3, 1/2), (2/3, 2/3), (2/3, 1/2).
    # Envelope: 1, 2/3, 2/3, 1/2 -> AP = 1/3 * 1 + 0 + 1/3 * 2/3 + 0 = 5/9.
    scores, hits = np.array([0.6, 0.9, 0.7, 0.8]), np.array([False, True, True, False])
    assert average_precision(scores, hits, 3) == pytest.approx(5 / 9)
    c = precision_recall_curve(scores, hits, 3)
    np.testing.assert_allclose(c["threshold"], [0.9, 0.8, 0.7, 0.6])
    np.testing.assert_allclose(c["recall"], [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(c["precision"], [1, 1 / 2, 2 / 3, 1 / 2])
    # The interpolation lifts a dip: F first then T T -> points (0, 0), (1/2, 1/2), (1, 2/3); envelope 2/3 all along.
    assert average_precision(np.array([0.9, 0.8, 0.7]), np.array([False, True, True]), 2) == pytest.approx(2 / 3)


def test_ap_ties_are_one_point_and_nan_ranks_last():
    for hits in ([True, False], [False, True]):  # order of tied rows does not matter
        assert average_precision(np.array([0.9, 0.9]), np.array(hits), 1) == 0.5
    # A NaN score (interpolated) ranks below 0.5: F then T -> (0, 0), (1, 1/2) -> AP 0.5, not 1.
    assert average_precision(np.array([NAN, 0.5]), np.array([True, False]), 1) == 0.5
    # No scores at all: one point, AP = precision * recall = 2/3 * 2/4.
    assert average_precision(np.full(3, NAN), np.array([True, True, False]), 4) == pytest.approx(1 / 3)
    assert average_precision(np.zeros(0), np.zeros(0, bool), 2) == 0.0  # balls, no detection
    assert average_precision(np.array([0.5]), np.array([False]), 0) is None  # nothing to find
    with pytest.raises(ValueError, match="n_positives"):
        average_precision(np.array([0.5]), np.array([True]), 0)


def _tables(rows):
    lab = pd.DataFrame([(v, f, lv, lx, ly) for v, f, lv, lx, ly, *_ in rows],
                       columns=["video_id", "frame_index", "visible", "x", "y"])
    prd = pd.DataFrame([(v, f, pv, px, py, s) for v, f, _, _, _, pv, px, py, s in rows],
                       columns=["video_id", "frame_index", "visible", "x", "y", "score"])
    return prd, lab


# video, frame, label (visible, x, y), prediction (visible, x, y, score); wasb, tolerance 5 source px.
ROWS = [
    ("v", 0, True, 100.0, 100.0, True, 101.0, 100.0, 0.9),  # TP
    ("v", 1, True, 200.0, 200.0, True, 230.0, 200.0, 0.8),  # FP1
    ("v", 2, False, NAN, NAN, True, 10.0, 10.0, 0.95),  # FP2
    ("v", 3, True, 300.0, 300.0, False, NAN, NAN, 0.1),  # FN
    ("v", 4, True, 50.0, 50.0, True, 52.0, 50.0, 0.6),  # TP
    ("v", 5, False, NAN, NAN, False, NAN, NAN, 0.2),  # TN
]


def test_evaluate_tracks_ap_matches_hand_computation():
    pred, lab = _tables(ROWS)
    r = evaluate_tracks(pred, lab, protocol="wasb", tolerance=5.0)
    t = r["total"]
    assert (t["TP"], t["FP1"], t["FP2"], t["FN"], t["TN"]) == (2, 1, 1, 1, 1)
    # Ranked 0.95 F, 0.9 T, 0.8 F, 0.6 T; 4 balls. Points (0, 0), (1/4, 1/2), (1/4, 1/3), (1/2, 1/2);
    # envelope 1/2 everywhere -> AP = 1/2 * 1/2.
    assert t["ap"] == pytest.approx(0.25)
    curve = r["pr_curve"]
    assert curve["ap"] == t["ap"] and curve["n_positives"] == 4 and curve["n_detections"] == 4
    # The curve ends at the table's precision; its recall counts the FP1 frame's ball as not found
    # (TP / (TP + FP1 + FN) = 2/4), where TrackNet's recall leaves FP1 out (TP / (TP + FN) = 2/3).
    assert curve["precision"][-1] == t["precision"] == 0.5
    assert curve["recall"][-1] == 0.5 and t["recall"] == 2 / 3
    assert r["per_video"]["v"] == t
    json.dumps(r, allow_nan=False)
    # Without scores every detection ties: AP = precision * recall.
    r = evaluate_tracks(pred.drop(columns="score"), lab, protocol="wasb", tolerance=5.0)
    assert r["total"]["ap"] == pytest.approx(0.25) and r["pr_curve"]["threshold"] == [None]


def test_frame_outcomes_and_summarize_agree_with_evaluate_tracks():
    pred, lab = _tables(ROWS)
    frames = frame_outcomes(pred, lab, protocol="wasb", tolerance=5.0)
    assert list(frames["outcome"]) == ["TP", "FP1", "FP2", "FN", "TP", "TN"]
    assert frames["error_px"].tolist()[:2] == [1.0, 30.0] and math.isnan(frames["error_px"][2])
    assert summarize(frames) == evaluate_tracks(pred, lab, protocol="wasb", tolerance=5.0)["total"]
    sub = summarize(frames.iloc[[0, 3]])  # a slice: one TP, one FN
    assert (sub["recall"], sub["precision"], sub["ap"], sub["n_frames"]) == (0.5, 1.0, 0.5, 2)


def test_ball_speed_central_one_sided_unknown():
    f = np.array([0, 1, 2, 3, 5, 7, 8])
    vis = np.array([True, True, True, False, True, True, True])
    x = np.array([0.0, 3.0, 10.0, NAN, 0.0, 0.0, 0.0])
    y = np.array([0.0, 4.0, 0.0, NAN, 0.0, 0.0, 6.0])
    s = ball_speed(f, vis, x, y)
    # f0: one-sided to f1 (5); f1: central |p2 - p0| / 2 = 5; f2: one-sided to f1 = hypot(7, 4);
    # f3 no ball; f5 no visible neighbour (4, 6 unlabelled); f7 one-sided to f8 = 6; f8 one-sided = 6.
    np.testing.assert_allclose(s, [5, 5, math.hypot(7, 4), NAN, NAN, 6, 6])
    np.testing.assert_allclose(ball_speed(f[::-1], vis[::-1], x[::-1], y[::-1]), s[::-1])  # order-free


def test_border_and_since_cut():
    # Pixel centres: x = 0 spans [-0.5, 0.5] -> 0.5 from the left edge; 511 -> 0.5 from the right.
    np.testing.assert_allclose(border_distance([0.0, 511.0, 100.0, -9.0, NAN], [100.0, 100.0, 10.0, 5.0, 1.0]),
                               [0.5, 0.5, 10.5, 0.0, NAN])
    np.testing.assert_allclose(frames_since_cut([3, 10, 12, 40], [0, 10, 10, NAN]), [-1, 0, 2, NAN])


def _slice_frames():
    frames = pd.DataFrame({
        "video_id": ["a", "a", "a", "a", "b", "b"],
        "frame_index": [0, 1, 2, 3, 0, 1],
        "label_visible": [True, True, True, False, True, True],
        "pred_visible": [True, False, True, True, True, False],
        "outcome": ["TP", "FN", "FP1", "FP2", "TP", "FN"],
        "score": [0.9, NAN, 0.4, 0.7, 0.8, NAN],
        "error_px": [1.0, NAN, 20.0, NAN, 2.0, NAN],
        "speed_px": [1.0, 2.0, 12.0, NAN, NAN, 4.99],
        "diameter_px": [3.9, 4.0, NAN, NAN, 9.0, 20.0],
        "visibility_class": ["visible", "blurred", "visible", "occluded", None, None],
        "contrast": [10.0, 200.0, 59.9, NAN, NAN, 30.0],
        "border_px": [0.2, 16.0, 47.9, NAN, 100.0, 48.0],
        "shot": ["a#0", "a#0", "a#1", "a#1", "b#0", "b#0"],
        "since_cut": [-1.0, -1.0, 0.0, 1.0, NAN, NAN],
    })
    return frames


def test_bins_match_hand_assignment():
    b = assign_slices(_slice_frames())
    assert list(b["speed"]) == ["<2", "2-5", ">=10", NO_BALL, UNKNOWN, "2-5"]
    assert list(b["size"]) == ["<4", "4-6", UNKNOWN, NO_BALL, ">=9", ">=9"]
    assert list(b["visibility"]) == ["visible", "blurred", "visible", "occluded", UNKNOWN, UNKNOWN]
    assert list(b["contrast"]) == ["<30", ">=120", "30-60", NO_BALL, UNKNOWN, "30-60"]
    assert list(b["border"]) == ["<16", "16-48", "16-48", NO_BALL, ">=48", ">=48"]
    assert list(b["shot"]) == ["a#0", "a#0", "a#1", "a#1", "b#0", "b#0"]
    assert list(b["since_cut"]) == ["no cut before", "no cut before", "0-2", "0-2", UNKNOWN, UNKNOWN]
    assert list(b["video"]) == ["a", "a", "a", "a", "b", "b"]


def test_each_kind_partitions_the_frames_and_metrics_are_per_bin():
    frames = _slice_frames()
    result = slice_metrics(frames)
    assert set(result) == {k.name for k in SLICES}
    for kind, spec in result.items():
        assert sum(row["n_frames"] for row in spec["bins"]) == len(frames), kind
    speed = {row["bin"]: row for row in result["speed"]["bins"]}
    assert [row["bin"] for row in result["speed"]["bins"]] == ["<2", "2-5", "5-10", ">=10", NO_BALL, UNKNOWN]
    assert speed["5-10"]["n_frames"] == 0 and speed["5-10"]["ap"] is None
    assert (speed["2-5"]["FN"], speed["2-5"]["recall"]) == (2, 0.0)  # frames a1 and b1, both missed
    assert (speed[">=10"]["FP1"], speed[">=10"]["precision"]) == (1, 0.0)
    assert (speed[NO_BALL]["FP2"], speed[NO_BALL]["accuracy"]) == (1, 0.0)
    video = {row["bin"]: row for row in result["video"]["bins"]}
    assert video["b"]["recall"] == 0.5 and video["b"]["ap"] == 0.5
    json.dumps(result, allow_nan=False)
    table = slice_table(result)
    assert len(table) == sum(len(s["bins"]) for s in result.values())
    assert table.groupby("kind")["n_frames"].sum().eq(len(frames)).all()


def test_a_missing_quantity_column_makes_the_kind_unknown():
    frames = _slice_frames().drop(columns=["contrast"])
    b = assign_slices(frames)
    assert list(b["contrast"]) == [UNKNOWN, UNKNOWN, UNKNOWN, NO_BALL, UNKNOWN, UNKNOWN]


def test_ball_appearance_on_a_drawn_ball():
    img = np.zeros((60, 80, 3), np.uint8)
    img[:] = (50, 100, 50)
    yy, xx = np.mgrid[:60, :80]
    img[np.hypot(xx - 30, yy - 20) <= 3] = (230, 230, 60)  # a 29-pixel disc: equal-area diameter 6.08
    contrast, diameter = ball_appearance(img, 30.0, 20.0)
    assert contrast == pytest.approx(math.dist((230, 230, 60), (50, 100, 50)))
    assert abs(diameter - 2 * math.sqrt(29 / math.pi)) < 0.8  # edge read at 0.35 of the height: 6.6
    contrast, diameter = ball_appearance(img, 60.0, 45.0)  # plain background: nothing stands out
    assert contrast == 0.0 and math.isnan(diameter)
    assert all(math.isnan(v) for v in ball_appearance(img, 200.0, 5.0))  # outside the frame


def test_every_slice_and_bin_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "evaluation.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in doc.splitlines() if line.startswith("| `")}
    for kind in SLICES:
        assert kind.name in rows, kind.name
        assert f"`{kind.column}`" in rows[kind.name], kind.name
        for b in kind.bins:
            assert f"`{b}`" in rows[kind.name], (kind.name, b)
