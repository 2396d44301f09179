"""Camera-cut detection on real decoded frames: exact cuts on synthetic clips
(labels from the generator), block-wise streaming equal to whole-video scoring,
and no cuts on real broadcast pans."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from balltrack.schema import METADATA_KEY
from balltrack.synth import generate_clips
from balltrack.video import decode_chunk, decode_video_serial, plan_chunks, probe_video
from balltrack.video.shots import (
    DEFAULT_THRESHOLD, SHOTS_SCHEMA, block_change_scores, detect_cuts, frame_change_scores, shots_from_cuts,
    shots_table,
)
from tests._shared import shared_realdata
from tests._videos import REAL_CLIPS

SIZE = (256, 144)  # small clips keep generation fast; scoring downscales to ~128 px wide anyway


@pytest.fixture(scope="module")
def synth_clips(tmp_path_factory):
    """Three 5 s clips (seed 3): each a rally, a crowd or close-up cutaway, then the rally again."""
    out = tmp_path_factory.mktemp("shots_synth")
    clips = []
    for path in generate_clips(out, clips=3, seed=3, size=SIZE, seconds=5.0):
        shot = np.loadtxt(path.with_suffix(".meta.csv"), delimiter=",", skiprows=1, usecols=3, dtype=np.int64)
        clips.append((path, shot))
    return clips


def decode_images(path, **kw) -> tuple[np.ndarray, np.ndarray]:
    blocks = list(decode_video_serial(str(path), **kw))
    return np.concatenate([b["frame_index"] for b in blocks]), np.concatenate([b["image"] for b in blocks])


def true_cuts(shot: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.diff(shot)) + 1


def test_exact_cuts_on_synthetic_clips(synth_clips):
    for path, shot in synth_clips:
        index, images = decode_images(path)
        scores = frame_change_scores(images)
        assert np.isnan(scores[0]) and np.isfinite(scores[1:]).all()
        cuts = detect_cuts(index, scores)
        assert len(true_cuts(shot)) == 2, "the fixture must contain cuts"
        np.testing.assert_array_equal(cuts, true_cuts(shot), err_msg=path.name)
        # The shots reproduce the generator's per-frame Shot column exactly.
        labels = np.concatenate([np.full(end - start, i) for i, start, end in shots_from_cuts(cuts, len(index))])
        np.testing.assert_array_equal(labels, shot)


def test_blocks_with_context_score_like_the_whole_video(synth_clips):
    path, shot = synth_clips[0]
    _, images = decode_images(path)
    whole = frame_change_scores(images)
    info = probe_video(str(path))
    # Short chunks (seeks) and one-frame batches: every frame, so every cut, sits on a block edge.
    chunks = plan_chunks(info, "v", chunk_s=1.0, context_frames=1)
    assert len(chunks) >= 2
    parts = [block_change_scores(b) for c in chunks for b in decode_chunk(c, batch_frames=1)]
    index = np.concatenate([i for i, _ in parts])
    scores = np.concatenate([s for _, s in parts])
    np.testing.assert_array_equal(index, np.arange(len(images)))
    np.testing.assert_array_equal(scores, whole)  # bit-identical, NaN for frame 0 only
    np.testing.assert_array_equal(detect_cuts(index[::-1], scores[::-1]), true_cuts(shot))  # any row order


def test_blocks_without_context_miss_only_their_first_frame(synth_clips):
    path, _ = synth_clips[0]
    (chunk,) = plan_chunks(probe_video(str(path)), "v", chunk_s=None)
    parts = [block_change_scores(b) for b in decode_chunk(chunk, batch_frames=10)]
    for index, scores in parts:
        assert np.isnan(scores[0]) and np.isfinite(scores[1:]).all()


def test_fps_resampled_cuts_land_on_the_first_kept_frame(synth_clips):
    path, shot = synth_clips[1]
    index, images = decode_images(path, fps=12.5)  # every other frame of a 25 fps clip
    assert len(index) < len(shot)
    cuts = detect_cuts(index, frame_change_scores(images))
    expected = [int(index[np.searchsorted(index, c)]) for c in true_cuts(shot)]
    np.testing.assert_array_equal(cuts, expected)


def test_min_shot_frames_keeps_the_stronger_of_close_cuts():
    scores = np.full(100, 1.0)
    scores[0] = np.nan
    scores[[30, 34, 60, 95]] = [40.0, 50.0, 45.0, 42.0]
    index = np.arange(100)
    np.testing.assert_array_equal(detect_cuts(index, scores, min_shot_frames=10), [34, 60, 95])
    np.testing.assert_array_equal(detect_cuts(index, scores, min_shot_frames=4), [30, 34, 60, 95])
    np.testing.assert_array_equal(detect_cuts(index, scores, min_shot_frames=40), [34, 95])
    # Frame indices, not rows: the same scores every 3rd frame put 30 and 34 12 frames apart.
    np.testing.assert_array_equal(detect_cuts(index * 3, scores, min_shot_frames=10), [90, 102, 180, 285])


def test_adaptive_ratio_ignores_a_sustained_high_score():
    scores = np.r_[np.nan, np.full(20, 2.0), np.full(10, 24.0), np.full(20, 2.0)]  # a burst of fast motion
    index = np.arange(len(scores))
    np.testing.assert_array_equal(detect_cuts(index, scores, adaptive=None), [21])  # a fixed threshold fires
    assert len(detect_cuts(index, scores)) == 0


def _pan(texture: np.ndarray, n: int, step_px: float, rng: np.random.Generator) -> np.ndarray:
    """n frames (144 x 256) cropped from ``texture`` moving ``step_px`` a frame, with sensor noise."""
    frames = []
    for i in range(n):
        x = int(round(i * step_px))
        crop = texture[20:164, x : x + 256].astype(np.float32) + rng.normal(0, 2.5, (144, 256, 3))
        frames.append(np.clip(crop, 0, 255).astype(np.uint8))
    return np.stack(frames)


def _texture(rng: np.random.Generator, width: int, base: tuple[int, int, int]) -> np.ndarray:
    """A court-like scene: a coloured ground, bright lines, and coarse detail."""
    img = np.empty((184, width, 3), np.float32)
    img[:] = base
    img += np.kron(rng.normal(0, 12, (184 // 32 + 1, width // 32 + 1, 3)), np.ones((32, 32, 1)))[:184, :width]
    img[60:64] = 240
    img[:, ::97] = 240
    return np.clip(img, 0, 255).astype(np.uint8)


def test_no_cuts_on_static_or_panning_frames_and_one_at_a_join():
    rng = np.random.default_rng(0)
    court = _texture(rng, 1400, (60, 120, 70))
    static = _pan(court, 40, 0.0, rng)
    slow, fast, whip = (_pan(court, 40, step, rng) for step in (3.0, 12.0, 24.0))  # 24 px: ~10% of the frame a frame
    for frames in (static, slow, fast, whip):
        assert len(detect_cuts(np.arange(len(frames)), frame_change_scores(frames))) == 0
    other = _pan(_texture(rng, 1400, (150, 90, 60)), 40, 6.0, rng)  # another camera, another colour
    joined = np.concatenate([fast, other])
    np.testing.assert_array_equal(detect_cuts(np.arange(len(joined)), frame_change_scores(joined)), [len(fast)])


def test_shots_partition_the_frames_with_exclusive_ends():
    for cuts, n in [([], 10), ([5], 10), ([7, 3, 3, 0, 10, 12, -1], 10), (np.array([1, 2, 9]), 10), ([1], 1)]:
        shots = shots_from_cuts(cuts, n)
        assert [s[0] for s in shots] == list(range(len(shots)))
        assert shots[0][1] == 0 and shots[-1][2] == n
        assert all(a[2] == b[1] for a, b in zip(shots, shots[1:]))  # contiguous: end is the next start
        assert all(s[1] < s[2] for s in shots)  # no empty shot
        assert [s[1] for s in shots[1:]] == sorted({int(c) for c in cuts if 0 < c < n})
    assert shots_from_cuts([3], 0) == []
    with pytest.raises(ValueError):
        shots_from_cuts([], -1)


def test_shots_table_schema_and_parquet_round_trip(tmp_path):
    table = shots_table("match__a.mp4", [40, 90], 120)
    assert table.schema.equals(SHOTS_SCHEMA, check_metadata=True)
    assert SHOTS_SCHEMA.metadata[METADATA_KEY] == b"1"
    assert table.to_pylist() == [
        {"video_id": "match__a.mp4", "shot_index": 0, "start_frame": 0, "end_frame": 40},
        {"video_id": "match__a.mp4", "shot_index": 1, "start_frame": 40, "end_frame": 90},
        {"video_id": "match__a.mp4", "shot_index": 2, "start_frame": 90, "end_frame": 120},
    ]
    pq.write_table(table, tmp_path / "shots.parquet")
    back = pq.read_table(tmp_path / "shots.parquet")
    assert back.schema.metadata[METADATA_KEY] == b"1" and back.equals(table)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="uint8"):
        frame_change_scores(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="duplicates"):
        detect_cuts(np.array([0, 1, 1]), np.array([np.nan, 1.0, 1.0]))
    with pytest.raises(ValueError, match="min_shot_frames"):
        detect_cuts(np.arange(3), np.zeros(3), min_shot_frames=0)


# The real clips have no cuts; these two pan the most (indoor volleyball follows
# play with pan, tilt and zoom; the soccer wide camera pans across the pitch).
PANNING = [
    "edwinscb__VolleyballTracking/backend/input.mp4",
    "PranjalSrivastava361__Football_analysis_system/input_videos/08fd33_4.mp4",
]


def test_real_broadcast_pans_give_no_cuts_and_a_splice_gives_one():
    root = shared_realdata()
    decoded = []
    for rel in PANNING:
        index, images = decode_images(root / rel, size=(512, 288))
        assert len(index) == REAL_CLIPS[rel]
        scores = frame_change_scores(images)
        assert np.nanmedian(scores) > 2, f"{rel} should be a moving camera"  # a still one scores < 0.7
        assert len(detect_cuts(index, scores)) == 0, rel
        decoded.append(images)
    # At 5 fps the volleyball pan moves 6x as far a frame: scores pass the floor, the ratio holds.
    index, images = decode_images(root / PANNING[0], size=(512, 288), fps=5)
    scores = frame_change_scores(images)
    assert np.nanmax(scores) > DEFAULT_THRESHOLD and len(detect_cuts(index, scores, adaptive=None)) > 0
    assert len(detect_cuts(index, scores)) == 0
    # Splicing the two clips makes a real cut, found exactly.
    joined = np.concatenate(decoded)
    cuts = detect_cuts(np.arange(len(joined)), frame_change_scores(joined))
    np.testing.assert_array_equal(cuts, [len(decoded[0])])
