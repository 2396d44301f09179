"""Frames of one camera shot, with the exact label of each: main-camera rallies and cutaways.

A frame is composed back to front: the backdrop cropped at the camera offset, shadows, then
players and ball sorted by depth. The ball's visibility class comes from that drawing:
``out_of_frame`` (centre outside the frame, or no ball in the shot), ``occluded`` (more than
half of its alpha under players in front of it or the score graphic), ``blurred`` (its path during the exposure
is longer than its diameter) or ``visible``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from balltrack.synth.camera import COURT_HALF_LENGTH_M, Camera
from balltrack.synth.physics import Rally
from balltrack.synth.render import (
    PlayerLook, Sprite, ball_sprite, covered_fraction, crop, path_length_px, player_sprite, shadow_sprite,
)
from balltrack.synth.scene import HAIR, SHIRTS, SKIN, Backdrop, closeup_backdrop, crowd_backdrop
from balltrack.synth.timeline import Shot, camera_offsets

PLAYER_HEIGHT_M = 1.85
BALL_COLOURS = ((215, 232, 70), (228, 236, 140), (238, 238, 228), (196, 206, 110), (240, 220, 95))
BALL_DIAMETER_PX = (3.0, 10.0)
SWING_S = 0.35  # half the duration of a stroke around contact


@dataclass(frozen=True, eq=False)
class ClipStyle:
    """The per-clip look: kits, handedness, ball colour and size, shutter, noise, exposure."""

    looks: dict[int, PlayerLook]  # side (-1 near, +1 far) -> kit
    hands: dict[int, float]  # +1 right-handed, -1 left-handed
    ball_rgb: np.ndarray  # (3,) float32
    ball_d_near_px: float  # ball diameter at the near baseline
    near_depth_m: float
    exposure_s: float
    noise_sigma: float
    gain: float

    @classmethod
    def sample(cls, rng: np.random.Generator, camera: Camera, fps: float) -> "ClipStyle":
        def kit() -> PlayerLook:
            return PlayerLook(tuple(SHIRTS[rng.integers(len(SHIRTS))]), tuple(SHIRTS[rng.integers(len(SHIRTS))] * 0.8),
                              tuple(SKIN[rng.integers(len(SKIN))]), tuple(HAIR[rng.integers(len(HAIR))]))

        _, near_depth = camera.project(np.array([0.0, -COURT_HALF_LENGTH_M, 0.0]))
        return cls(
            looks={-1: kit(), 1: kit()},
            hands={side: 1.0 if rng.random() < 0.88 else -1.0 for side in (-1, 1)},
            ball_rgb=np.array(BALL_COLOURS[rng.integers(len(BALL_COLOURS))], dtype=np.float32) * rng.uniform(0.9, 1.0),
            # ~7.5 px at 288 lines, growing slowly with the frame height.
            ball_d_near_px=float(np.clip(7.5 * math.sqrt(camera.height / 288), *BALL_DIAMETER_PX)
                                 * rng.uniform(0.85, 1.1)),
            near_depth_m=float(near_depth),
            exposure_s=rng.uniform(0.45, 0.9) / fps,  # shutter open 45-90% of the frame period
            noise_sigma=rng.uniform(1.5, 3.0),
            gain=rng.uniform(0.93, 1.05),
        )

    def ball_radius_px(self, depth_m: float) -> float:
        """Perspective size, kept to 3-10 px across so the ball stays findable and small."""
        return float(np.clip(self.ball_d_near_px * self.near_depth_m / depth_m, *BALL_DIAMETER_PX)) / 2


class FrameLabels:
    """Per-frame labels of a clip, filled shot by shot; invisible until set."""

    def __init__(self, n_frames: int) -> None:
        self.visible = np.zeros(n_frames, dtype=bool)
        self.x = np.zeros(n_frames)
        self.y = np.zeros(n_frames)
        self.radius = np.zeros(n_frames)
        self.cls = ["out_of_frame"] * n_frames
        self.shot = np.zeros(n_frames, dtype=np.int64)


def main_shot_frames(shot: Shot, rally: Rally, camera: Camera, backdrop: Backdrop, style: ClipStyle,
                     rng: np.random.Generator, labels: FrameLabels, fps: float,
                     overlay: Sprite | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame index, (H, W, 3) float32 frame)`` of a rally shot, filling ``labels``.

    ``overlay`` (the score graphic) is drawn last, fixed in the frame; it hides the ball
    like a player does.
    """
    W, H, m = camera.width, camera.height, backdrop.margin_px
    frames = np.arange(shot.start_frame, shot.end_frame)
    t = frames / fps
    centre_uv, centre_depth = camera.project(rally.ball_at(t))
    follow = np.where(centre_depth > 0, centre_uv[:, 0], np.nan)
    offsets = camera_offsets(rng, len(frames), fps, follow, (W - 1) / 2, m - 1.5, W / 512)
    players = {side: rally.player_at(side, t) for side in (-1, 1)}
    strides = {side: np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))]) * 2 * np.pi / 1.5
               for side, p in players.items()}
    for k, i in enumerate(frames):
        ox, oy = offsets[k]
        backdrop.animate(rng)
        frame = crop(backdrop.rgb, m, ox, oy, H, W)
        drawn = [_player(frame, camera, rally, style, side, players[side][k], float(t[k]), float(strides[side][k]),
                         ox, oy) for side in (-1, 1)]
        ball, depth_b, radius, streak = _ball(frame, camera, rally, backdrop, style, float(t[k]), ox, oy)
        covered = 1.0
        for depth, sprite in sorted(drawn + [(depth_b, ball)], key=lambda d: -d[0]):
            sprite.draw_on(frame)
            if sprite is not ball and depth < depth_b:
                covered *= 1 - covered_fraction(ball, sprite)
        if overlay is not None:
            overlay.draw_on(frame)
            covered *= 1 - covered_fraction(ball, overlay)
        cu, cv = centre_uv[k, 0] - ox, centre_uv[k, 1] - oy
        labels.shot[i], labels.radius[i] = shot.index, radius
        if not (0 <= cu <= W - 1 and 0 <= cv <= H - 1):
            labels.cls[i] = "out_of_frame"
        elif 1 - covered > 0.5:
            labels.cls[i] = "occluded"
        else:
            labels.visible[i], labels.x[i], labels.y[i] = True, cu, cv
            labels.cls[i] = "blurred" if streak > 2 * radius else "visible"
        yield int(i), frame


