"""Training augmentation for frame windows and their ball positions (torch).

Every geometric change moves the labels with the image: a horizontal flip
mirrors x, a scale/translate applies the same affine map to the positions,
and a ball pushed out of the frame becomes invisible.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    flip_p: float = 0.5
    brightness: float = 0.2  # multiply by U(1-b, 1+b)
    contrast: float = 0.2  # blend with the mean by U(1-c, 1+c)
    scale: float = 0.1  # zoom by U(1-s, 1+s)
    translate: float = 0.05  # shift by U(-t, t) of the size
    affine_p: float = 0.5


def augment(
    frames: torch.Tensor, xy: torch.Tensor, visible: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Augment a batch. ``frames`` (B, T, H, W, 3) float in 0..255, ``xy``
    (B, T, 2) model pixels (pixel centres at integers), ``visible`` (B, T).
    The same transform applies to all T frames of a sample."""
    b, t, h, w, _ = frames.shape
    frames, xy, visible = frames.clone(), xy.clone(), visible.clone()

    flip = torch.rand(b, generator=generator) < cfg.flip_p
    if flip.any():
        frames[flip] = frames[flip].flip(dims=[3])
        xy[flip, :, 0] = (w - 1) - xy[flip, :, 0]

    if cfg.brightness or cfg.contrast:
        gain = 1 + (torch.rand(b, 1, 1, 1, 1, generator=generator) * 2 - 1) * cfg.brightness
        con = 1 + (torch.rand(b, 1, 1, 1, 1, generator=generator) * 2 - 1) * cfg.contrast
        mean = frames.mean(dim=(1, 2, 3, 4), keepdim=True)
        frames = ((frames - mean) * con + mean) * gain
        frames = frames.clamp(0, 255)

    do_affine = torch.rand(b, generator=generator) < cfg.affine_p
    if (cfg.scale or cfg.translate) and do_affine.any():
        s = 1 + (torch.rand(b, generator=generator) * 2 - 1) * cfg.scale
        tx = (torch.rand(b, generator=generator) * 2 - 1) * cfg.translate * w
        ty = (torch.rand(b, generator=generator) * 2 - 1) * cfg.translate * h
        s = torch.where(do_affine, s, torch.ones_like(s))
        tx = torch.where(do_affine, tx, torch.zeros_like(tx))
        ty = torch.where(do_affine, ty, torch.zeros_like(ty))
        frames = _warp(frames, s, tx, ty)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        xy[..., 0] = (xy[..., 0] - cx) * s[:, None] + cx + tx[:, None]
        xy[..., 1] = (xy[..., 1] - cy) * s[:, None] + cy + ty[:, None]
        inside = (xy[..., 0] >= -0.5) & (xy[..., 0] < w - 0.5) & (xy[..., 1] >= -0.5) & (xy[..., 1] < h - 0.5)
        visible = visible & inside
    return frames, xy, visible


def _warp(frames: torch.Tensor, s: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    """Zoom by ``s`` about the centre and shift by (tx, ty) pixels: output
    pixel p shows input pixel (p - c - t) / s + c."""
    b, t, h, w, c = frames.shape
    x = frames.permute(0, 1, 4, 2, 3).reshape(b, t * c, h, w)
    # affine_grid works in normalised coordinates (align_corners=False: -1..1 spans pixel edges).
    theta = torch.zeros(b, 2, 3, dtype=frames.dtype)
    theta[:, 0, 0] = 1 / s
    theta[:, 1, 1] = 1 / s
    theta[:, 0, 2] = -tx / s * 2 / w
    theta[:, 1, 2] = -ty / s * 2 / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.reshape(b, t, c, h, w).permute(0, 1, 3, 4, 2)


def random_crop(
    frames: torch.Tensor,
    xy: torch.Tensor,
    visible: torch.Tensor,
    size: tuple[int, int],
    generator: torch.Generator,
    *,
    ball_p: float = 0.8,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Crop every sample to ``size`` = (height, width) at a random place; with
    probability ``ball_p`` the crop holds the last frame's ball when it is
    visible. The network is fully convolutional, so it trains on crops at full
    resolution and runs on whole frames (5x cheaper steps at 128x224)."""
    b, t, h, w, _ = frames.shape
    ch, cw = size
    if ch > h or cw > w:
        raise ValueError(f"crop {cw}x{ch} is larger than the frames {w}x{h}")
    out = torch.empty((b, t, ch, cw, 3), dtype=frames.dtype)
    xy = xy.clone()
    visible = visible.clone()
    for i in range(b):
        u = torch.rand(3, generator=generator)
        y0 = int(u[0] * (h - ch + 1))
        x0 = int(u[1] * (w - cw + 1))
        if visible[i, -1] and u[2] < ball_p:
            bx, by = float(xy[i, -1, 0]), float(xy[i, -1, 1])
            # Place the ball uniformly inside the crop, 8 px from its edges.
            jx, jy = torch.rand(2, generator=generator)
            x0 = int(min(max(bx - 8 - jx * (cw - 16), 0), w - cw))
            y0 = int(min(max(by - 8 - jy * (ch - 16), 0), h - ch))
        out[i] = frames[i, :, y0 : y0 + ch, x0 : x0 + cw]
        xy[i, :, 0] -= x0
        xy[i, :, 1] -= y0
    inside = (xy[..., 0] >= -0.5) & (xy[..., 0] < cw - 0.5) & (xy[..., 1] >= -0.5) & (xy[..., 1] < ch - 0.5)
    return out, xy, visible & inside
