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
SHIRTS = np.array(
    [
        [235, 235, 235], [200, 40, 40], [30, 50, 120], [240, 210, 60], [20, 20, 25], [40, 140, 70],
        [240, 130, 40], [120, 60, 150], [90, 170, 220], [250, 200, 200], [150, 150, 150], [60, 60, 80],
    ],
    dtype=np.float32,
)
SKIN = np.array([[238, 200, 170], [205, 160, 120], [160, 110, 75], [110, 75, 50]], dtype=np.float32)
HAIR = np.array([[30, 22, 18], [70, 45, 25], [150, 110, 60], [200, 180, 130], [90, 90, 90]], dtype=np.float32)
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
        # Crowd pixels grouped by cell key, so a frame touches only the cells that change.
        order = np.argsort(self.crowd_key, kind="stable")
        self.crowd_index, self.crowd_key = self.crowd_index[order], self.crowd_key[order]
        self.crowd_a, self.crowd_b = self.crowd_a[order], self.crowd_b[order]
        self._starts = np.searchsorted(self.crowd_key, np.arange(_CELL_KEYS + 1))

    def scale(self, gain: float) -> None:
        """Exposure of the shot: multiply every colour by ``gain``."""
        for arr in (self.rgb, self.crowd_a, self.crowd_b):
            arr *= np.float32(gain)

    def animate(self, rng: np.random.Generator, flip_prob: float = 0.02) -> None:
        """Switch a few crowd cells between their two looks, in place."""
        flips = np.flatnonzero(rng.random(_CELL_KEYS) < flip_prob)
        if self.crowd_index.size == 0 or flips.size == 0:
            return
        self._state[flips] ^= True
        flat = self.rgb.reshape(-1, 3)
        for key in flips:  # ~2% of the cells: a short loop
            a, b = self._starts[key], self._starts[key + 1]
            if a < b:
                flat[self.crowd_index[a:b]] = (self.crowd_b if self._state[key] else self.crowd_a)[a:b]


