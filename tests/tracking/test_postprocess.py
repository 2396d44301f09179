"""Heatmap to position: blob choice and location, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from balltrack.tracking.postprocess import Detection, heatmap_to_position, heatmaps_to_positions


def _one_blob() -> np.ndarray:
    hm = np.zeros((20, 30), np.float32)
    hm[5, 10] = 1.0
    hm[5, 11] = 0.75
    hm[6, 10] = 0.75
    hm[7, 11] = 0.6  # touches (6, 10) only diagonally: 8-connectivity keeps it in the blob
    hm[4, 10] = 0.4  # under the threshold: not part of the blob
    hm[5, 12] = 0.5  # exactly the threshold: not over it
    return hm


def test_weighted_centroid_hand_computed():
    d = heatmap_to_position(_one_blob(), method="wasb")
    # mass = 1 + 0.75 + 0.75 + 0.6 = 3.1
    # x = (1*10 + 0.75*11 + 0.75*10 + 0.6*11) / 3.1 = 32.35 / 3.1
    # y = (1*5 + 0.75*5 + 0.75*6 + 0.6*7) / 3.1 = 17.45 / 3.1
    assert isinstance(d, Detection) and d.visible
    assert d.x == pytest.approx(32.35 / 3.1, rel=1e-6)
    assert d.y == pytest.approx(17.45 / 3.1, rel=1e-6)
    assert d.score == 1.0


def test_bounding_box_centre_hand_computed():
    d = heatmap_to_position(_one_blob(), method="largest")
    # Columns 10..11, rows 5..7: centre (10.5, 6.0) in pixel-centre coordinates.
    assert (d.visible, d.x, d.y, d.score) == (True, 10.5, 6.0, 1.0)


def _two_blobs() -> np.ndarray:
    hm = np.zeros((20, 30), np.float32)
    hm[2:4, 2:5] = 0.55  # A: 6 pixels, mass 3.3
    hm[10:12, 20:22] = 0.95  # B: 4 pixels, mass 3.8
    return hm


def test_wasb_picks_mass_largest_picks_area():
    wasb = heatmap_to_position(_two_blobs(), method="wasb")
    assert (wasb.x, wasb.y) == pytest.approx((20.5, 10.5)) and wasb.score == pytest.approx(0.95)
    largest = heatmap_to_position(_two_blobs(), method="largest")
    assert (largest.x, largest.y) == (3.0, 2.5) and largest.score == pytest.approx(0.55)


def test_ties_go_to_the_first_blob_in_raster_order():
    hm = np.zeros((10, 10), np.float32)
    hm[7, 1] = 0.9
    hm[2, 8] = 0.9
    for method in ("wasb", "largest"):
        d = heatmap_to_position(hm, method=method)
        assert (d.x, d.y) == (8.0, 2.0)


def test_nothing_over_threshold_is_invisible():
    hm = np.full((8, 8), 0.1, np.float32)
    hm[3, 3] = 0.3
    d = heatmap_to_position(hm)
    assert not d.visible and math.isnan(d.x) and math.isnan(d.y)
    assert d.score == pytest.approx(0.3)
    assert heatmap_to_position(hm, threshold=0.2).visible


@pytest.mark.parametrize("method", ["wasb", "largest"])
def test_batch_equals_loop(method):
    rng = np.random.default_rng(0)
    hms = (rng.random((21, 24, 40)) ** 6).astype(np.float32)  # a few scattered blobs per map
    hms[4] = 0.0  # an empty one
    hms[9, 5:9, 5:9] = 0.8  # a large one
    batch = heatmaps_to_positions(hms, method=method)
    assert set(batch) == {"visible", "x", "y", "score"}
    assert batch["visible"].dtype == bool and len(batch["x"]) == 21
    assert 0 < batch["visible"].sum() < 21
    for i, hm in enumerate(hms):
        d = heatmap_to_position(hm, method=method)
        assert d.visible == batch["visible"][i]
        np.testing.assert_array_equal([d.x, d.y, d.score], [batch["x"][i], batch["y"][i], batch["score"][i]])


def test_bad_inputs():
    with pytest.raises(ValueError, match="method"):
        heatmap_to_position(np.zeros((4, 4)), method="peak")
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        heatmap_to_position(np.zeros((1, 4, 4)))
    empty = heatmaps_to_positions(np.zeros((0, 4, 4)))
    assert all(len(v) == 0 for v in empty.values())
