"""Trajectory repair: each rule against hand-computed arrays."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from balltrack.tracking.trajectory import default_max_speed_px, repair_track, repair_trajectory

W, H = 1280, 720  # default max speed: 0.15 * hypot(1280, 720) = 220.3 px per frame
NAN = math.nan


def track(xs, ys=None, score=None, frames=None):
    """Arrays for repair_trajectory from per-frame x (None = not visible)."""
    n = len(xs)
    vis = np.array([v is not None for v in xs])
    x = np.array([NAN if v is None else v for v in xs], dtype=float)
    y = np.full(n, 50.0) if ys is None else np.array([NAN if v is None else v for v in ys], dtype=float)
    y[~vis] = NAN
    fi = np.arange(n) if frames is None else np.asarray(frames)
    sc = np.where(vis, 0.9, 0.1) if score is None else np.asarray(score, dtype=float)
    return fi, vis, x, y, sc


def repair(xs, ys=None, *, frames=None, **kw):
    kw.setdefault("width", W)
    kw.setdefault("height", H)
    return repair_trajectory(*track(xs, ys, frames=frames), **kw)


def test_default_speed_is_a_fraction_of_the_diagonal():
    assert default_max_speed_px(W, H) == pytest.approx(0.15 * math.hypot(W, H))
    assert default_max_speed_px(2 * W, 2 * H) == pytest.approx(2 * default_max_speed_px(W, H))


def test_isolated_outlier_removed_and_its_frame_filled():
    out = repair([100, 110, 120, 900, 140, 150])
    # 900 is 780 px from both neighbours (limit 220), which are 20 px apart over 2 frames.
    assert out["visible"].all()
    np.testing.assert_allclose(out["x"], [100, 110, 120, 130, 140, 150])
    assert list(out["source"]) == ["detected"] * 3 + ["interpolated"] + ["detected"] * 2
    assert np.isnan(out["score"][3]) and (out["score"][[0, 1, 2, 4, 5]] == 0.9).all()


def test_outlier_not_filled_when_fill_disabled():
    out = repair([100, 110, 120, 900, 140, 150], max_gap=0)
    assert list(out["visible"]) == [True, True, True, False, True, True]
    assert np.isnan(out["x"][3]) and out["source"][3] is None
    assert out["score"][3] == 0.9  # a rejected detection keeps the detector's score


def test_two_frame_excursion_removed():
    out = repair([100, 110, 900, 905, 140, 150])
    np.testing.assert_allclose(out["x"], [100, 110, 120, 130, 140, 150])
    assert list(out["source"][2:4]) == ["interpolated", "interpolated"]


def test_real_fast_motion_and_direction_change_kept():
    xs = [0, 200, 400, 600, 400, 200, 0]  # 200 px/frame (< 220) and a reversal (a hit)
    out = repair(xs, [10, 60, 110, 160, 210, 260, 310])
    assert out["visible"].all() and (out["source"] == "detected").all()
    np.testing.assert_array_equal(out["x"], xs)


def test_speed_limit_scales_with_the_frame_gap():
    # 100 -> 700 over 3 frames = 200 px/frame: plausible; the gap is then filled.
    out = repair([0, 100, None, None, 700, 800])
    np.testing.assert_allclose(out["x"], [0, 100, 300, 500, 700, 800])
    assert list(out["source"]) == ["detected", "detected", "interpolated", "interpolated", "detected", "detected"]


def test_explicit_max_speed():
    out = repair([100, 110, 120, 160, 130, 140], max_speed_px=20, max_gap=0)
    assert list(out["visible"]) == [True, True, True, False, True, True]


def test_gap_of_three_filled_exactly():
    out = repair([10, None, None, None, 50], [20, None, None, None, 0])
    np.testing.assert_allclose(out["x"], [10, 20, 30, 40, 50])
    np.testing.assert_allclose(out["y"], [20, 15, 10, 5, 0])
    assert out["visible"].all()
    assert list(out["source"]) == ["detected"] + ["interpolated"] * 3 + ["detected"]
    assert np.isnan(out["score"][1:4]).all()


def test_gap_longer_than_max_gap_stays_empty():
    at_limit = repair([0] + [None] * 5 + [60])  # 5 missing frames: filled
    assert at_limit["visible"].all()
    np.testing.assert_allclose(at_limit["x"], [0, 10, 20, 30, 40, 50, 60])
    over = repair([0] + [None] * 6 + [70])  # 6 missing frames: left alone
    assert list(over["visible"]) == [True] + [False] * 6 + [True]
    assert np.isnan(over["x"][1:7]).all() and all(s is None for s in over["source"][1:7])
    assert list(over["score"][1:7]) == [0.1] * 6  # unfilled frames keep their scores


def test_missing_rows_count_as_frames():
    # Rows for frames 0, 2, 4 only: the gap between detections 0 and 4 is 3 frames.
    out = repair([0, None, 40], frames=[0, 2, 4])
    np.testing.assert_allclose(out["x"], [0, 20, 40])
    np.testing.assert_array_equal(out["frame_index"], [0, 2, 4])


def test_no_fill_across_a_cut():
    for cut in (1, 2, 3):  # inside the gap, or at the second detection (a new shot)
        out = repair([0, None, None, 30], cuts=[cut])
        assert list(out["visible"]) == [True, False, False, True], cut
        assert out["source"][1] is None and out["source"][2] is None
    assert repair([0, None, None, 30], cuts=[4, 0])["visible"].all()  # cuts outside the gap


def test_no_rejection_across_a_cut():
    xs = [100, 100, 100, 1200]
    # Without a cut, the lone point 1100 px away from a 3-frame tracklet is a jump.
    assert list(repair(xs)["visible"]) == [True, True, True, False]
    # A new shot starting there: nothing to judge it against, so it stays.
    out = repair(xs, cuts=[3])
    assert out["visible"].all() and list(out["source"]) == ["detected"] * 4


def test_first_detection_after_a_cut_judged_by_later_ones():
    out = repair([100, 100, 1200, 500, 510, 520], cuts=[2], max_gap=0)
    # 1200 starts shot 2 and disagrees with 500, 510, 520 which agree: an outlier.
    assert list(out["visible"]) == [True, True, False, True, True, True]


def test_detection_after_a_long_gap_not_judged_against_stale_points():
    xs = [100, 100, 100] + [None] * 27 + [1000, 200, 210, 220]
    out = repair(xs, max_gap=0)
    # Frame 30 (x=1000) would agree with frame 2 (28 frames earlier), but that point is
    # stale (> link_gap frames): it is judged by frames 31-33 instead, and rejected.
    assert not out["visible"][30]
    assert out["visible"][[0, 1, 2, 31, 32, 33]].all()
    kept = repair(xs, max_gap=0, link_gap=30)
    assert kept["visible"][30]


def test_alternating_outliers_resolve_to_the_track():
    xs = [100, 900, 120, 900, 140, 900, 160, 170]
    out = repair(xs, max_gap=0)
    assert list(out["visible"]) == [True, False, True, False, True, False, True, True]


def test_ambiguous_neighbours_keep_the_point():
    # 100 and 1100 disagree with each other: no side can be preferred, keep 600.
    out = repair([100, 600, 1100], max_speed_px=50)
    assert out["visible"].all()


def test_empty_and_all_invisible_inputs():
    empty = repair_trajectory([], [], [], [], [], width=W, height=H)
    assert set(empty) == {"frame_index", "visible", "x", "y", "score", "source"}
    assert all(len(v) == 0 for v in empty.values())
    out = repair([None] * 4)
    assert not out["visible"].any() and np.isnan(out["x"]).all() and all(s is None for s in out["source"])


def test_single_detection_kept():
    out = repair([None, None, 300, None])
    assert list(out["visible"]) == [False, False, True, False]
    assert out["x"][2] == 300 and out["source"][2] == "detected"


def test_visible_row_without_coordinates_is_not_a_detection():
    fi, vis, x, y, sc = track([10, 20, 30])
    x[1] = NAN
    out = repair_trajectory(fi, vis, x, y, sc, width=W, height=H)
    np.testing.assert_allclose(out["x"], [10, 20, 30])
    assert out["source"][1] == "interpolated"


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="strictly increasing"):
        repair_trajectory([0, 2, 1], [True] * 3, [1.0] * 3, [1.0] * 3, width=W, height=H)
    with pytest.raises(ValueError, match="length"):
        repair_trajectory([0, 1], [True], [1.0], [1.0], width=W, height=H)
    with pytest.raises(ValueError, match="width and height"):
        repair_trajectory([0], [True], [1.0], [1.0])


def test_dataframe_wrapper_keeps_other_columns():
    fi, vis, x, y, sc = track([10, None, 30])
    df = pd.DataFrame({"frame_index": fi, "visible": vis, "x": x, "y": y, "score": sc, "pts_s": fi / 25.0})
    out = repair_track(df.iloc[::-1], width=W, height=H)
    assert list(out.columns) == ["frame_index", "visible", "x", "y", "score", "pts_s", "source"]
    np.testing.assert_allclose(out["x"], [10, 20, 30])
    np.testing.assert_allclose(out["pts_s"], [0, 0.04, 0.08])
    assert list(out["source"]) == ["detected", "interpolated", "detected"]
