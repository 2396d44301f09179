"""Heatmap training targets and the losses TrackNet trains with.

Coordinates are MODEL pixels with the pixel-centre convention of
``balltrack.models.preprocess``: pixel ``(row, col)`` has its centre at ``x = col, y = row``.
Convert labels with ``balltrack.models.preprocess.to_model_pixels`` first.

Targets:
- ``'disk'``: 1 at pixels whose centre lies within ``radius`` of the ball (distance <= radius),
  0 elsewhere - the binary target of TrackNetV2-V4.
- ``'gaussian'``: ``exp(-d**2 / (2 * sigma**2))`` (peak 1 at the ball's centre).
An invisible ball gives an all-zero target.

Losses take logits (the model's raw output) and a target of the same shape in 0..1 and
return the mean over all elements.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "LOSSES",
    "TARGET_KINDS",
    "bce",
    "focal_loss",
    "get_loss",
    "heatmap_target",
    "heatmap_targets",
    "weighted_bce",
]

TARGET_KINDS = ("disk", "gaussian")


def _check_kind(kind: str) -> None:
    if kind not in TARGET_KINDS:
        raise ValueError(f"heatmap target kind must be one of {TARGET_KINDS}, got {kind!r}")


def heatmap_target(
    x: float,
    y: float,
    visible: bool,
    width: int,
    height: int,
    *,
    radius: float = 2.5,
    kind: str = "disk",
    sigma: float = 2.5,
) -> np.ndarray:
    """Target heatmap for one frame: float32 ``(height, width)`` in 0..1.

    Args:
        x, y: ball centre in model pixels (x = column, y = row).
        visible: False gives all zeros (x, y are then ignored and may be NaN).
        width, height: heatmap size.
        radius: disk radius in pixels (``kind='disk'``).
        kind: ``'disk'`` or ``'gaussian'``.
        sigma: Gaussian standard deviation in pixels (``kind='gaussian'``).
    """
    _check_kind(kind)
    if not visible:
        return np.zeros((height, width), np.float32)
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueError(f"visible ball needs finite coordinates, got x={x}, y={y}")
    cols = np.arange(width, dtype=np.float64) - x
    rows = np.arange(height, dtype=np.float64) - y
    d2 = rows[:, None] ** 2 + cols[None, :] ** 2
    if kind == "disk":
        return (d2 <= radius * radius).astype(np.float32)
    return np.exp(-d2 / (2.0 * sigma * sigma)).astype(np.float32)


def heatmap_targets(
    xy: torch.Tensor,
    visible: torch.Tensor,
    height: int,
    width: int,
    *,
    radius: float = 2.5,
    kind: str = "disk",
    sigma: float = 2.5,
) -> torch.Tensor:
    """Batched :func:`heatmap_target` in torch: float32 ``(B, T, height, width)``.

    Args:
        xy: ``(B, T, 2)`` ball centres ``(x, y)`` in model pixels; may be NaN where invisible.
        visible: ``(B, T)`` bool.
        height, width: heatmap size (note the order: like tensor shapes, rows first).

    The result is on ``xy``'s device, so targets can be built where the model runs.
    """
    _check_kind(kind)
    if xy.ndim != 3 or xy.shape[-1] != 2:
        raise ValueError(f"xy must be (B, T, 2), got {tuple(xy.shape)}")
    if visible.shape != xy.shape[:2]:
        raise ValueError(f"visible must be (B, T) = {tuple(xy.shape[:2])}, got {tuple(visible.shape)}")
    visible = visible.to(device=xy.device, dtype=torch.bool)
    xy = xy.to(torch.float32)
    if bool((visible & ~torch.isfinite(xy).all(dim=-1)).any()):
        raise ValueError("a visible ball has non-finite coordinates")
    xy = torch.where(visible[..., None], xy, torch.zeros_like(xy))  # NaN-free
    cols = torch.arange(width, device=xy.device, dtype=torch.float32)
    rows = torch.arange(height, device=xy.device, dtype=torch.float32)
    dx2 = (cols.view(1, 1, 1, width) - xy[..., 0, None, None]) ** 2  # (B, T, 1, W)
    dy2 = (rows.view(1, 1, height, 1) - xy[..., 1, None, None]) ** 2  # (B, T, H, 1)
    d2 = dx2 + dy2
    if kind == "disk":
        target = (d2 <= radius * radius).to(torch.float32)
    else:
        target = torch.exp(-d2 / (2.0 * sigma * sigma))
    return target * visible[..., None, None].to(torch.float32)


def weighted_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """TrackNetV2's weighted binary cross-entropy, averaged over elements.

    With ``w = sigmoid(logits)`` and target ``y``::

        WBCE = -[(1 - w)**2 * y * log(w) + w**2 * (1 - y) * log(1 - w)]

    The weights down-weight pixels the model already gets right (like a focal loss with
    gamma 2), which matters because almost every pixel is background. ``log(w)`` and
    ``log(1 - w)`` are computed as ``logsigmoid(±logits)``: exact, finite for any logit, and
    with useful gradients where a clamp of ``w`` would zero them. Like the reference
    implementations, the weights are not detached.
    """
    target = target.to(logits.dtype)
    w = torch.sigmoid(logits)
    log_w = F.logsigmoid(logits)
    log_1mw = F.logsigmoid(-logits)
    loss = -((1 - w) ** 2 * target * log_w + w**2 * (1 - target) * log_1mw)
    return loss.mean()


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al., 2017; as ``torchvision.ops.sigmoid_focal_loss``), mean.

    ``FL = alpha_t * (1 - p_t)**gamma * BCE`` with ``p_t = p*y + (1-p)*(1-y)`` and
    ``alpha_t = alpha*y + (1-alpha)*(1-y)``; ``alpha=None`` drops the alpha weighting.
    Never larger than :func:`bce` element-wise.
    """
    target = target.to(logits.dtype)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p = torch.sigmoid(logits)
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = loss * (alpha * target + (1 - alpha) * (1 - target))
    return loss.mean()


def bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Plain binary cross-entropy on logits, mean over elements."""
    return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "wbce": weighted_bce,
    "focal": focal_loss,
    "bce": bce,
}
"""Losses by the name configs and the CLI use."""


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss function ``(logits, target) -> scalar`` called ``name`` ('wbce', 'focal', 'bce')."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
