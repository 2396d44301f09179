"""The edit of a clip: which camera shot covers which frames, and how each camera moves."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Shot:
    """Frames ``[start_frame, end_frame)`` from one camera: ``kind`` is 'main', 'crowd' or 'closeup'."""

    index: int
    kind: str
    start_frame: int
    end_frame: int

    @property
    def n_frames(self) -> int:
        return self.end_frame - self.start_frame


def plan_shots(rng: np.random.Generator, n_frames: int, fps: float) -> list[Shot]:
    """Main-camera rallies separated by short cutaways (crowd or player close-up).

    A clip of 2-14 s opens on a rally over 55-75% of it, then a cutaway, then the main
    camera again; longer clips alternate rallies of 3.5-7 s with cutaways of 0.8-1.6 s.
    """
    seconds = n_frames / fps
    kinds: list[str] = []
    durations: list[float] = []
    t = 0.0
    while t < seconds - 1e-9:
        rest = seconds - t
        if not kinds:
            main = seconds * rng.uniform(0.55, 0.75) if 2 <= seconds < 14 else min(rest, rng.uniform(3.5, 7.0))
        else:
            main = rng.uniform(3.5, 7.0)
            main = rest if rest - main < 1.5 else main
        kinds.append("main")
        durations.append(main)
        t += main
        if t >= seconds - 1e-9:
            break
        cut = min(rng.uniform(0.8, 1.6), 0.2 * seconds)
        if seconds - t - cut < 0.5:  # no room for another main shot: end on the cutaway
            cut = seconds - t
        kinds.append(str(rng.choice(["crowd", "closeup"])))
        durations.append(cut)
        t += cut
    edges = [min(n_frames, round(e * fps)) for e in np.cumsum(durations)]
    edges[-1] = n_frames
    shots: list[Shot] = []
    start = 0
    for kind, end in zip(kinds, edges):
        if end > start:
            shots.append(Shot(len(shots), kind, start, end))
            start = end
    return shots


def camera_offsets(rng: np.random.Generator, n: int, fps: float, follow_u: np.ndarray | None, centre_u: float,
                   limit_px: float, scale: float) -> np.ndarray:
    """Per-frame crop offsets ``(n, 2)`` px: a lagging pan toward the ball plus hand-held jitter.

    ``follow_u`` is the ball's u in camera pixels per frame (NaN where unknown); None gives
    a slow drift (cutaways). ``scale`` is the frame width / 512, so motion scales with size.
    """
    t = np.arange(n) / fps
    out = np.zeros((n, 2))
    if follow_u is None:
        speed = rng.uniform(4.0, 9.0) * scale * rng.choice([-1, 1])
        out[:, 0] = -speed * t.mean() + speed * t
    else:
        u = np.where(np.isfinite(follow_u), follow_u, centre_u)
        target = np.clip(0.22 * (u - centre_u), -0.7 * limit_px, 0.7 * limit_px)
        alpha = 1 - math.exp(-1 / (0.7 * fps))  # ~0.7 s lag, like an operator
        x = target[0]
        for i in range(n):
            x += alpha * (target[i] - x)
            out[i, 0] = x
    for axis, amp in ((0, 0.45), (1, 0.35)):
        for _ in range(3):
            f, ph = rng.uniform(0.3, 2.5), rng.uniform(0, 2 * math.pi)
            out[:, axis] += amp * scale * rng.uniform(0.3, 1.0) * np.sin(2 * math.pi * f * t + ph)
    return np.clip(out, -limit_px, limit_px)
