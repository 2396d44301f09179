"""How the ball looks at its labelled position: contrast with its surroundings and
apparent size, measured on a decoded frame (numpy only).

Both work on a frame at the model's size, the scale the detector sees:

- contrast: the Euclidean RGB distance (0-441) between the ball's colour - the mean of
  the pixels within ``core`` px of the label (1.5 px, or half the radius when it is
  known) - and the background's - the per-channel median of a ring around it (6-10 px,
  or 2r to 2r+4 px when the radius r is known). A blurred, small or camouflaged ball
  scores low.
- diameter: the colour distance from the background, averaged over 1-px rings around
  the label (a radial profile); the diameter is its full width at ``EDGE_LEVEL`` (0.35)
  of the way from the profile's own background level (rings 6-10 px) to its maximum
  (taken within 3 px of the label), interpolated between rings. NaN when that maximum
  stands out by less than ``MIN_PEAK`` (nothing to measure) or the profile never falls
  to that level within 10 px.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MIN_PEAK", "ball_appearance"]

MIN_PEAK = 20.0
"""How far (colour distance) the ball's profile must rise above its surroundings to be
measured (noise and compression reach ~10)."""
EDGE_LEVEL = 0.35
"""Where between the surroundings (0) and the ball's peak (1) its edge is read. Measured on
synthetic clips, where the exact size is known: at 0.35 the estimate / exact diameter has
median 0.94 (quartiles 0.81-1.06); at half height (0.5) 0.78, as a small ball's blurred
profile is narrower than the ball."""
_MAX_R = 10  # the profile's reach from the label (px at model size)


def ball_appearance(image: np.ndarray, x: float, y: float, radius: float | None = None) -> tuple[float, float]:
    """``(contrast, diameter_px)`` of the ball at model-pixel position ``(x, y)`` in
    ``image`` (H, W, 3) uint8 RGB; ``radius`` (model px) when known. NaN, NaN when the
    position is not finite or outside the frame."""
    h, w = image.shape[:2]
    if not (math.isfinite(x) and math.isfinite(y)) or not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
        return math.nan, math.nan
    r_known = radius is not None and math.isfinite(radius) and radius > 0
    ring_in, ring_out = (max(4.0, 2 * radius), max(8.0, 2 * radius + 4)) if r_known else (6.0, 10.0)
    core = max(1.0, 0.5 * radius) if r_known else 1.5
    reach = int(math.ceil(max(ring_out, _MAX_R))) + 1
    cx, cy = int(round(x)), int(round(y))
    x0, x1, y0, y1 = max(0, cx - reach), min(w, cx + reach + 1), max(0, cy - reach), min(h, cy + reach + 1)
    patch = image[y0:y1, x0:x1].astype(np.float32)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    r = np.hypot(xx - x, yy - y)
    ring = (r >= ring_in) & (r <= ring_out)
    inner = r <= core
    if not ring.any() or not inner.any():
        return math.nan, math.nan
    background = np.median(patch[ring], axis=0)
    contrast = float(np.linalg.norm(patch[inner].mean(axis=0) - background))
    return contrast, _blob_diameter(np.linalg.norm(patch - background, axis=2), r)


def _blob_diameter(dist: np.ndarray, r: np.ndarray) -> float:
    """Full width at ``EDGE_LEVEL`` of the radial profile of ``dist`` (its mean per 1-px
    ring around the label), between the profile's background level (its median over
    rings 6-10 px) and its maximum. The maximum is taken within 3 px of the label, so a
    label a pixel or two off the ball's centre, or a ball with a dark middle, still
    measures. A ring averages all directions, so a player or a line beside the ball moves
    the result far less than it would a thresholded blob."""
    k = np.floor(r + 0.5).astype(np.int64).ravel()
    n = _MAX_R + 1
    inside = k < n
    sums = np.bincount(k[inside], weights=dist.ravel()[inside], minlength=n)
    counts = np.bincount(k[inside], minlength=n)
    if counts[:4].min() == 0 or counts[6:].sum() == 0:
        return math.nan  # too close to the frame's corner to see the rings
    profile = sums / np.maximum(counts, 1)
    base = float(np.median(profile[6:][counts[6:] > 0]))
    top = int(np.argmax(profile[:4]))
    if profile[top] - base < MIN_PEAK:
        return math.nan
    edge = base + (profile[top] - base) * EDGE_LEVEL
    below = np.flatnonzero(profile[top + 1 :] < edge)
    if not len(below):
        return math.nan  # no edge within reach: not a ball-sized blob
    j = top + 1 + int(below[0])
    radius = (j - 1) + (profile[j - 1] - edge) / (profile[j - 1] - profile[j])
    return 2 * float(radius)
