"""Chunked decode must equal a plain serial decode: same frames, indices,
timestamps and pixels, whatever the GOP structure."""

from __future__ import annotations

import numpy as np
import pytest

from balltrack.video.decode import decode_chunk
from balltrack.video.plan import plan_chunks
from balltrack.video.probe import probe_video
from tests._shared import shared_realdata
from tests._videos import REAL_CLIPS, frames_on_screen, serial_decode

FIXTURES = ["gop10_b3.mp4", "gop7_b0.mp4", "gop25_b2.mp4", "open_gop.mp4", "vfr.mp4", "odd_848x478.mp4"]


def decode_all(path, *, chunk_s, size=None, fps=None, context=0, scan=False, batch_frames=32):
    info = probe_video(str(path), scan=scan)
    chunks = plan_chunks(info, "v", chunk_s=chunk_s, context_frames=context)
    batches = [b for c in chunks for b in decode_chunk(c, size=size, fps=fps, batch_frames=batch_frames)]
    return info, chunks, batches


def owned(batches):
    idx, pts, img = [], [], []
    for b in batches:
        keep = ~b["is_context"] if "is_context" in b else slice(None)
        idx.append(b["frame_index"][keep])
        pts.append(b["pts_s"][keep])
        img.append(b["image"][keep])
    return np.concatenate(idx), np.concatenate(pts), np.concatenate(img)


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("scan", [False, True], ids=["index", "scan"])
def test_chunked_equals_serial(video_dir, name, scan):
    path = video_dir / name
    s_idx, s_pts, s_img = serial_decode(path)
    info, chunks, batches = decode_all(path, chunk_s=0.3, scan=scan)
    assert len(chunks) >= 3, "the fixture must actually be split"
    idx, pts, img = owned(batches)
    assert len(idx) == len(s_idx) == info.n_frames
    assert np.array_equal(idx, s_idx)  # no duplicate, no gap at chunk edges
    assert np.array_equal(pts, s_pts)
    assert np.array_equal(img, s_img)  # pixel-identical


@pytest.mark.parametrize("name", ["gop10_b3.mp4", "open_gop.mp4", "vfr.mp4"])
def test_resize_in_decoder_equals_serial_resize(video_dir, name):
    s_idx, _, s_img = serial_decode(video_dir / name, size=(160, 90))
    _, _, batches = decode_all(video_dir / name, chunk_s=0.3, size=(160, 90))
    idx, _, img = owned(batches)
    assert img.shape == (len(s_idx), 90, 160, 3) and img.dtype == np.uint8
    assert np.array_equal(img, s_img)


@pytest.mark.parametrize("name", ["gop10_b3.mp4", "open_gop.mp4"])
def test_context_frames_repeat_the_frames_before_each_batch(video_dir, name):
    s_idx, s_pts, s_img = serial_decode(video_dir / name)
    _, chunks, batches = decode_all(video_dir / name, chunk_s=0.3, context=2, batch_frames=7)
    idx, _, img = owned(batches)
    assert np.array_equal(idx, s_idx) and np.array_equal(img, s_img)
    for b in batches[1:]:  # every batch but the very first starts with 2 context frames
        first_own = b["frame_index"][~b["is_context"]][0]
        assert list(b["frame_index"][b["is_context"]]) == [first_own - 2, first_own - 1]
        for i, ctx in zip(b["frame_index"][b["is_context"]], b["image"][b["is_context"]]):
            assert np.array_equal(ctx, s_img[i])


@pytest.mark.parametrize("name", ["gop10_b3.mp4", "vfr.mp4"])
@pytest.mark.parametrize("fps", [5.0, 10.0, 12.5])
def test_fps_resampling_picks_the_frame_on_screen(video_dir, name, fps):
    s_idx, s_pts, s_img = serial_decode(video_dir / name)
    info, _, batches = decode_all(video_dir / name, chunk_s=0.3, fps=fps)
    idx, pts, img = owned(batches)
    end = s_pts[0] + info.duration_s  # the stream ends when its last frame does
    expected = frames_on_screen(s_pts, fps, s_pts[0], end)
    assert np.array_equal(idx, expected)
    assert np.array_equal(img, s_img[expected])


def test_batches_are_bounded(video_dir):
    _, _, batches = decode_all(video_dir / "gop25_b2.mp4", chunk_s=None, batch_frames=16)
    assert max(len(b["frame_index"]) for b in batches) == 16
    assert sum(len(b["frame_index"]) for b in batches) == 120


def test_plan_starts_each_chunk_at_a_keyframe(video_dir):
    info = probe_video(str(video_dir / "gop25_b2.mp4"))  # keyframes every second
    chunks = plan_chunks(info, "v", chunk_s=2.0)
    assert [c.start_pos for c in chunks] == [0, 50, 100]
    assert [c.end_pos for c in chunks] == [50, 100, 120]
    assert plan_chunks(info, "v", chunk_s=None)[0].end_pos == 120
    assert len(plan_chunks(info, "v", chunk_s=float("inf"))) == 1


@pytest.mark.parametrize("rel", sorted(REAL_CLIPS))
def test_real_clips_decode_exactly(rel):
    path = shared_realdata() / rel
    s_idx, s_pts, s_img = serial_decode(path, size=(512, 288))
    info, _, batches = decode_all(path, chunk_s=0.2, size=(512, 288))
    idx, pts, img = owned(batches)
    assert len(idx) == REAL_CLIPS[rel] == info.n_frames
    assert np.array_equal(idx, s_idx) and np.array_equal(pts, s_pts) and np.array_equal(img, s_img)


@pytest.mark.parametrize("rel", sorted(REAL_CLIPS)[:3])
def test_real_clips_recut_into_many_gops_decode_exactly(tmp_path, rel):
    """The real clips hold one GOP each; re-encode one with short GOPs so the
    chunk edges fall inside real footage."""
    from balltrack.video.encode import VideoWriter

    src = shared_realdata() / rel
    _, s_pts, s_img = serial_decode(src, size=(640, 360))
    out = tmp_path / "recut.mp4"
    with VideoWriter(out, width=640, height=360, fps=25, gop=5, bframes=3) as w:
        for frame in s_img:
            w.write(frame)
    r_idx, r_pts, r_img = serial_decode(out)
    _, chunks, batches = decode_all(out, chunk_s=0.1)
    assert len(chunks) > 1
    idx, pts, img = owned(batches)
    assert np.array_equal(idx, r_idx) and np.array_equal(pts, r_pts) and np.array_equal(img, r_img)