def _player(frame: np.ndarray, camera: Camera, rally: Rally, style: ClipStyle, side: int, ground_xy: np.ndarray,
            t: float, stride: float, ox: float, oy: float) -> tuple[float, Sprite]:
    """Draw the player's shadow on ``frame``; return ``(depth m, sprite)`` of the player."""
    px, py = ground_xy
    (feet, head), depth = camera.project(np.array([[px, py, 0.0], [px, py, PLAYER_HEIGHT_M]]))
    height_px = feet[1] - head[1]
    shadow_sprite(feet[0] - ox, feet[1] - oy, 0.3 * height_px, 0.07 * height_px).darken(frame, 0.35)
    swing, racket_side = _swing(rally, side, t, style.hands[side])
    sprite = player_sprite(feet[0] - ox, feet[1] - oy, height_px, style.looks[side], faces_camera=side > 0,
                           racket_side=racket_side, swing=swing, stride=stride)
    return float(depth[0]), sprite


def _ball(frame: np.ndarray, camera: Camera, rally: Rally, backdrop: Backdrop, style: ClipStyle, t: float,
          ox: float, oy: float) -> tuple[Sprite, float, float, float]:
    """Draw the ball's shadow on ``frame``; return the sprite, depth (m), radius and streak length (px).

    The sprite sweeps the ball's path during the exposure, centred on the frame time ``t``.
    """
    half = style.exposure_s / 2
    ends, _ = camera.project(rally.ball_at(np.array([t - half, t + half])))
    n_samples = int(np.clip(math.ceil(np.hypot(*(ends[1] - ends[0])) / 0.5) + 1, 1, 48))
    times = t + np.linspace(-half, half, n_samples) if n_samples > 1 else np.array([t])
    path_uv = camera.project(rally.ball_at(times))[0] - [ox, oy]
    pos = rally.ball_at(np.array([t]))[0]
    depth = float(camera.project(pos)[1])
    radius = style.ball_radius_px(depth)
    ground_uv = camera.project(np.array([pos[0], pos[1], 0.0]))[0]
    strength = 0.3 * math.exp(-max(pos[2] - 0.03, 0.0) / 1.2)  # the shadow fades as the ball rises
    shadow_sprite(ground_uv[0] - ox, ground_uv[1] - oy, 1.1 * radius, 0.5 * radius).darken(frame, strength)
    ball = ball_sprite(path_uv, radius, style.ball_rgb)
    if pos[1] > 0 and backdrop.net_alpha is not None:  # beyond the net: seen through its mesh
        m = backdrop.margin_px
        net = _padded_window(backdrop.net_alpha, ball.y0 + m + round(oy), ball.x0 + m + round(ox), ball.alpha.shape)
        scale = 1 - net
        ball.alpha *= scale
        ball.rgb *= scale[..., None]
    return ball, depth, radius, path_length_px(path_uv)


def _swing(rally: Rally, side: int, t: float, hand: float) -> tuple[float | None, float]:
    """Stroke phase in [-1, 1] near a hit (None otherwise) and the racket side in the image."""
    for t_hit, body in rally.swings.get(side, []):
        if abs(t - t_hit) < SWING_S:
            return (t - t_hit) / SWING_S, float(np.sign(body) or hand)
    return None, hand if side < 0 else -hand  # a right hand is on the image's left when facing us


def _padded_window(arr: np.ndarray, y0: int, x0: int, shape: tuple[int, int]) -> np.ndarray:
    """``arr[y0:y0+h, x0:x0+w]`` with zeros outside ``arr``."""
    h, w = shape
    out = np.zeros((h, w), dtype=arr.dtype)
    ys0, xs0 = max(0, y0), max(0, x0)
    ys1, xs1 = min(arr.shape[0], y0 + h), min(arr.shape[1], x0 + w)
    if ys0 < ys1 and xs0 < xs1:
        out[ys0 - y0 : ys1 - y0, xs0 - x0 : xs1 - x0] = arr[ys0:ys1, xs0:xs1]
    return out


def cutaway_frames(shot: Shot, width: int, height: int, margin: int, surface: str, gain: float,
                   rng: np.random.Generator, labels: FrameLabels, fps: float) -> Iterator[tuple[int, np.ndarray]]:
    """Yield the frames of a cutaway: no ball, so every label stays invisible."""
    if shot.kind == "crowd":
        backdrop = crowd_backdrop(width, height, margin, rng)
    else:
        backdrop = closeup_backdrop(width, height, margin, surface, rng)
    backdrop.scale(gain * rng.uniform(0.9, 1.1))
    offsets = camera_offsets(rng, shot.n_frames, fps, None, (width - 1) / 2, margin - 1.5, width / 512)
    for k, i in enumerate(range(shot.start_frame, shot.end_frame)):
        backdrop.animate(rng, flip_prob=0.04)
        labels.shot[i] = shot.index
        yield i, crop(backdrop.rgb, margin, offsets[k, 0], offsets[k, 1], height, width)
