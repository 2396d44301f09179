"""Static backdrops of the synthetic broadcast, drawn once per camera shot.

A :class:`Backdrop` is an RGB canvas larger than the frame by ``margin_px`` on every side,
so the camera can pan and jitter by cropping it. Its crowd pixels hold two looks (seated
and moving) that :meth:`Backdrop.animate` swaps cell by cell, so the stands shimmer.

Three kinds: the main tennis view (:func:`stadium_backdrop`: court and lines in perspective,
net, sponsor boards, stands), and two cutaways with no ball (:func:`crowd_backdrop`,
:func:`closeup_backdrop`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from balltrack.synth.camera import COURT_HALF_LENGTH_M, DOUBLES_HALF_WIDTH_M, Camera

SINGLES_HALF_WIDTH_M = 4.115
SERVICE_LINE_M = 6.40
NET_POST_X_M = 6.40
NET_CENTRE_H_M = 0.914
NET_POST_H_M = 1.07
_CELL_KEYS = 4096  # crowd cells hash into this many random looks

SURFACE_STYLES = {
    # inner court colour, surround colour (RGB 0-255)
    "hard": ((52, 96, 150), (58, 118, 84)),
    "clay": ((190, 98, 62), (176, 90, 58)),
    "grass": ((86, 140, 64), (78, 128, 58)),
}
_SHIRTS = np.array(
    [
        [235, 235, 235], [200, 40, 40], [30, 50, 120], [240, 210, 60], [20, 20, 25], [40, 140, 70],
        [240, 130, 40], [120, 60, 150], [90, 170, 220], [250, 200, 200], [150, 150, 150], [60, 60, 80],
    ],
    dtype=np.float32,
)
_SKIN = np.array([[238, 200, 170], [205, 160, 120], [160, 110, 75], [110, 75, 50]], dtype=np.float32)
_HAIR = np.array([[30, 22, 18], [70, 45, 25], [150, 110, 60], [200, 180, 130], [90, 90, 90]], dtype=np.float32)
_BOARDS = np.array([[20, 40, 100], [10, 70, 50], [120, 20, 30], [25, 25, 30], [200, 90, 20]], dtype=np.float32)


@dataclass(eq=False)
class Backdrop:
    """A shot's static picture; ``rgb`` is ``(H + 2m, W + 2m, 3)`` float32 in 0-255."""

    rgb: np.ndarray
    margin_px: int
    net_alpha: np.ndarray | None  # (H + 2m, W + 2m) float32 opacity of the net, main view only
    crowd_index: np.ndarray  # flat pixel indices of crowd pixels
    crowd_key: np.ndarray  # cell key (0.._CELL_KEYS) per crowd pixel
    crowd_a: np.ndarray  # (n, 3) seated look
    crowd_b: np.ndarray  # (n, 3) moving look

    def __post_init__(self) -> None:
        self._state = np.zeros(_CELL_KEYS, dtype=bool)

    def animate(self, rng: np.random.Generator, flip_prob: float = 0.02) -> None:
        """Switch a few crowd cells between their two looks, in place."""
        if self.crowd_index.size == 0:
            return
        flip = rng.random(_CELL_KEYS) < flip_prob
        self._state ^= flip
        changed = flip[self.crowd_key]
        use_b = self._state[self.crowd_key[changed]]
        flat = self.rgb.reshape(-1, 3)
        flat[self.crowd_index[changed]] = np.where(use_b[:, None], self.crowd_b[changed], self.crowd_a[changed])


