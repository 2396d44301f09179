"""Public API: synthetic broadcast-like tennis rally clips with exact ball labels.

For clip ``i`` of seed ``S`` the files ``rally_S_iii.mp4`` (H.264 yuv420p, AAC mono audio),
``rally_S_iii.csv`` (TrackNet labels), ``rally_S_iii.meta.csv`` and ``rally_S_iii.events.json``
are written. Clip ``i`` depends only on ``(seed, i)`` and the clip settings, not on how many
clips are asked for. The label is the ball centre at the frame's timestamp, in source pixels
(pixel centres at integers); it is the centre of the rendered (motion-blurred) ball path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from balltrack.synth import labels as lab
from balltrack.synth.audio import soundtrack
from balltrack.synth.camera import COURT_HALF_LENGTH_M, Camera, broadcast_camera
from balltrack.synth.physics import SURFACES, Rally, simulate_rally
from balltrack.synth.render import (
    PlayerLook, Sprite, ball_sprite, covered_fraction, crop, finish, path_length_px, player_sprite, shadow_sprite,
)
from balltrack.synth.scene import Backdrop, closeup_backdrop, crowd_backdrop, stadium_backdrop
from balltrack.synth.timeline import Shot, camera_offsets, plan_shots
from balltrack.video.encode import VideoWriter

AUDIO_RATE_HZ = 48000
PLAYER_HEIGHT_M = 1.85
BALL_COLOURS = ((215, 232, 70), (228, 236, 140), (238, 238, 228), (196, 206, 110), (240, 220, 95))
MIN_SIDE_PX = 64


@dataclass(frozen=True)
class ClipSpec:
    """Everything that decides one clip's content; equal specs give identical clips."""

    width: int = 512
    height: int = 288
    fps: float = 25.0
    seconds: float = 8.0
    seed: int = 0
    index: int = 0
    crf: int = 23
    gop_s: float = 2.0
    bframes: int = 2
    audio: bool = True

    def __post_init__(self) -> None:
        for name in ("width", "height", "seed", "index"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.width % 2 or self.height % 2:
            raise ValueError(
                f"size {self.width}x{self.height} has an odd side: H.264 yuv420p needs an even width and height"
            )
        if min(self.width, self.height) < MIN_SIDE_PX:
            raise ValueError(f"size {self.width}x{self.height} is too small: each side must be >= {MIN_SIDE_PX} px")
        if not (math.isfinite(self.fps) and 1 <= self.fps <= 240):
            raise ValueError(f"fps must be within 1-240, got {self.fps!r}")
        if not (math.isfinite(self.seconds) and self.seconds > 0):
            raise ValueError(f"seconds must be > 0, got {self.seconds!r}")
        if self.seed < 0 or self.index < 0:
            raise ValueError(f"seed and index must be >= 0, got seed={self.seed}, index={self.index}")

    @property
    def n_frames(self) -> int:
        return max(1, round(self.seconds * self.fps))

    @property
    def stem(self) -> str:
        return f"rally_{self.seed}_{self.index:03d}"


def generate_clips(
    out_dir: str | Path,
    *,
    clips: int = 2,
    seed: int = 0,
    size: tuple[int, int] = (512, 288),
    fps: float = 25.0,
    seconds: float = 8.0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``clips`` synthetic rally clips into ``out_dir``; returns the ``.mp4`` paths.

    ``size`` is ``(width, height)`` (both even). ``progress(done, total)`` is called after
    each clip, counting clips. Raises ValueError on bad arguments before writing anything.
    """
    if isinstance(clips, bool) or not isinstance(clips, (int, np.integer)) or clips < 0:
        raise ValueError(f"clips must be an integer >= 0, got {clips!r}")
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height), got {size!r}") from None
    specs = [ClipSpec(width, height, float(fps), float(seconds), seed, i) for i in range(clips)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for done, spec in enumerate(specs, 1):
        paths.append(generate_clip(spec, out))
        if progress is not None:
            progress(done, len(specs))
    return paths


def generate_clip(spec: ClipSpec, out_dir: str | Path) -> Path:
    """Render one clip and its label files into ``out_dir``; returns the ``.mp4`` path."""
    out = Path(out_dir)
    W, H, fps, n = spec.width, spec.height, spec.fps, spec.n_frames
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence([spec.seed, spec.index]).spawn(7)]
    r_plan, r_scene, r_phys, r_style, r_frame, r_audio, r_cut = rngs

    shots = plan_shots(r_plan, n, fps)
    surface = str(r_scene.choice(list(SURFACES)))
    camera = broadcast_camera(r_scene, W, H)
    margin = math.ceil(0.035 * max(W, H)) + 4
    style = _style(r_style, camera, H, fps)
    rallies = {s.index: simulate_rally(r_phys, s.start_frame / fps, s.end_frame / fps, SURFACES[surface])
               for s in shots if s.kind == "main"}

    events: list[dict] = []
    for s in shots:
        if s.index > 0:
            events.append(_event(s.start_frame * 1.0 / fps, "cut", fps, n, frame=s.start_frame))
        for t, kind in rallies[s.index].events if s.kind == "main" else ():
            events.append(_event(t, kind, fps, n))
    events.sort(key=lambda e: (e["frame"], e["time_s"], lab.EVENT_TYPES.index(e["type"])))

    labels = _Labels(n)
    noise = r_frame.normal(0.5, style["noise_sigma"], size=(H + 16, W + 16)).astype(np.float32)
    audio = soundtrack(r_audio, n / fps, AUDIO_RATE_HZ, [(e["time_s"], e["type"]) for e in events]) if spec.audio else None
    writer = VideoWriter(
        out / f"{spec.stem}.mp4", width=W, height=H, fps=fps, crf=spec.crf, preset="veryfast",
        gop=max(1, round(spec.gop_s * fps)), bframes=spec.bframes, audio_rate=AUDIO_RATE_HZ if spec.audio else None,
        # A fixed thread count keeps the bitstream identical on machines with other core counts.
        extra_options={"threads": "1"},
    )
    main_backdrop: Backdrop | None = None
    try:
        for shot in shots:
            if shot.kind == "main":
                if main_backdrop is None:
                    main_backdrop = stadium_backdrop(camera, margin, surface, r_scene)
                    main_backdrop.scale(style["gain"])
                frames = _main_shot(shot, rallies[shot.index], camera, main_backdrop, style, r_cut, labels, fps)
            else:
                frames = _cutaway_shot(shot, W, H, margin, surface, r_cut, labels, fps, style["gain"])
            for i, frame in frames:
                nx, ny = (int(v) for v in r_frame.integers(0, 16, 2))
                writer.write(finish(frame, noise, nx, ny))
                if audio is not None:
                    a0, a1 = round(i * AUDIO_RATE_HZ / fps), round((i + 1) * AUDIO_RATE_HZ / fps)
                    if a1 > a0:
                        writer.write_audio(audio[a0:a1])
        writer.close()
    except BaseException:
        writer.abort()
        raise
    lab.write_atomic(out / f"{spec.stem}.csv", lab.tracknet_csv(labels.visible, labels.x, labels.y))
    lab.write_atomic(out / f"{spec.stem}.meta.csv", lab.meta_csv(labels.radius, labels.cls, labels.shot))
    shot_docs = [{"index": s.index, "kind": s.kind, "start_frame": s.start_frame, "end_frame": s.end_frame} for s in shots]
    lab.write_atomic(out / f"{spec.stem}.events.json", lab.events_json(
        video=f"{spec.stem}.mp4", fps=float(fps), width=W, height=H, n_frames=n, seed=spec.seed,
        clip_index=spec.index, events=events, shots=shot_docs))
    return out / f"{spec.stem}.mp4"


class _Labels:
    def __init__(self, n: int) -> None:
        self.visible = np.zeros(n, dtype=bool)
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.radius = np.zeros(n)
        self.cls = ["out_of_frame"] * n
        self.shot = np.zeros(n, dtype=np.int64)


def _event(t: float, kind: str, fps: float, n: int, frame: int | None = None) -> dict:
    """An event at clip time ``t``; ``frame`` is the nearest frame (exact for cuts)."""
    f = min(n - 1, max(0, round(t * fps))) if frame is None else frame
    return {"frame": int(f), "time_s": round(float(t), 4), "type": kind}


def _style(rng: np.random.Generator, camera: Camera, height: int, fps: float) -> dict:
    """Per-clip look: player kits, ball colour and size, shutter, sensor noise."""

    def kit() -> PlayerLook:
        from balltrack.synth.scene import _HAIR, _SHIRTS, _SKIN

        shirt = _SHIRTS[rng.integers(len(_SHIRTS))]
        shorts = _SHIRTS[rng.integers(len(_SHIRTS))] * 0.8
        return PlayerLook(tuple(shirt), tuple(shorts), tuple(_SKIN[rng.integers(len(_SKIN))]),
                          tuple(_HAIR[rng.integers(len(_HAIR))]))

    _, near_depth = camera.project(np.array([0.0, -COURT_HALF_LENGTH_M, 0.0]))
    return {
        "looks": {-1: kit(), 1: kit()},
        "hands": {-1: 1.0 if rng.random() < 0.88 else -1.0, 1: 1.0 if rng.random() < 0.88 else -1.0},
        "ball_colour": np.array(BALL_COLOURS[rng.integers(len(BALL_COLOURS))], dtype=np.float32)
        * rng.uniform(0.9, 1.0),
        # Diameter at the near baseline: ~7.5 px at 288 lines, capped to the 3-10 px range.
        "ball_d_near": float(np.clip(7.5 * math.sqrt(height / 288), 3, 10) * rng.uniform(0.85, 1.1)),
        "near_depth": float(near_depth),
        "exposure_s": rng.uniform(0.45, 0.9) / fps,
        "noise_sigma": rng.uniform(1.5, 3.0),
        "gain": rng.uniform(0.93, 1.05),
    }


def _ball_radius(style: dict, depth_m: float) -> float:
    return float(np.clip(style["ball_d_near"] * style["near_depth"] / depth_m, 3.0, 10.0)) / 2


def _main_shot(shot: Shot, rally: Rally, camera: Camera, backdrop: Backdrop, style: dict,
               rng: np.random.Generator, labels: _Labels, fps: float):
    """Yield ``(frame_index, float32 frame)`` of a main-camera shot, filling ``labels``."""
    W, H, m = camera.width, camera.height, backdrop.margin_px
    frames = np.arange(shot.start_frame, shot.end_frame)
    t = frames / fps
    centre_uv, centre_depth = camera.project(rally.ball_at(t))
    follow = np.where(centre_depth > 0, centre_uv[:, 0], np.nan)
    offsets = camera_offsets(rng, len(frames), fps, follow, (W - 1) / 2, m - 1.5, W / 512)
    players = {side: rally.player_at(side, t) for side in (-1, 1)}
    strides = {side: np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))]) * 2 * np.pi / 1.5
               for side, p in players.items()}
    half_exp = style["exposure_s"] / 2
    for k, i in enumerate(frames):
        ox, oy = offsets[k]
        backdrop.animate(rng)
        frame = crop(backdrop.rgb, m, ox, oy, H, W)
        drawn: list[tuple[float, str, Sprite]] = []
        for side in (-1, 1):
            px, py = players[side][k]
            (feet, head), depth = camera.project(np.array([[px, py, 0.0], [px, py, PLAYER_HEIGHT_M]]))
            height_px = feet[1] - head[1]
            shadow_sprite(feet[0] - ox, feet[1] - oy, 0.3 * height_px, 0.07 * height_px).darken(frame, 0.35)
            swing, rside = _swing(rally, side, t[k], style["hands"][side])
            sprite = player_sprite(feet[0] - ox, feet[1] - oy, height_px, style["looks"][side], faces_camera=side > 0,
                                   racket_side=rside, swing=swing, stride=float(strides[side][k]))
            drawn.append((float(depth[0]), "player", sprite))
        # The ball: its path during the exposure, centred on the frame's timestamp.
        ends, _ = camera.project(rally.ball_at(np.array([t[k] - half_exp, t[k] + half_exp])))
        n_samples = int(np.clip(math.ceil(np.hypot(*(ends[1] - ends[0])) / 0.5) + 1, 1, 48))
        times = t[k] + np.linspace(-half_exp, half_exp, n_samples) if n_samples > 1 else t[k:k + 1]
        pos = rally.ball_at(times)
        path_uv, _ = camera.project(pos)
        path_uv = path_uv - [ox, oy]
        ball_pos = rally.ball_at(t[k : k + 1])[0]
        depth_b = float(centre_depth[k])
        radius = _ball_radius(style, depth_b)
        cu, cv = centre_uv[k, 0] - ox, centre_uv[k, 1] - oy
        (g_uv,), _ = camera.project(np.array([[ball_pos[0], ball_pos[1], 0.0]]))
        shade = 0.3 * math.exp(-max(ball_pos[2] - 0.03, 0.0) / 1.2)
        shadow_sprite(g_uv[0] - ox, g_uv[1] - oy, 1.1 * radius, 0.5 * radius).darken(frame, shade)
        ball = ball_sprite(path_uv, radius, style["ball_colour"])
        if ball_pos[1] > 0 and backdrop.net_alpha is not None:  # beyond the net: seen through its mesh
            scale = 1 - _window(backdrop.net_alpha, ball.y0 + m + round(oy), ball.x0 + m + round(ox), ball.alpha.shape)
            ball.alpha *= scale
            ball.rgb *= scale[..., None]
        drawn.append((depth_b, "ball", ball))
        covered = 1.0
        for depth, kind, sprite in sorted(drawn, key=lambda d: -d[0]):
            sprite.draw_on(frame)
            if kind == "player" and depth < depth_b:
                covered *= 1 - covered_fraction(ball, sprite)
        occluded = 1 - covered
        inside = 0 <= cu <= W - 1 and 0 <= cv <= H - 1
        streak = path_length_px(path_uv)
        labels.shot[i] = shot.index
        labels.radius[i] = radius
        if not inside:
            labels.cls[i] = "out_of_frame"
        elif occluded > 0.5:
            labels.cls[i] = "occluded"
        else:
            labels.visible[i], labels.x[i], labels.y[i] = True, cu, cv
            labels.cls[i] = "blurred" if streak > 2 * radius else "visible"
        yield int(i), frame


def _swing(rally: Rally, side: int, t: float, hand: float) -> tuple[float | None, float]:
    """Stroke phase in [-1, 1] near a hit (None otherwise) and the racket side in the image."""
    for t_hit, body in rally.swings.get(side, []):
        if abs(t - t_hit) < 0.35:
            return (t - t_hit) / 0.35, float(np.sign(body) or hand)
    return None, hand if side < 0 else -hand  # a right hand is on the image's left when facing us


def _window(arr: np.ndarray, y0: int, x0: int, shape: tuple[int, int]) -> np.ndarray:
    """``arr[y0:y0+h, x0:x0+w]`` with zeros outside ``arr``."""
    h, w = shape
    out = np.zeros((h, w), dtype=arr.dtype)
    ys0, xs0 = max(0, y0), max(0, x0)
    ys1, xs1 = min(arr.shape[0], y0 + h), min(arr.shape[1], x0 + w)
    if ys0 < ys1 and xs0 < xs1:
        out[ys0 - y0 : ys1 - y0, xs0 - x0 : xs1 - x0] = arr[ys0:ys1, xs0:xs1]
    return out


def _cutaway_shot(shot: Shot, W: int, H: int, margin: int, surface: str, rng: np.random.Generator,
                  labels: _Labels, fps: float, gain: float):
    """Yield the frames of a cutaway (no ball: every label invisible)."""
    if shot.kind == "crowd":
        backdrop = crowd_backdrop(W, H, margin, rng)
    else:
        backdrop = closeup_backdrop(W, H, margin, surface, rng)
    backdrop.scale(gain * rng.uniform(0.9, 1.1))
    offsets = camera_offsets(rng, shot.n_frames, fps, None, (W - 1) / 2, margin - 1.5, W / 512)
    for k, i in enumerate(range(shot.start_frame, shot.end_frame)):
        backdrop.animate(rng, flip_prob=0.04)
        labels.shot[i] = shot.index
        yield i, crop(backdrop.rgb, margin, offsets[k, 0], offsets[k, 1], H, W)
