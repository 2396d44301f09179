"""Heatmap targets and losses, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from balltrack.tracking.heatmaps import (
    bce,
    focal_loss,
    get_loss,
    heatmap_target,
    heatmap_targets,
    weighted_bce,
)


def test_disk_target_pixel_count():
    # Points with dx^2 + dy^2 <= 6.25: 5 (dx=0) + 2*5 (dx=±1) + 2*3 (dx=±2) = 21.
    t = heatmap_target(10, 7, True, 32, 16, radius=2.5)
    assert t.dtype == np.float32 and t.shape == (16, 32)
    assert int(t.sum()) == 21
    assert set(np.unique(t)) == {0.0, 1.0}
    rows, cols = np.nonzero(t)
    assert rows.min() == 5 and rows.max() == 9 and cols.min() == 8 and cols.max() == 12
    assert t[7, 10] == 1 and t[7, 12] == 1 and t[7, 13] == 0  # dx = 2 in, dx = 3 out
    assert t[9, 11] == 1 and t[9, 12] == 0  # d^2 = 5 in, d^2 = 8 out


def test_gaussian_target():
    t = heatmap_target(5, 4, True, 12, 9, kind="gaussian", sigma=2.0)
    assert t[4, 5] == 1.0 and t.max() == 1.0
    assert t[4, 7] == pytest.approx(math.exp(-0.5), rel=1e-6)  # one sigma away
    assert t[6, 7] == pytest.approx(math.exp(-1.0), rel=1e-6)  # d^2 = 8 = 2 sigma^2


def test_invisible_and_bad_targets():
    assert not heatmap_target(np.nan, np.nan, False, 8, 4).any()
    with pytest.raises(ValueError, match="finite"):
        heatmap_target(np.nan, 1.0, True, 8, 4)
    with pytest.raises(ValueError, match="kind"):
        heatmap_target(1, 1, True, 8, 4, kind="box")


@pytest.mark.parametrize("kind", ["disk", "gaussian"])
def test_batched_targets_match_numpy(kind):
    xy = torch.tensor([[[3.0, 2.0], [10.4, 5.7], [float("nan"), float("nan")]], [[0.0, 0.0], [15.0, 7.0], [7.5, 3.5]]])
    visible = torch.tensor([[True, True, False], [True, False, True]])
    t = heatmap_targets(xy, visible, 8, 16, kind=kind)
    assert t.shape == (2, 3, 8, 16) and t.dtype == torch.float32
    for b in range(2):
        for i in range(3):
            x, y = xy[b, i].tolist()
            expected = heatmap_target(x, y, bool(visible[b, i]), 16, 8, kind=kind)
            np.testing.assert_allclose(t[b, i].numpy(), expected, atol=1e-6)
    with pytest.raises(ValueError, match="non-finite"):
        heatmap_targets(xy, torch.ones(2, 3, dtype=torch.bool), 8, 16)


def test_weighted_bce_hand_computed():
    # w = sigmoid(logits) = [0.5, 0.75], y = [1, 0]:
    # pixel 1: -(1 - 0.5)^2 * ln(0.5) = 0.25 ln 2;  pixel 2: -(0.75^2) * ln(0.25) = 1.125 ln 2.
    logits = torch.tensor([0.0, math.log(3.0)])
    target = torch.tensor([1.0, 0.0])
    assert float(weighted_bce(logits, target)) == pytest.approx(0.6875 * math.log(2.0), rel=1e-6)


def test_weighted_bce_stable_and_differentiable():
    logits = torch.tensor([-200.0, 200.0, -200.0, 200.0], requires_grad=True)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0])
    loss = weighted_bce(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert loss.item() == pytest.approx(100.0, rel=1e-4)  # two confidently wrong pixels, ~200 each, mean of 4


def test_focal_vs_bce():
    target = torch.tensor([1.0, 1.0, 0.0, 0.0])
    well = torch.tensor([4.0, 6.0, -5.0, -3.0])  # well classified
    f, b = float(focal_loss(well, target)), float(bce(well, target))
    assert f <= b and f < 0.01 * b
    bad = torch.tensor([-2.0, 0.0, 2.0, 0.5])
    assert float(focal_loss(bad, target)) <= float(bce(bad, target))
    assert float(focal_loss(well, target, alpha=None, gamma=0.0)) == pytest.approx(b, rel=1e-6)


def test_get_loss():
    assert get_loss("wbce") is weighted_bce
    assert get_loss("focal") is focal_loss
    assert get_loss("bce") is bce
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("dice")
