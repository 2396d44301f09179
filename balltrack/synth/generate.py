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
from balltrack.synth.camera import broadcast_camera
from balltrack.synth.physics import SURFACES, simulate_rally
from balltrack.synth.render import finish, score_bug
from balltrack.synth.scene import Backdrop, stadium_backdrop
from balltrack.synth.shots import ClipStyle, FrameLabels, cutaway_frames, main_shot_frames
from balltrack.synth.timeline import plan_shots
from balltrack.video.encode import VideoWriter

AUDIO_RATE_HZ = 48000
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
    style = ClipStyle.sample(r_style, camera, fps)
    rallies = {s.index: simulate_rally(r_phys, s.start_frame / fps, s.end_frame / fps, SURFACES[surface])
               for s in shots if s.kind == "main"}

    events: list[dict] = []
    for s in shots:
        if s.index > 0:
            events.append(_event(s.start_frame * 1.0 / fps, "cut", fps, n, frame=s.start_frame))
        for t, kind in rallies[s.index].events if s.kind == "main" else ():
            events.append(_event(t, kind, fps, n))
    events.sort(key=lambda e: (e["frame"], e["time_s"], lab.EVENT_TYPES.index(e["type"])))

    labels = FrameLabels(n)
    # Sensor noise: a tile cropped at a random offset each frame (+0.5 rounds in the uint8 cast).
    noise = r_frame.normal(0.5, style.noise_sigma, size=(H + 16, W + 16)).astype(np.float32)
    audio = None
    if spec.audio:
        audio = soundtrack(r_audio, n / fps, AUDIO_RATE_HZ, [(e["time_s"], e["type"]) for e in events])
    writer = VideoWriter(
        out / f"{spec.stem}.mp4", width=W, height=H, fps=fps, crf=spec.crf, preset="veryfast",
        gop=max(1, round(spec.gop_s * fps)), bframes=spec.bframes, audio_rate=AUDIO_RATE_HZ if spec.audio else None,
        # A fixed thread count keeps the bitstream identical on machines with other core counts.
        extra_options={"threads": "2"},
    )
    main_backdrop: Backdrop | None = None
    score = score_bug(W, H, r_style) if r_style.random() < 0.7 else None
    label_files = [out / f"{spec.stem}{ext}" for ext in (".csv", ".meta.csv", ".events.json")]
    written: list[Path] = []
    try:
        for shot in shots:
            if shot.kind == "main":
                if main_backdrop is None:
                    main_backdrop = stadium_backdrop(camera, margin, surface, r_scene)
                    main_backdrop.scale(style.gain)
                frames = main_shot_frames(shot, rallies[shot.index], camera, main_backdrop, style, r_cut, labels, fps,
                                          overlay=score)
            else:
                frames = cutaway_frames(shot, W, H, margin, surface, style.gain, r_cut, labels, fps)
            for i, frame in frames:
                nx, ny = (int(v) for v in r_frame.integers(0, 16, 2))
                writer.write(finish(frame, noise, nx, ny))
                if audio is not None:
                    a0, a1 = round(i * AUDIO_RATE_HZ / fps), round((i + 1) * AUDIO_RATE_HZ / fps)
                    if a1 > a0:
                        writer.write_audio(audio[a0:a1])
        # Labels first, the video last: whoever sees the .mp4 finds its labels beside it.
        shot_docs = [{"index": s.index, "kind": s.kind, "start_frame": s.start_frame, "end_frame": s.end_frame}
                     for s in shots]
        texts = [
            lab.tracknet_csv(labels.visible, labels.x, labels.y),
            lab.meta_csv(labels.radius, labels.cls, labels.shot),
            lab.events_json(video=f"{spec.stem}.mp4", fps=float(fps), width=int(W), height=int(H), n_frames=n,
                            seed=int(spec.seed), clip_index=int(spec.index), events=events, shots=shot_docs),
        ]
        for path, text in zip(label_files, texts):
            lab.write_atomic(path, text)
            written.append(path)
        return writer.close()
    except BaseException:
        writer.abort()
        for path in written:  # no labels of this run without their video
            path.unlink(missing_ok=True)
        raise


def _event(t: float, kind: str, fps: float, n: int, frame: int | None = None) -> dict:
    """An event at clip time ``t``; ``frame`` is the nearest frame (exact for cuts)."""
    f = min(n - 1, max(0, round(t * fps))) if frame is None else frame
    return {"frame": int(f), "time_s": round(float(t), 4), "type": kind}