def band_coverage(x: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Fraction of a pixel (box of width ``footprint`` centred on ``x``) inside ``[lo, hi]``."""
    fp = np.maximum(footprint, 1e-6)
    return np.clip(np.minimum(x + fp / 2, hi) - np.maximum(x - fp / 2, lo), 0.0, None) / fp


def blur3(img: np.ndarray) -> np.ndarray:
    """Separable [1, 2, 1] / 4 blur over the first two axes (edges kept): lens softness."""
    out = img.copy()
    out[1:-1] = (img[:-2] + 2 * img[1:-1] + img[2:]) * 0.25
    tmp = out.copy()
    out[:, 1:-1] = (tmp[:, :-2] + 2 * tmp[:, 1:-1] + tmp[:, 2:]) * 0.25
    return out


def value_noise(x: np.ndarray, y: np.ndarray, cell: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise in [-1, 1] over world coordinates, bilinear between random grid values."""
    gx, gy = x / cell, y / cell
    ix0, iy0 = np.floor(gx), np.floor(gy)
    fx, fy = gx - ix0, gy - iy0
    grid = rng.uniform(-1, 1, size=(64, 64)).astype(np.float32)
    ix, iy = ix0.astype(np.int64) % 64, iy0.astype(np.int64) % 64
    ix1, iy1 = (ix + 1) % 64, (iy + 1) % 64
    top = grid[iy, ix] * (1 - fx) + grid[iy, ix1] * fx
    bot = grid[iy1, ix] * (1 - fx) + grid[iy1, ix1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def _crowd_looks(s: np.ndarray, z: np.ndarray, seat_w: float, row_h: float, rng: np.random.Generator):
    """Spectators on a plane with coordinates ``s`` (along) and ``z`` (up), in any unit.

    Returns ``(look_a, look_b, key)``: colours ``(n, 3)`` seated and moving, and the cell key.
    """
    i = np.floor(s / seat_w + 0.5 * (np.floor(z / row_h) % 2))
    j = np.floor(z / row_h)
    fs = s / seat_w + 0.5 * (j % 2) - i
    fz = z / row_h - j
    key = ((i.astype(np.int64) * 7919 + j.astype(np.int64) * 104729) % _CELL_KEYS).astype(np.int32)
    present = rng.random(_CELL_KEYS) < 0.88
    shirt = _SHIRTS[rng.integers(0, len(_SHIRTS), _CELL_KEYS)] * rng.uniform(0.6, 1.0, (_CELL_KEYS, 1))
    skin = _SKIN[rng.integers(0, len(_SKIN), _CELL_KEYS)]
    hair = _HAIR[rng.integers(0, len(_HAIR), _CELL_KEYS)]
    seat = np.array([38, 42, 52], dtype=np.float32) * (0.8 + 0.3 * (j % 3)[:, None] / 2)

    def look(dx: np.ndarray, dz: np.ndarray) -> np.ndarray:
        cx, cz = 0.5 + dx[key], dz[key]
        torso = (np.abs(fs - cx) < 0.32) & (fz < 0.42 + cz)
        head = ((fs - cx) / 0.17) ** 2 + ((fz - 0.62 - cz) / 0.2) ** 2 < 1
        hair_cap = head & (fz > 0.70 + cz)
        out = seat.copy()
        p = present[key]
        out[torso & p] = shirt[key][torso & p]
        out[head & p] = skin[key][head & p]
        out[hair_cap & p] = hair[key][hair_cap & p]
        return out.astype(np.float32)

    dx_a = rng.uniform(-0.08, 0.08, _CELL_KEYS)
    dz_a = rng.uniform(-0.05, 0.0, _CELL_KEYS)
    dx_b = dx_a + rng.choice([-0.12, 0.12], _CELL_KEYS)
    dz_b = dz_a + rng.uniform(0.05, 0.18, _CELL_KEYS)  # leaning or standing up
    return look(dx_a, dz_a), look(dx_b, dz_b), key


def _finish(rgb_a: np.ndarray, rgb_b: np.ndarray, crowd: np.ndarray, key_map: np.ndarray, margin: int,
            net_alpha: np.ndarray | None) -> Backdrop:
    """Blur both looks of the canvas and keep the crowd pixels (and their blur spill) of each."""
    rgb_a, rgb_b = blur3(rgb_a), blur3(rgb_b)
    spill = crowd.copy()
    spill[1:] |= crowd[:-1]
    spill[:-1] |= crowd[1:]
    spill[:, 1:] |= spill[:, :-1]
    spill[:, :-1] |= spill[:, 1:]
    # A spill pixel takes the key of a crowd neighbour so it flips with its cell.
    keys = key_map.copy()
    for shift in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        moved = np.roll(key_map, shift, axis=(0, 1))
        fill = (keys < 0) & (np.roll(crowd, shift, axis=(0, 1)))
        keys[fill] = moved[fill]
    spill &= keys >= 0
    index = np.flatnonzero(spill)
    return Backdrop(
        rgb=np.ascontiguousarray(rgb_a, dtype=np.float32),
        margin_px=margin,
        net_alpha=net_alpha,
        crowd_index=index,
        crowd_key=keys.reshape(-1)[index],
        crowd_a=rgb_a.reshape(-1, 3)[index],
        crowd_b=rgb_b.reshape(-1, 3)[index],
    )


def stadium_backdrop(camera: Camera, margin: int, surface: str, rng: np.random.Generator) -> Backdrop:
    """The main broadcast view: court with lines in perspective, net, boards and stands."""
    H, W = camera.height + 2 * margin, camera.width + 2 * margin
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float64)
    d = camera.rays(uu - margin, vv - margin)
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    cxm, cym, czm = camera.position_m
    x_wall = DOUBLES_HALF_WIDTH_M + rng.uniform(3.5, 5.0)
    y_wall = COURT_HALF_LENGTH_M + rng.uniform(5.0, 6.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = np.where(dz < 0, -czm / dz, np.inf)
        gx, gy = cxm + t_ground * dx, cym + t_ground * dy
        t_ground[(np.abs(gx) > x_wall) | (gy > y_wall)] = np.inf
        t_back = np.where(dy > 0, (y_wall - cym) / dy, np.inf)
        bx, bz = cxm + t_back * dx, czm + t_back * dz
        t_back[(np.abs(bx) > x_wall) | (bz < 0)] = np.inf
        t_side = np.where(dx > 0, (x_wall - cxm) / dx, np.where(dx < 0, (-x_wall - cxm) / dx, np.inf))
        sy, sz = cym + t_side * dy, czm + t_side * dz
        t_side[(sy > y_wall) | (sz < 0)] = np.inf
    nearest = np.argmin(np.stack([t_ground, t_back, t_side]), axis=0)
    ground, back, side = nearest == 0, nearest == 1, nearest == 2
    ground &= np.isfinite(t_ground)

    inner, outer = (np.array(c, dtype=np.float32) for c in SURFACE_STYLES[surface])
    rgb = np.zeros((H, W, 3), dtype=np.float32)
    rgb[:] = [30, 30, 38]  # roof / dark stand structure
    # --- ground: court colour, texture, lines
    in_court = (np.abs(gx) <= DOUBLES_HALF_WIDTH_M + 0.3) & (np.abs(gy) <= COURT_HALF_LENGTH_M + 0.3)
    col = np.where(in_court[..., None], inner, outer)
    tex = 1 + 0.05 * value_noise(gx, gy, 1.3, rng)[..., None] + 0.03 * value_noise(gx, gy, 0.31, rng)[..., None]
    if surface == "grass":
        tex = tex * (1 + 0.06 * np.where((np.floor(gy / 1.6) % 2) == 0, 1.0, -1.0))[..., None]
        worn = np.exp(-(((np.abs(gy) - 12.0) / 1.3) ** 2) - (gx / 2.5) ** 2)
        col = col * (1 - 0.5 * worn[..., None]) + np.array([170, 150, 95], dtype=np.float32) * 0.5 * worn[..., None]
    rgb[ground] = (col * tex)[ground]
    lines = _court_line_coverage(gx, gy)
    line_rgb = np.array([242, 242, 236], dtype=np.float32)
    rgb[ground] = (rgb * (1 - lines[..., None]) + line_rgb * lines[..., None])[ground]

    # --- walls: sponsor boards below 1 m, a shadow gap, then the stands up to the roof
    board_h, stand_z0, stand_top = 1.0, 1.25, 14.0
    wall = back | side
    ws = np.where(back, bx, np.where(dx > 0, sy + 100.0, 200.0 - sy))
    wz = np.where(back, bz, sz)
    boards = wall & (wz < board_h)
    board_len = rng.uniform(3.0, 5.0)
    b_idx = np.floor(ws / board_len).astype(np.int64)
    b_pal = rng.integers(0, len(_BOARDS), 97)
    fs, fz = ws / board_len - b_idx, wz / board_h
    text = (fs > 0.12) & (fs < 0.88) & (fz > 0.3) & (fz < 0.72) & (np.sin(fs * board_len * 2 * np.pi / 0.45 + b_idx) > -0.35)
    b_col = _BOARDS[b_pal[b_idx % 97]]
    text_col = np.where((b_idx % 3 == 0)[..., None], [245, 230, 90], [240, 240, 240]).astype(np.float32)
    rgb[boards] = np.where(text[..., None], text_col, b_col)[boards]
    rgb[wall & (wz >= board_h) & (wz < stand_z0)] = [18, 18, 22]
    crowd = wall & (wz >= stand_z0) & (wz < stand_top)
    look_a, look_b, keys = _crowd_looks(ws[crowd], wz[crowd] - stand_z0, 0.55, 0.78, rng)
    rgb_b = rgb.copy()
    rgb[crowd], rgb_b[crowd] = look_a, look_b
    key_map = np.full((H, W), -1, dtype=np.int32)
    key_map[crowd] = keys

    # --- net (in front of everything beyond y = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_net = np.where(dy > 0, -cym / dy, np.inf)
        nx, nz = cxm + t_net * dx, czm + t_net * dz
    nx, nz = np.where(np.isfinite(nx), nx, 1e6), np.where(np.isfinite(nz), nz, -1e6)
    fp_x = np.abs(np.gradient(nx, axis=1)) + np.abs(np.gradient(nx, axis=0))
    fp_z = np.abs(np.gradient(nz, axis=1)) + np.abs(np.gradient(nz, axis=0))
    fp_x, fp_z = np.nan_to_num(fp_x, nan=1.0, posinf=1.0), np.nan_to_num(fp_z, nan=1.0, posinf=1.0)
    top = NET_CENTRE_H_M + (NET_POST_H_M - NET_CENTRE_H_M) * (np.abs(nx) / NET_POST_X_M) ** 1.5
    across = band_coverage(nx, -NET_POST_X_M, NET_POST_X_M, fp_x)
    mesh = across * band_coverage(nz, 0.0, top - 0.06, fp_z) * 0.42
    tape = across * band_coverage(nz, top - 0.06, top, fp_z) * 0.95
    strap = band_coverage(nx, -0.03, 0.03, fp_x) * band_coverage(nz, 0.0, top, fp_z) * 0.9
    posts = (band_coverage(np.abs(nx), NET_POST_X_M - 0.06, NET_POST_X_M + 0.06, fp_x)
             * band_coverage(nz, 0.0, NET_POST_H_M + 0.02, fp_z))
    net_alpha = np.clip(mesh + tape + strap + posts, 0, 1).astype(np.float32)
    net_col = (mesh[..., None] * np.float32([25, 25, 28]) + (tape + strap)[..., None] * np.float32([245, 245, 245])
               + posts[..., None] * np.float32([30, 70, 50]))
    net_col /= np.maximum(mesh + tape + strap + posts, 1e-6)[..., None]
    for canvas in (rgb, rgb_b):
        canvas *= 1 - net_alpha[..., None]
        canvas += net_col * net_alpha[..., None]
    return _finish(rgb, rgb_b, crowd, key_map, margin, blur3(net_alpha))


def _court_line_coverage(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage (0-1) of the white court lines at ground points ``gx, gy``."""
    fx = np.abs(np.gradient(gx, axis=1)) + np.abs(np.gradient(gx, axis=0))
    fy = np.abs(np.gradient(gy, axis=1)) + np.abs(np.gradient(gy, axis=0))
    fx, fy = np.nan_to_num(fx, nan=1.0, posinf=1.0), np.nan_to_num(fy, nan=1.0, posinf=1.0)
    L, D, S = COURT_HALF_LENGTH_M, DOUBLES_HALF_WIDTH_M, SINGLES_HALF_WIDTH_M
    cov = np.zeros_like(gx)
    # lines across the court: (y, half width, x extent)
    for y0, hw, xe in ((L, 0.05, D), (-L, 0.05, D), (SERVICE_LINE_M, 0.025, S), (-SERVICE_LINE_M, 0.025, S)):
        c = band_coverage(gy, y0 - hw, y0 + hw, fy) * band_coverage(gx, -xe - 0.025, xe + 0.025, fx)
        np.maximum(cov, c, out=cov)
    # lines along the court: (x, y extent)
    for x0, ye in ((D, L), (-D, L), (S, L), (-S, L), (0.0, SERVICE_LINE_M)):
        c = band_coverage(gx, x0 - 0.025, x0 + 0.025, fx) * band_coverage(gy, -ye, ye, fy)
        np.maximum(cov, c, out=cov)
    for sgn in (1, -1):  # centre marks on the baselines
        c = band_coverage(gx, -0.025, 0.025, fx) * band_coverage(gy * sgn, L - 0.15, L, fy)
        np.maximum(cov, c, out=cov)
    return cov


def crowd_backdrop(width: int, height: int, margin: int, rng: np.random.Generator) -> Backdrop:
    """Cutaway: a close shot of spectators, a few rows filling the frame, soft focus."""
    H, W = height + 2 * margin, width + 2 * margin
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float64)
    row_h = height / rng.uniform(2.5, 4.0)
    # Rows higher in the frame are farther back: seats shrink slightly with height.
    scale = 1 + 0.25 * (vv / H)
    s, z = uu / scale, (H - vv) / scale
    look_a, look_b, keys = _crowd_looks(s.ravel(), z.ravel(), row_h * 0.75, row_h, rng)
    rgb_a, rgb_b = look_a.reshape(H, W, 3), look_b.reshape(H, W, 3)
    crowd = np.ones((H, W), dtype=bool)
    return _finish(blur3(rgb_a), blur3(rgb_b), crowd, keys.reshape(H, W), margin, None)


def closeup_backdrop(width: int, height: int, margin: int, surface: str, rng: np.random.Generator) -> Backdrop:
    """Cutaway: one player in close-up (head and shoulders) before a defocused stadium."""
    H, W = height + 2 * margin, width + 2 * margin
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float32)
    inner, outer = (np.array(c, dtype=np.float32) for c in SURFACE_STYLES[surface])
    horizon = H * rng.uniform(0.35, 0.5)
    t = np.clip((vv - horizon) / (0.15 * H), 0, 1)[..., None]
    stands = np.float32([55, 55, 70]) + 25 * value_noise(uu, vv, H / 6, rng)[..., None]
    rgb = stands * (1 - t) + outer * t
    for _ in range(6):  # soft bright blobs: out-of-focus boards and lights
        bx, by, br = rng.uniform(0, W), rng.uniform(0, horizon), rng.uniform(0.03, 0.08) * H
        glow = np.exp(-(((uu - bx) ** 2 + (vv - by) ** 2) / br**2))[..., None]
        rgb = rgb * (1 - 0.5 * glow) + _BOARDS[rng.integers(len(_BOARDS))] * 0.5 * glow + 40 * glow
    for _ in range(3):
        rgb = blur3(rgb)
    # The player: shoulders from the bottom edge, neck, head.
    pcx = W * rng.uniform(0.35, 0.65)
    unit = H * rng.uniform(0.28, 0.36)
    shirt = _SHIRTS[rng.integers(len(_SHIRTS))]
    skin = _SKIN[rng.integers(len(_SKIN))]
    hair = _HAIR[rng.integers(len(_HAIR))]
    head_cy = H - 2.0 * unit
    shoulders = (((uu - pcx) / (1.6 * unit)) ** 2 + ((vv - (H + 0.2 * unit)) / (1.1 * unit)) ** 2) < 1
    neck = (np.abs(uu - pcx) < 0.28 * unit) & (vv > head_cy) & (vv < H - 0.7 * unit)
    head = (((uu - pcx) / (0.55 * unit)) ** 2 + ((vv - head_cy) / (0.72 * unit)) ** 2) < 1
    hair_m = head & (vv < head_cy - 0.25 * unit)
    band = head & (vv > head_cy - 0.42 * unit) & (vv < head_cy - 0.28 * unit)
    for mask, colour in ((neck, skin * 0.9), (shoulders, shirt), (head, skin), (hair_m, hair), (band, [240, 240, 240])):
        rgb[mask] = colour
    shade = 1 - 0.25 * np.clip((uu - pcx) / (1.6 * unit), 0, 1)  # light from the left
    rgb = blur3(rgb * shade[..., None]).astype(np.float32)
    empty = np.zeros((H, W), dtype=bool)
    return _finish(rgb, rgb.copy(), empty, np.full((H, W), -1, np.int32), margin, None)
