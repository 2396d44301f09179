"""Pinhole camera for the synthetic broadcast: world metres -> source pixels.

World frame (metres): court centre at the origin, ``x`` across the court (right in the
image), ``y`` along it (away from the main camera), ``z`` up. Pixel centres sit at
integer coordinates, so pixel ``(0, 0)`` covers ``[-0.5, 0.5]^2`` - the convention of
TrackNet label files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COURT_HALF_LENGTH_M = 11.885
DOUBLES_HALF_WIDTH_M = 5.485


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera; ``rotation`` rows are the camera's right, down and forward axes."""

    width: int
    height: int
    focal_px: float
    cx: float
    cy: float
    position_m: np.ndarray  # (3,)
    rotation: np.ndarray  # (3, 3), world -> camera

    def project(self, points_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project ``(..., 3)`` world points; returns ``(uv (..., 2) px, depth (...) m)``."""
        cam = (np.asarray(points_m, dtype=np.float64) - self.position_m) @ self.rotation.T
        depth = cam[..., 2]
        u = self.focal_px * cam[..., 0] / depth + self.cx
        v = self.focal_px * cam[..., 1] / depth + self.cy
        return np.stack([u, v], axis=-1), depth

    def rays(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """World directions ``(..., 3)`` (not normalised) through pixel coordinates ``u, v``."""
        d_cam = np.stack([(u - self.cx) / self.focal_px, (v - self.cy) / self.focal_px, np.ones_like(u)], axis=-1)
        return d_cam @ self.rotation


def look_at(position_m: np.ndarray, target_m: np.ndarray) -> np.ndarray:
    """Rotation (world -> camera) of a camera at ``position_m`` looking at ``target_m``, no roll."""
    forward = target_m - position_m
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right = right / np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def broadcast_camera(rng: np.random.Generator, width: int, height: int) -> Camera:
    """The main broadcast camera: high behind the near baseline, court framed as a trapezoid.

    The near baseline spans ~72-80% of the width and the court's length ~56-62% of the height
    with the far baseline ~27-31% down the frame: the camera height is solved so that any
    aspect ratio gets that framing (taller frames need a steeper view).
    """
    fill_w, fill_h = rng.uniform(0.72, 0.80), rng.uniform(0.56, 0.62)
    want = fill_h * height / (fill_w * width)  # court length / near-baseline width, in pixels
    back = COURT_HALF_LENGTH_M + rng.uniform(16.0, 22.0)
    x0 = rng.uniform(-0.8, 0.8)
    target = np.array([0.0, rng.uniform(0.0, 2.0), 0.0])
    lo, hi = 2.0, 60.0
    for _ in range(40):  # the ratio grows with the camera height: bisect
        mid = (lo + hi) / 2
        if _spans(np.array([x0, -back, mid]), target)[1] < want:
            lo = mid
        else:
            hi = mid
    pos = np.array([x0, -back, (lo + hi) / 2])
    rot = look_at(pos, target)
    uv, near_width, _ = _spans(pos, target, with_uv=True)
    focal = fill_w * width / near_width
    cx = (width - 1) / 2 - focal * (uv[0, 0] + uv[1, 0]) / 2
    cy = rng.uniform(0.27, 0.31) * height - focal * uv[2, 1]
    return Camera(width, height, float(focal), float(cx), float(cy), pos, rot)


_CORNERS = np.array(
    [
        [-DOUBLES_HALF_WIDTH_M, -COURT_HALF_LENGTH_M, 0.0],
        [DOUBLES_HALF_WIDTH_M, -COURT_HALF_LENGTH_M, 0.0],
        [-DOUBLES_HALF_WIDTH_M, COURT_HALF_LENGTH_M, 0.0],
        [DOUBLES_HALF_WIDTH_M, COURT_HALF_LENGTH_M, 0.0],
    ]
)


def _spans(pos: np.ndarray, target: np.ndarray, with_uv: bool = False):
    """Near-baseline width and (court length / that width) at unit focal length."""
    uv, _ = Camera(1, 1, 1.0, 0.0, 0.0, pos, look_at(pos, target)).project(_CORNERS)
    near_width = uv[1, 0] - uv[0, 0]
    ratio = (uv[0, 1] - uv[2, 1]) / near_width
    return (uv, near_width, ratio) if with_uv else (near_width, ratio)
