"""read_video_frames on a real local Ray: exact frames, one task per chunk."""

from __future__ import annotations

import numpy as np
import pytest

import balltrack
from balltrack.errors import InputError
from tests._shared import shared_realdata
from tests._videos import REAL_CLIPS, serial_decode


def collect(ds):
    rows = {}
    for batch in ds.iter_batches(batch_size=64, batch_format="numpy"):
        for vid, i, t, img in zip(batch["video_id"], batch["frame_index"], batch["pts_s"], batch["image"]):
            rows.setdefault(str(vid), []).append((int(i), float(t), img))
    return {v: sorted(r, key=lambda x: x[0]) for v, r in rows.items()}


def test_chunked_dataset_equals_serial_decode(ray_local, video_dir):
    names = ["gop10_b3.mp4", "open_gop.mp4", "vfr.mp4", "odd_848x478.mp4"]
    ds = balltrack.read_video_frames([str(video_dir / n) for n in names], chunk_s=0.4, size=(256, 144))
    got = collect(ds)
    assert sorted(got) == sorted(names)
    for name in names:
        s_idx, s_pts, s_img = serial_decode(video_dir / name, size=(256, 144))
        rows = got[name]
        assert [r[0] for r in rows] == list(s_idx)
        assert np.array_equal([r[1] for r in rows], s_pts)
        assert np.array_equal(np.stack([r[2] for r in rows]), s_img)


def test_one_read_task_per_chunk(ray_local, video_dir):
    from balltrack.pipelines.frames import plan_sources

    paths = [str(video_dir / "gop25_b2.mp4"), str(video_dir / "gop10_b3.mp4")]
    chunks = plan_sources(paths, chunk_s=1.0)
    assert len(chunks) == 4 + 4  # 120 frames with keyframes each 1 s; 90 frames with keyframes each 0.4 s
    ds = balltrack.read_video_frames(paths, chunk_s=1.0, size=(64, 48))
    refs = ds.materialize()
    assert refs.count() == 210
    assert refs.num_blocks() >= len(chunks)


def test_directory_input_and_fps(ray_local, video_dir):
    ds = balltrack.read_video_frames([str(video_dir)], fps=5, size=(64, 48), chunk_s=1.0)
    got = collect(ds)
    assert "gop25_b2.mp4" in got and "with_audio.mp4" in got
    assert [r[0] for r in got["gop25_b2.mp4"]] == list(range(0, 120, 5))  # 25 -> 5 fps


def test_bad_arguments_fail_on_the_driver(ray_local, video_dir):
    path = str(video_dir / "gop10_b3.mp4")
    with pytest.raises(ValueError, match="size"):
        balltrack.read_video_frames(path, size=(0, 10))
    with pytest.raises(ValueError, match="fps"):
        balltrack.read_video_frames(path, fps=-1)
    with pytest.raises(InputError, match="matches no file"):
        balltrack.read_video_frames(str(video_dir / "*.nothing"))
    with pytest.raises(InputError, match="none of the inputs"):
        balltrack.read_video_frames(str(video_dir / "missing.mp4"))


def test_real_clips_through_ray(ray_local):
    root = shared_realdata()
    paths = [str(root / rel) for rel in sorted(REAL_CLIPS)]
    got = collect(balltrack.read_video_frames(paths, size=(512, 288), chunk_s=0.2))
    assert len(got) == len(REAL_CLIPS)
    for rel, n in REAL_CLIPS.items():
        rows = got[rel.rsplit("/", 1)[1]]
        s_idx, s_pts, s_img = serial_decode(root / rel, size=(512, 288))
        assert len(rows) == n
        assert [r[0] for r in rows] == list(s_idx)
        assert np.array_equal([r[1] for r in rows], s_pts)
        assert np.array_equal(np.stack([r[2] for r in rows]), s_img)
