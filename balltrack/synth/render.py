"""Rasterise the moving parts of a frame onto a cropped backdrop, in float32 RGB 0-255.

Everything that moves is a :class:`Sprite`: a small premultiplied RGBA patch at an integer
offset in frame pixels, drawn with analytic anti-aliasing (coverage from signed distances).
The ball's alpha is the disc coverage averaged over positions sampled along its path during
the exposure, so a fast ball is a faint streak - real motion blur, not a smear of the label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(eq=False)
class Sprite:
    """Premultiplied colour ``rgb`` ``(h, w, 3)`` and ``alpha`` ``(h, w)`` at frame pixel ``(x0, y0)``."""

    x0: int
    y0: int
    alpha: np.ndarray
    rgb: np.ndarray

    @classmethod
    def empty(cls, u0: float, v0: float, u1: float, v1: float) -> "Sprite":
        x0, y0 = math.floor(u0), math.floor(v0)
        w, h = max(1, math.ceil(u1) - x0 + 1), max(1, math.ceil(v1) - y0 + 1)
        return cls(x0, y0, np.zeros((h, w), np.float32), np.zeros((h, w, 3), np.float32))

    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates of the patch columns ``(1, w)`` and rows ``(h, 1)``."""
        grid = getattr(self, "_grid_cache", None)
        if grid is None or grid[0].shape[1] != self.alpha.shape[1] or grid[1].shape[0] != self.alpha.shape[0]:
            h, w = self.alpha.shape
            grid = (np.arange(self.x0, self.x0 + w, dtype=np.float32)[None, :],
                    np.arange(self.y0, self.y0 + h, dtype=np.float32)[:, None])
            self._grid_cache = grid
        return grid

    def paint(self, coverage, bbox: tuple[float, float, float, float], colour, opacity: float = 1.0) -> None:
        """Paint ``colour`` over the sprite where ``coverage(X, Y)`` (pixel grids) is > 0 in ``bbox``."""
        h, w = self.alpha.shape
        c0, r0 = max(0, math.floor(bbox[0]) - self.x0), max(0, math.floor(bbox[1]) - self.y0)
        c1, r1 = min(w, math.ceil(bbox[2]) - self.x0 + 1), min(h, math.ceil(bbox[3]) - self.y0 + 1)
        if c0 >= c1 or r0 >= r1:
            return
        X, Y = self._grid()
        X, Y = X[:, c0:c1], Y[r0:r1]
        a = coverage(X, Y).astype(np.float32, copy=False)
        if opacity != 1.0:
            a = a * np.float32(opacity)
        sub_a, sub_rgb = self.alpha[r0:r1, c0:c1], self.rgb[r0:r1, c0:c1]
        sub_rgb *= 1 - a[..., None]
        sub_rgb += a[..., None] * np.asarray(colour, np.float32)
        sub_a *= 1 - a
        sub_a += a

    def draw_on(self, frame: np.ndarray) -> None:
        """Composite over ``frame`` ``(H, W, 3)`` float32 in place, clipped to the frame."""
        ys, xs, sy, sx = _overlap(frame.shape, self.y0, self.x0, self.alpha.shape)
        if ys is None:
            return
        region = frame[ys, xs]
        region *= 1 - self.alpha[sy, sx][..., None]
        region += self.rgb[sy, sx]

    def darken(self, frame: np.ndarray, strength: float) -> None:
        """Multiply ``frame`` by ``1 - strength * alpha``: a soft shadow."""
        ys, xs, sy, sx = _overlap(frame.shape, self.y0, self.x0, self.alpha.shape)
        if ys is not None:
            frame[ys, xs] *= (1 - strength * self.alpha[sy, sx])[..., None]


def _overlap(frame_shape, y0: int, x0: int, patch_shape):
    H, W = frame_shape[:2]
    h, w = patch_shape
    fy0, fx0, fy1, fx1 = max(0, y0), max(0, x0), min(H, y0 + h), min(W, x0 + w)
    if fy0 >= fy1 or fx0 >= fx1:
        return None, None, None, None
    return slice(fy0, fy1), slice(fx0, fx1), slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0)


