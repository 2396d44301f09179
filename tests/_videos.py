"""Test fixtures: small encoded videos with known structure, and a plain serial
PyAV decode to compare everything against (independent of balltrack.video)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from balltrack.video.encode import VideoWriter


def make_video(
    path: Path,
    *,
    n: int = 90,
    size: tuple[int, int] = (320, 240),
    fps: float = 25,
    gop: int | None = 10,
    bframes: int | None = 2,
    vfr: bool = False,
    extra: dict | None = None,
    audio: bool = False,
    seed: int = 0,
) -> Path:
    """Frames of noise with a moving bright square, so every frame differs."""
    rng = np.random.default_rng(seed)
    w, h = size
    with VideoWriter(
        path, width=w, height=h, fps=fps, gop=gop, bframes=bframes, extra_options=extra,
        audio_rate=16000 if audio else None,
    ) as writer:
        t = 0.0
        for i in range(n):
            img = (rng.random((h, w, 3)) * 80).astype(np.uint8)
            y, x = (i * 3) % (h - 20), (i * 5) % (w - 20)
            img[y : y + 20, x : x + 20] = 255
            if vfr:
                writer.write(img, pts_s=t)
                t += 1 / fps if i % 4 else 2.5 / fps
            else:
                writer.write(img)
        if audio:
            writer.write_audio(0.2 * np.sin(np.arange(int(16000 * n / fps)) / 7.0).astype(np.float32))
    return Path(path)


def serial_decode(path, size=None):
    """(frame_index, pts_s, images) of a front-to-back decode with PyAV."""
    idx, pts, imgs = [], [], []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            w, h = size or (frame.width, frame.height)
            idx.append(i)
            pts.append(frame.time)
            if (w, h) != (frame.width, frame.height):  # scale in YUV, then convert (as ffmpeg's CLI does)
                frame = frame.reformat(width=w, height=h, interpolation="BICUBIC")
            imgs.append(frame.to_ndarray(format="rgb24"))
    return np.array(idx), np.array(pts), np.stack(imgs)


def frames_on_screen(pts_s: np.ndarray, fps: float, start_s: float, end_s: float) -> np.ndarray:
    """Indices of the frames on screen at each instant start + k/fps before end
    (the fps resampling rule), computed the obvious way."""
    keep = []
    k = 0
    while True:
        t = start_s + k / fps
        if t >= end_s - 1e-9:
            break
        i = int(np.searchsorted(pts_s, t + 1e-9, side="right")) - 1
        if i >= 0 and (not keep or keep[-1] != i):
            keep.append(i)
        k += 1
    return np.array(keep)


# Real broadcast clips in ../shared/realdata and their frame counts (its README).
REAL_CLIPS = {
    "ChgygLin__TrackNetV2-pytorch/example_dataset/match/videos/1_10_12.mp4": 6,
    "mareksubocz__TrackNet/example_datasets/video_dataset/videos/VolleyballShortClip.mp4": 21,
    "ArtLabss__tennis-tracking/VideoInput/video_input3.mp4": 93,
    "ArtLabss__tennis-tracking/VideoInput/video_input4.mp4": 125,
    "PranjalSrivastava361__Football_analysis_system/input_videos/08fd33_4.mp4": 169,
    "billhu888__pickleball_AI_ML/input_videos/input_video2.mp4": 201,
    "edwinscb__VolleyballTracking/backend/input.mp4": 66,
}
