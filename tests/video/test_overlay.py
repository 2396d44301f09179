"""Overlay rendering: drawing on arrays, and whole renders of a synthetic and a real clip."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from balltrack.video import overlay
from balltrack.video.encode import VideoWriter
from balltrack.video.overlay import draw_ball, render_overlay, track_positions
from tests._shared import shared_realdata
from tests._videos import REAL_CLIPS, serial_decode

BG = (30, 120, 60)  # flat "court" colour: after compression the marker check is exact but for noise
RED = (255, 0, 0)
W, H = 320, 240


# ---- drawing on arrays -------------------------------------------------------------


def _positions(points: dict[int, tuple[float, float]], n: int) -> np.ndarray:
    pos = np.full((n, 2), np.nan)
    for i, p in points.items():
        pos[i] = p
    return pos


def test_marker_is_a_ring_with_a_centre_dot():
    img = np.full((H, W, 3), BG, np.uint8)
    draw_ball(img, _positions({0: (100.0, 80.0)}, 1), 0, trail=0, colour=RED, radius=12)
    assert tuple(img[80, 100]) == RED  # centre dot (radius 2.4)
    assert tuple(img[80, 100 + 11]) == RED and tuple(img[80 - 12, 100]) == RED  # ring: 9..12
    assert tuple(img[80, 100 + 6]) == BG  # between dot and ring
    assert tuple(img[80, 100 + 13]) == BG  # outside
    changed = np.argwhere((img != BG).any(axis=2))
    assert np.hypot(changed[:, 1] - 100, changed[:, 0] - 80).max() <= 12


def test_trail_fades_with_age():
    img = np.full((H, W, 3), BG, np.uint8)
    pos = _positions({0: (40.0, 40.0), 1: (80.0, 40.0), 2: (120.0, 40.0), 4: (200.0, 40.0)}, 5)
    draw_ball(img, pos, 4, trail=3, colour=RED, radius=10)  # frame 3 has no ball: a hole
    # Age a of trail t: alpha = 0.85 * (1 - a / (t + 1)); blended = bg*(1-alpha) + red*alpha.
    for x, age in ((120, 2), (80, 3)):
        alpha = 0.85 * (1 - age / 4)
        expected = (np.array(BG) * (1 - alpha) + np.array(RED) * alpha + 0.5).astype(np.uint8)
        assert tuple(img[40, x]) == tuple(expected), age
    assert tuple(img[40, 40]) == BG  # frame 0 is older than the trail
    assert tuple(img[40, 200]) == RED


def test_drawing_off_the_frame_and_without_a_ball():
    img = np.full((H, W, 3), BG, np.uint8)
    pos = _positions({0: (-100.0, -100.0), 1: (W + 50.0, 10.0), 3: (W - 1.0, 0.0)}, 4)
    for i in (0, 1, 2, 7):  # far outside, no ball, beyond the track
        draw_ball(img, pos, i, trail=0, colour=RED, radius=8)
    assert (img == BG).all()
    draw_ball(img, pos, 3, trail=0, colour=RED, radius=8)  # at the corner: clipped
    assert tuple(img[0, W - 1]) == RED


def test_track_positions_from_dataframe_and_dict():
    df = pd.DataFrame(
        {"frame_index": [3, 0, 1], "visible": pd.array([True, None, True], dtype="boolean"),
         "x": [1.5, 2.0, np.nan], "y": [2.5, 3.0, 4.0]}
    )
    pos = track_positions(df)
    assert pos.shape == (4, 2)
    assert tuple(pos[3]) == (1.5, 2.5) and np.isnan(pos[[0, 1, 2]]).all()  # NA / NaN: no ball
    assert track_positions({"frame_index": [], "visible": [], "x": [], "y": []}).shape == (0, 2)
    with pytest.raises(ValueError, match="more than once"):
        track_positions({"frame_index": [1, 1], "visible": [True, True], "x": [0, 0], "y": [0, 0]})
    with pytest.raises(ValueError, match="lacks column"):
        track_positions({"frame_index": [1], "x": [0], "y": [0]})


# ---- whole renders ---------------------------------------------------------------


def _flat_vfr_clip(path: Path, n: int = 30) -> np.ndarray:
    """A flat-colour VFR clip with a sine on the audio; returns the frames' pts_s."""
    pts = np.cumsum([0.0] + [0.04 if i % 5 else 0.1 for i in range(1, n)])
    with VideoWriter(path, width=W, height=H, fps=25, gop=8, bframes=2, audio_rate=16000) as w:
        for t in pts:
            w.write(np.full((H, W, 3), BG, np.uint8), pts_s=float(t))
        w.write_audio(0.2 * np.sin(np.arange(int(16000 * (pts[-1] + 0.04))) / 7.0))
    return pts


def _audio_packets(path) -> list[tuple[int, bytes]]:
    with av.open(str(path)) as c:
        return [(p.pts, bytes(p)) for p in c.demux(audio=0) if p.size]


def _rate(path) -> Fraction:
    with av.open(str(path)) as c:
        return c.streams.video[0].average_rate