def covered_fraction(ball: Sprite, occluder: Sprite) -> float:
    """Share of the ball's alpha mass under the occluder's alpha (0-1)."""
    total = float(ball.alpha.sum())
    if total <= 0:
        return 0.0
    y0, x0 = max(ball.y0, occluder.y0), max(ball.x0, occluder.x0)
    y1 = min(ball.y0 + ball.alpha.shape[0], occluder.y0 + occluder.alpha.shape[0])
    x1 = min(ball.x0 + ball.alpha.shape[1], occluder.x0 + occluder.alpha.shape[1])
    if y0 >= y1 or x0 >= x1:
        return 0.0
    b = ball.alpha[y0 - ball.y0 : y1 - ball.y0, x0 - ball.x0 : x1 - ball.x0]
    o = occluder.alpha[y0 - occluder.y0 : y1 - occluder.y0, x0 - occluder.x0 : x1 - occluder.x0]
    return float((b * o).sum()) / total


# --- signed-distance coverage helpers (pixel units; > 0 inside) -------------------------

def _unit(x: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] in place (np.clip's wrapper costs more than the work on small patches)."""
    np.maximum(x, 0, out=x)
    return np.minimum(x, 1, out=x)


def capsule(ax: float, ay: float, bx: float, by: float, r: float):
    def cov(X, Y):
        dx, dy = bx - ax, by - ay
        t = _unit(((X - ax) * dx + (Y - ay) * dy) / max(dx * dx + dy * dy, 1e-9))
        dist = np.sqrt((X - ax - t * dx) ** 2 + (Y - ay - t * dy) ** 2)
        return _unit(r + 0.5 - dist)

    return cov, (min(ax, bx) - r - 1, min(ay, by) - r - 1, max(ax, bx) + r + 1, max(ay, by) + r + 1)


def ellipse(cx: float, cy: float, rx: float, ry: float):
    def cov(X, Y):
        k = np.sqrt(((X - cx) / rx) ** 2 + ((Y - cy) / ry) ** 2)
        return _unit((1 - k) * min(rx, ry) + 0.5)

    return cov, (cx - rx - 1, cy - ry - 1, cx + rx + 1, cy + ry + 1)


def ring(cx: float, cy: float, r: float, half_width: float):
    def cov(X, Y):
        return _unit(half_width + 0.5 - np.abs(np.sqrt((X - cx) ** 2 + (Y - cy) ** 2) - r))

    return cov, (cx - r - half_width - 1, cy - r - half_width - 1, cx + r + half_width + 1, cy + r + half_width + 1)


def box(x0: float, y0: float, x1: float, y1: float):
    def cov(X, Y):
        cx = _unit(np.minimum(X + 0.5, x1) - np.maximum(X - 0.5, x0))
        cy = _unit(np.minimum(Y + 0.5, y1) - np.maximum(Y - 0.5, y0))
        return cx * cy

    return cov, (x0 - 1, y0 - 1, x1 + 1, y1 + 1)


# --- the ball ----------------------------------------------------------------------------

def ball_sprite(path_uv: np.ndarray, radius_px: float, colour, alpha_scale: np.ndarray | None = None) -> Sprite:
    """The ball swept along ``path_uv`` ``(N, 2)`` (positions during the exposure).

    Alpha at a pixel is the disc's anti-aliased coverage averaged over the N positions;
    ``alpha_scale`` (same patch shape, optional) dims it, e.g. behind the net's mesh.
    """
    lo, hi = path_uv.min(axis=0) - radius_px - 1.5, path_uv.max(axis=0) + radius_px + 1.5
    s = Sprite.empty(lo[0], lo[1], hi[0], hi[1])
    h, w = s.alpha.shape
    X = np.arange(s.x0, s.x0 + w, dtype=np.float32)
    Y = np.arange(s.y0, s.y0 + h, dtype=np.float32)
    dx = X[None, None, :] - path_uv[:, 0, None, None].astype(np.float32)
    dy = Y[None, :, None] - path_uv[:, 1, None, None].astype(np.float32)
    cov = np.clip(radius_px + 0.5 - np.sqrt(dx * dx + dy * dy), 0, 1).mean(axis=0)
    # A touch of shading: the centre of the ball is slightly brighter than its rim.
    centre = path_uv[len(path_uv) // 2]
    rim = np.clip(np.hypot(X[None, :] - centre[0], Y[:, None] - centre[1]) / max(radius_px, 1.0), 0, 1)
    shade = (1.06 - 0.16 * rim)[..., None]
    s.alpha = cov.astype(np.float32) if alpha_scale is None else (cov * alpha_scale).astype(np.float32)
    s.rgb = (s.alpha[..., None] * np.asarray(colour, np.float32) * shade).astype(np.float32)
    return s


def path_length_px(path_uv: np.ndarray) -> float:
    return float(np.hypot(*np.diff(path_uv, axis=0).T).sum()) if len(path_uv) > 1 else 0.0


# --- players -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PlayerLook:
    shirt: tuple[float, float, float]
    shorts: tuple[float, float, float]
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    shoes: tuple[float, float, float] = (235.0, 235.0, 235.0)
    racket: tuple[float, float, float] = (35.0, 35.0, 40.0)


def player_sprite(feet_u: float, feet_v: float, height_px: float, look: PlayerLook, *, faces_camera: bool,
                  racket_side: float, swing: float | None, stride: float) -> Sprite:
    """A player standing at ``(feet_u, feet_v)``, ``height_px`` tall.

    ``racket_side`` is +1 when the racket hand is on the image's right; ``swing`` in [-1, 1]
    is the phase of a stroke around contact (None: ready position); ``stride`` is the leg
    phase in radians.
    """
    h = max(height_px, 6.0)

    def P(a: float, b: float) -> tuple[float, float]:  # body units -> frame pixels
        return feet_u + a * h, feet_v - b * h

    s = Sprite.empty(feet_u - 0.75 * h, feet_v - 1.35 * h, feet_u + 0.75 * h, feet_v + 0.05 * h)
    skin = look.skin
    step = 0.05 * math.sin(stride)
    for sgn, off in ((-1, step), (1, -step)):  # legs and shoes
        hip, foot = P(sgn * 0.05, 0.47), P(sgn * 0.065 + off, 0.035)
        s.paint(*capsule(*hip, *foot, 0.03 * h), skin)
        s.paint(*ellipse(foot[0], foot[1], 0.045 * h, 0.025 * h), look.shoes)
    s.paint(*box(*P(-0.115, 0.52), *P(0.115, 0.40)), look.shorts)
    s.paint(*box(*P(-0.125, 0.82), *P(0.125, 0.50)), look.shirt)
    side = racket_side
    free_sh, racket_sh = P(-side * 0.12, 0.78), P(side * 0.12, 0.78)
    s.paint(*capsule(*free_sh, *P(-side * 0.2, 0.55), 0.026 * h), skin)
    if swing is None:
        angle = 0.35  # racket across the body, ready
    else:
        angle = -1.9 + 2.9 * (np.clip(swing, -1, 1) + 1) / 2  # back swing -> contact -> follow-through
    hand = (racket_sh[0] + side * 0.22 * h * math.cos(angle), racket_sh[1] - 0.22 * h * math.sin(angle) * 0.6 + 0.1 * h)
    direction = (side * math.cos(angle - 0.5), -math.sin(angle + 0.6))
    s.paint(*capsule(*racket_sh, *hand, 0.026 * h), skin)
    neck = P(0.0, 0.84)
    head_c = P(0.0, 0.91)
    s.paint(*capsule(*neck, *P(0.0, 0.88), 0.03 * h), skin)
    s.paint(*ellipse(head_c[0], head_c[1], 0.068 * h, 0.078 * h), skin if faces_camera else look.hair)
    if faces_camera:
        s.paint(*ellipse(head_c[0], head_c[1] - 0.04 * h, 0.066 * h, 0.045 * h), look.hair)
    grip_end = (hand[0] + direction[0] * 0.14 * h, hand[1] + direction[1] * 0.14 * h)
    s.paint(*capsule(*hand, *grip_end, 0.013 * h), look.racket)
    head_r = (hand[0] + direction[0] * 0.26 * h, hand[1] + direction[1] * 0.26 * h)
    s.paint(*ellipse(head_r[0], head_r[1], 0.07 * h, 0.07 * h), (205, 205, 195), opacity=0.3)  # strings
    s.paint(*ring(head_r[0], head_r[1], 0.07 * h, max(0.012 * h, 0.35)), look.racket)
    return s


def shadow_sprite(u: float, v: float, rx: float, ry: float) -> Sprite:
    s = Sprite.empty(u - rx - 1, v - ry - 1, u + rx + 1, v + ry + 1)
    s.paint(*ellipse(u, v, max(rx, 0.8), max(ry, 0.5)), (0, 0, 0))
    return s


def score_bug(width: int, height: int, rng: np.random.Generator) -> Sprite:
    """The broadcaster's score graphic: a dark box of two rows of 'names' and 'digits'."""
    w, h = 0.24 * width, 0.085 * height
    x0, y0 = rng.uniform(0.025, 0.04) * width, rng.uniform(0.04, 0.06) * height
    s = Sprite.empty(x0, y0, x0 + w, y0 + h)
    s.paint(*box(x0, y0, x0 + w, y0 + h), (20, 30, 70), opacity=0.85)
    s.paint(*box(x0 + 0.72 * w, y0, x0 + w, y0 + h), (240, 200, 40), opacity=0.9)  # the score column
    glyph_h = 0.26 * h
    for row in range(2):
        gy = y0 + (0.17 + 0.46 * row) * h
        gx = x0 + 0.05 * w
        while gx < x0 + 0.6 * w:  # a name: glyphs of random width, a space now and then
            gw = rng.uniform(0.018, 0.035) * w
            s.paint(*box(gx, gy, gx + gw, gy + glyph_h), (240, 240, 240))
            gx += gw + (0.04 * w if rng.random() < 0.15 else 0.012 * w)
        for k in range(2):  # two digits of the score
            dx = x0 + (0.78 + 0.1 * k) * w
            s.paint(*box(dx, gy, dx + 0.05 * w, gy + glyph_h), (20, 20, 30))
    return s


# --- whole frame -------------------------------------------------------------------------

def crop(canvas: np.ndarray, margin: int, ox: float, oy: float, height: int, width: int) -> np.ndarray:
    """The frame seen with camera offset ``(ox, oy)`` px: bilinear crop of the canvas."""
    x, y = margin + ox, margin + oy
    ix, iy = int(math.floor(x)), int(math.floor(y))
    fx, fy = np.float32(x - ix), np.float32(y - iy)
    a = canvas[iy : iy + height + 1, ix : ix + width + 1]
    out = a[:-1, :-1] * ((1 - fx) * (1 - fy))
    out += a[:-1, 1:] * (fx * (1 - fy))
    out += a[1:, :-1] * ((1 - fx) * fy)
    out += a[1:, 1:] * (fx * fy)
    return out


def finish(frame: np.ndarray, noise: np.ndarray, nx: int, ny: int) -> np.ndarray:
    """Add sensor noise (a crop of a noise tile at ``(nx, ny)``), then uint8 RGB."""
    H, W = frame.shape[:2]
    frame += noise[ny : ny + H, nx : nx + W, None]
    np.clip(frame, 0, 255, out=frame)
    return frame.astype(np.uint8)