def band_coverage(x: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Fraction of a pixel (box of width ``footprint`` centred on ``x``) inside ``[lo, hi]``."""
    fp = np.maximum(footprint, 1e-6)
    half = fp * 0.5
    out = np.minimum(x + half, hi)
    out -= np.maximum(x - half, lo)
    np.maximum(out, 0, out=out)
    out /= fp
    return out


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
    shirt = SHIRTS[rng.integers(0, len(SHIRTS), _CELL_KEYS)] * rng.uniform(0.6, 1.0, (_CELL_KEYS, 1))
    skin = SKIN[rng.integers(0, len(SKIN), _CELL_KEYS)]
    hair = HAIR[rng.integers(0, len(HAIR), _CELL_KEYS)]
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
    """The main broadcast view: court with lines in perspective, net, boards and stands.

    Every canvas pixel's ray is intersected with the ground, the back wall and the side
    walls; the nearest hit decides what the pixel shows. Lines and net are anti-aliased
    with the pixel's footprint in metres, computed only in their own image windows.
    """
    H, W = camera.height + 2 * margin, camera.width + 2 * margin
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float32)
    d = camera.rays(uu - margin, vv - margin).astype(np.float32)
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    cxm, cym, czm = (float(v) for v in camera.position_m)
    x_wall = DOUBLES_HALF_WIDTH_M + rng.uniform(3.5, 5.0)
    y_wall = COURT_HALF_LENGTH_M + rng.uniform(5.0, 6.5)
    inf = np.float32(np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = np.where(dz < 0, -czm / dz, inf)
        gx, gy = cxm + t_ground * dx, cym + t_ground * dy
        t_ground[(np.abs(gx) > x_wall) | (gy > y_wall)] = inf
        t_back = np.where(dy > 0, (y_wall - cym) / dy, inf)
        bx, bz = cxm + t_back * dx, czm + t_back * dz
        t_back[(np.abs(bx) > x_wall) | (bz < 0)] = inf
        t_side = np.where(dx > 0, (x_wall - cxm) / dx, np.where(dx < 0, (-x_wall - cxm) / dx, inf))
        sy, sz = cym + t_side * dy, czm + t_side * dz
        t_side[(sy > y_wall) | (sz < 0)] = inf
    ground = np.isfinite(t_ground) & (t_ground <= t_back) & (t_ground <= t_side)
    back = ~ground & np.isfinite(t_back) & (t_back <= t_side)
    side = ~ground & ~back & np.isfinite(t_side)

    inner, outer = (np.array(c, dtype=np.float32) for c in SURFACE_STYLES[surface])
    rgb = np.empty((H, W, 3), dtype=np.float32)
    rgb[:] = [30, 30, 38]  # roof / dark stand structure
    # --- ground (computed on ground pixels only): court colour, texture, lines
    px, py = gx[ground], gy[ground]
    in_court = (np.abs(px) <= DOUBLES_HALF_WIDTH_M + 0.3) & (np.abs(py) <= COURT_HALF_LENGTH_M + 0.3)
    col = np.where(in_court[:, None], inner, outer)
    tex = 1 + 0.05 * value_noise(px, py, 1.3, rng) + 0.03 * value_noise(px, py, 0.31, rng)
    if surface == "grass":
        tex *= 1 + 0.06 * np.where((np.floor(py / 1.6) % 2) == 0, 1.0, -1.0)
        worn = np.exp(-(((np.abs(py) - 12.0) / 1.3) ** 2) - (px / 2.5) ** 2)[:, None]
        col = col * (1 - 0.5 * worn) + np.float32([170, 150, 95]) * 0.5 * worn
    rgb[ground] = col * tex[:, None]
    lines = _court_line_coverage(gx, gy, camera, margin) * ground
    rgb += (np.float32([242, 242, 236]) - rgb) * lines[..., None]

    # --- walls: sponsor boards below 1 m, a shadow gap, then the stands up to the roof
    board_h, stand_z0, stand_top = 1.0, 1.25, 14.0
    wall = back | side
    ws = np.where(back, bx, np.where(dx > 0, sy + 100.0, 200.0 - sy))
    wz = np.where(back, bz, sz)
    boards = wall & (wz < board_h)
    board_len = rng.uniform(3.0, 5.0)
    b_pal = rng.integers(0, len(_BOARDS), 97)
    bs, bzz = ws[boards], wz[boards]
    b_idx = np.floor(bs / board_len).astype(np.int64)
    fs, fz = bs / board_len - b_idx, bzz / board_h
    letters = np.sin(fs * board_len * 2 * np.pi / 0.45 + b_idx) > -0.35
    text = (fs > 0.12) & (fs < 0.88) & (fz > 0.3) & (fz < 0.72) & letters
    text_col = np.where((b_idx % 3 == 0)[:, None], np.float32([245, 230, 90]), np.float32([240, 240, 240]))
    rgb[boards] = np.where(text[:, None], text_col, _BOARDS[b_pal[b_idx % 97]])
    rgb[wall & (wz >= board_h) & (wz < stand_z0)] = [18, 18, 22]
    crowd = wall & (wz >= stand_z0) & (wz < stand_top)
    look_a, look_b, keys = _crowd_looks(ws[crowd], wz[crowd] - stand_z0, 0.55, 0.78, rng)
    rgb_b = rgb.copy()
    rgb[crowd], rgb_b[crowd] = look_a, look_b
    key_map = np.full((H, W), -1, dtype=np.int32)
    key_map[crowd] = keys

    # --- net, in front of everything beyond y = 0; drawn in its own window
    net_alpha = np.zeros((H, W), dtype=np.float32)
    post = NET_POST_X_M + 0.2
    win = _window(camera, margin, [[sx, 0.0, z] for sx in (-post, post) for z in (0.0, NET_POST_H_M + 0.1)])
    if win is not None:
        ys, xs = win
        wdx, wdy, wdz = dx[ys, xs], dy[ys, xs], dz[ys, xs]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_net = np.where(wdy > 0, -cym / wdy, inf)
            nx, nz = cxm + t_net * wdx, czm + t_net * wdz
        nx, nz = np.where(np.isfinite(nx), nx, 1e6), np.where(np.isfinite(nz), nz, -1e6)
        fp_x, fp_z = _footprint(nx), _footprint(nz)
        sag = (np.minimum(np.abs(nx), NET_POST_X_M) / NET_POST_X_M) ** 1.5
        top = NET_CENTRE_H_M + (NET_POST_H_M - NET_CENTRE_H_M) * sag
        across = band_coverage(nx, -NET_POST_X_M, NET_POST_X_M, fp_x)
        mesh = across * band_coverage(nz, 0.0, top - 0.06, fp_z) * 0.42
        tape = across * band_coverage(nz, top - 0.06, top, fp_z) * 0.95
        strap = band_coverage(nx, -0.03, 0.03, fp_x) * band_coverage(nz, 0.0, top, fp_z) * 0.9
        posts = (band_coverage(np.abs(nx), NET_POST_X_M - 0.06, NET_POST_X_M + 0.06, fp_x)
                 * band_coverage(nz, 0.0, NET_POST_H_M + 0.02, fp_z))
        total = mesh + tape + strap + posts
        alpha = np.clip(total, 0, 1)
        net_col = (mesh[..., None] * np.float32([25, 25, 28]) + (tape + strap)[..., None] * np.float32([245, 245, 245])
                   + posts[..., None] * np.float32([30, 70, 50])) / np.maximum(total, 1e-6)[..., None]
        for canvas in (rgb, rgb_b):
            canvas[ys, xs] += (net_col - canvas[ys, xs]) * alpha[..., None]
        net_alpha[ys, xs] = alpha
    return _finish(rgb, rgb_b, crowd, key_map, margin, blur3(net_alpha))


def _window(camera: Camera, margin: int, points_m) -> tuple[slice, slice] | None:
    """Canvas rows and columns (slices) bounding the projection of ``points_m``, padded."""
    uv, depth = camera.project(np.asarray(points_m, dtype=np.float64))
    if np.any(depth <= 0):
        return slice(0, camera.height + 2 * margin), slice(0, camera.width + 2 * margin)
    c0, r0 = np.floor(uv.min(axis=0)).astype(int) + margin - 3
    c1, r1 = np.ceil(uv.max(axis=0)).astype(int) + margin + 4
    r0, c0 = max(r0, 0), max(c0, 0)
    r1, c1 = min(r1, camera.height + 2 * margin), min(c1, camera.width + 2 * margin)
    if r0 >= r1 or c0 >= c1:
        return None
    return slice(r0, r1), slice(c0, c1)


def _footprint(a: np.ndarray) -> np.ndarray:
    """How much ``a`` (a coordinate map) changes across one pixel: the box filter width."""
    if min(a.shape) < 2:
        return np.ones_like(a)
    fp = np.abs(np.gradient(a, axis=1)) + np.abs(np.gradient(a, axis=0))
    return np.nan_to_num(fp, nan=1.0, posinf=1.0).astype(np.float32)


def _court_line_coverage(gx: np.ndarray, gy: np.ndarray, camera: Camera, margin: int) -> np.ndarray:
    """Anti-aliased coverage (0-1) of the white court lines at ground points ``gx, gy``."""
    L, D, S = COURT_HALF_LENGTH_M, DOUBLES_HALF_WIDTH_M, SINGLES_HALF_WIDTH_M
    cov = np.zeros_like(gx)
    # (x from, x to, y from, y to): baselines 10 cm wide, other lines 5 cm
    lines = [(-D - 0.025, D + 0.025, sgn * L - 0.05, sgn * L + 0.05) for sgn in (1, -1)]
    lines += [(-S, S, sgn * SERVICE_LINE_M - 0.025, sgn * SERVICE_LINE_M + 0.025) for sgn in (1, -1)]
    lines += [(x0 - 0.025, x0 + 0.025, -L, L) for x0 in (D, -D, S, -S)]
    lines += [(-0.025, 0.025, -SERVICE_LINE_M, SERVICE_LINE_M)]
    lines += [(-0.025, 0.025, L - 0.15, L), (-0.025, 0.025, -L, -L + 0.15)]  # centre marks
    for x0, x1, y0, y1 in lines:
        win = _window(camera, margin, [[x, y, 0.0] for x in (x0 - 0.2, x1 + 0.2) for y in (y0 - 0.2, y1 + 0.2)])
        if win is None:
            continue
        wx, wy = gx[win], gy[win]
        c = band_coverage(wx, x0, x1, _footprint(wx)) * band_coverage(wy, y0, y1, _footprint(wy))
        np.maximum(cov[win], np.nan_to_num(c), out=cov[win])
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
    inner, outer = (np.array(c, dtype=np.float32) for c in SURFACE_STYLES[surface])
    # The defocused background is smooth: draw it at 1/4 resolution and upsample.
    q = 4
    cv, cu = np.mgrid[0 : -(-H // q), 0 : -(-W // q)].astype(np.float32) * q
    horizon = H * rng.uniform(0.35, 0.5)
    t = np.clip((cv - horizon) / (0.15 * H), 0, 1)[..., None]
    stands = np.float32([55, 55, 70]) + 25 * value_noise(cu, cv, H / 6, rng)[..., None]
    small = stands * (1 - t) + outer * t
    for _ in range(6):  # soft bright blobs: out-of-focus boards and lights
        bx, by, br = rng.uniform(0, W), rng.uniform(0, horizon), rng.uniform(0.03, 0.08) * H
        glow = np.exp(-(((cu - bx) ** 2 + (cv - by) ** 2) / br**2))[..., None]
        small = small * (1 - 0.5 * glow) + _BOARDS[rng.integers(len(_BOARDS))] * 0.5 * glow + 40 * glow
    for _ in range(2):
        small = blur3(small)
    rgb = blur3(np.repeat(np.repeat(small, q, axis=0), q, axis=1)[:H, :W])
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float32)
    # The player: shoulders from the bottom edge, neck, head.
    pcx = W * rng.uniform(0.35, 0.65)
    unit = H * rng.uniform(0.28, 0.36)
    shirt = SHIRTS[rng.integers(len(SHIRTS))]
    skin = SKIN[rng.integers(len(SKIN))]
    hair = HAIR[rng.integers(len(HAIR))]
    head_cy = H - 2.0 * unit
    shoulders = (((uu - pcx) / (1.6 * unit)) ** 2 + ((vv - (H + 0.2 * unit)) / (1.1 * unit)) ** 2) < 1
    neck = (np.abs(uu - pcx) < 0.28 * unit) & (vv > head_cy) & (vv < H - 0.7 * unit)
    head = (((uu - pcx) / (0.55 * unit)) ** 2 + ((vv - head_cy) / (0.72 * unit)) ** 2) < 1
    hair_m = head & (vv < head_cy - 0.25 * unit)
    band = head & (vv > head_cy - 0.42 * unit) & (vv < head_cy - 0.28 * unit)
    eyes = (((np.abs(uu - pcx) - 0.2 * unit) / (0.07 * unit)) ** 2
            + ((vv - head_cy + 0.02 * unit) / (0.05 * unit)) ** 2) < 1
    mouth = (np.abs(uu - pcx) < 0.14 * unit) & (np.abs(vv - head_cy - 0.38 * unit) < 0.03 * unit)
    features = (neck, skin * 0.9), (shoulders, shirt), (head, skin), (hair_m, hair), (band, [240, 240, 240]), \
        (eyes & head, [40, 30, 30]), (mouth & head, skin * 0.6)
    for mask, colour in features:
        rgb[mask] = colour
    shade = 1 - 0.25 * np.clip((uu - pcx) / (1.6 * unit), 0, 1)  # light from the left
    rgb = blur3(rgb * shade[..., None]).astype(np.float32)
    empty = np.zeros((H, W), dtype=bool)
    return _finish(rgb, rgb.copy(), empty, np.full((H, W), -1, np.int32), margin, None)