def test_render_synthetic_vfr_clip_with_audio(tmp_path):
    src = tmp_path / "flat.mp4"
    pts = _flat_vfr_clip(src)
    n = len(pts)
    visible = np.ones(n, bool)
    visible[10:13] = False
    track = {
        "frame_index": np.arange(n - 4),  # the last 4 frames are not in the track
        "visible": visible[: n - 4],
        "x": 40 + 8.0 * np.arange(n - 4),
        "y": 30 + 5.0 * np.arange(n - 4),
    }
    out = render_overlay(src, tmp_path / "sub" / "overlay.mp4", track, radius=12, trail=5, crf=12)
    assert out == tmp_path / "sub" / "overlay.mp4"

    idx, out_pts, imgs = serial_decode(out)
    assert len(idx) == n
    # Same VFR timing, frame by frame. (average_rate is not compared here: for VFR the MP4
    # track duration behind it depends on the encoder's B-frame delay, not on the frames.)
    np.testing.assert_allclose(out_pts, pts, atol=1e-3)
    assert _audio_packets(out) == _audio_packets(src)  # audio copied packet for packet

    def px(i, x, y):
        return imgs[i, round(y), round(x)].astype(int)

    for i in (0, 7, 13, 20):
        x, y = track["x"][i], track["y"][i]
        assert np.abs(px(i, x, y) - RED).max() < 40, i  # the centre dot
        assert np.abs(px(i, x, y - 10.5) - RED).max() < 40, i  # the ring
        assert np.abs(px(i, x + 6, y) - BG).max() < 20, i  # the gap between
    for i in (11, n - 2):  # no ball in the track: no marker where it would be
        assert np.abs(px(i, 40 + 8.0 * i, 30 + 5.0 * i) - BG).max() < 20, i
    # Frame 11's trail still shows frame 9 (age 2 of 5): alpha 0.85 * (1 - 2/6).
    alpha = 0.85 * (1 - 2 / 6)
    assert np.abs(px(11, 40 + 72, 30 + 45) - (np.array(BG) * (1 - alpha) + np.array(RED) * alpha)).max() < 30


def test_failed_render_leaves_no_file(tmp_path, monkeypatch):
    src = tmp_path / "flat.mp4"
    _flat_vfr_clip(src, n=10)
    track = {"frame_index": [0], "visible": [True], "x": [10.0], "y": [10.0]}
    real = overlay.draw_ball

    def fail_at_frame_3(image, positions, index, **kw):
        if index == 3:
            raise RuntimeError("boom")
        real(image, positions, index, **kw)

    monkeypatch.setattr(overlay, "draw_ball", fail_at_frame_3)
    with pytest.raises(RuntimeError, match="boom"):
        render_overlay(src, tmp_path / "out.mp4", track)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat.mp4"]  # no output, no temp file
    (tmp_path / "old.mp4").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        render_overlay(src, tmp_path / "old.mp4", track)
    assert (tmp_path / "old.mp4").read_bytes() == b"old"  # an earlier output stays as it was


def _pcm_mkv(path: Path, n: int = 10) -> None:
    """A Matroska clip with stereo PCM audio, which MP4 cannot hold as it is."""
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 160, 120, "yuv420p"
        a = c.add_stream("pcm_s16le", rate=16000)
        a.layout = "stereo"
        for i in range(n):
            f = av.VideoFrame.from_ndarray(np.full((120, 160, 3), BG, np.uint8), format="rgb24")
            f.pts, f.time_base = i, Fraction(1, 25)
            c.mux(v.encode(f))
        s = (0.2 * 32767 * np.sin(np.arange(16000 * n // 25) / 5)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.stack([s, s]).T.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 16000, 0
        c.mux(a.encode(frame))
        c.mux(a.encode())
        c.mux(v.encode())


def test_audio_the_mp4_cannot_hold_is_reencoded(tmp_path):
    src = tmp_path / "pcm.mkv"
    _pcm_mkv(src)
    out = render_overlay(src, tmp_path / "out.mp4", {"frame_index": [], "visible": [], "x": [], "y": []})
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
        assert c.streams.audio[0].codec_context.channels == 2
        samples = sum(f.samples for f in c.decode(audio=0))
    assert abs(samples - 16000 * 10 / 25) <= 1024  # AAC pads to whole 1024-sample frames
    assert len(serial_decode(out)[0]) == 10


def test_render_real_clip_keeps_frames_rate_and_audio(tmp_path):
    # 21 shown frames (118 more hidden by an MP4 edit list), 1280x720, AAC audio.
    rel = "mareksubocz__TrackNet/example_datasets/video_dataset/videos/VolleyballShortClip.mp4"
    src = shared_realdata() / rel
    n = REAL_CLIPS[rel]
    track = pd.DataFrame(
        {"frame_index": np.arange(n), "visible": True, "x": 200 + 30.0 * np.arange(n), "y": 300.0}
    )
    out = render_overlay(src, tmp_path / "volley.mp4", track, radius=16, crf=12)
    with av.open(str(src)) as c:  # shown frames' timestamps, without decoding the source again
        s_pts = sorted(float(p.pts * p.time_base) for p in c.demux(video=0) if p.size and not p.is_discard)
    idx, pts, imgs = serial_decode(out)
    assert len(idx) == len(s_pts) == n
    np.testing.assert_allclose(pts, s_pts, atol=1e-3)
    assert float(_rate(out)) == pytest.approx(float(_rate(src)), rel=1e-3)
    assert _audio_packets(out) == _audio_packets(src)
    r, g, b = imgs[10, 300, 200 + 300].astype(int)
    assert r > 200 and g < 60 and b < 60  # the centre dot, on real pixels
