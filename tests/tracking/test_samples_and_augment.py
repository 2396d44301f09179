from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from balltrack.tracking.augment import AugmentConfig, augment, random_crop
from balltrack.tracking.samples import find_labelled_videos, label_arrays, windows_from_block


def block(indices, context, h=8, w=10, vid="v.mp4"):
    n = len(indices)
    images = np.zeros((n, h, w, 3), np.uint8)
    for k, i in enumerate(indices):
        images[k] = i  # each frame's pixels hold its index
    return {
        "video_id": np.array([vid] * n, dtype=object),
        "frame_index": np.array(indices),
        "image": images,
        "is_context": np.array(context),
    }


def labels_for(n):
    table = pd.DataFrame({"frame_index": np.arange(n), "visible": np.arange(n) % 2 == 0,
                          "x": np.arange(n, dtype=float), "y": np.full(n, 3.0)})
    return {"v.mp4": label_arrays(table, n, lambda x, y: (x / 2, y / 2))}


def test_every_owned_frame_ends_one_window():
    labels = labels_for(20)
    b = block([4, 5, 6, 7, 8], [True, True, False, False, False])
    w = windows_from_block(b, labels, in_frames=3)
    assert list(w["frame_index"]) == [6, 7, 8]
    assert w["frames"].shape == (3, 3, 8, 10, 3)
    assert [list(f[:, 0, 0, 0]) for f in w["frames"]] == [[4, 5, 6], [5, 6, 7], [6, 7, 8]]
    assert list(w["visible"][0]) == [True, False, True]
    assert np.allclose(w["xy"][0, 0], [2.0, 1.5]) and np.isnan(w["xy"][0, 1]).all()


def test_first_frames_of_a_video_end_no_window_and_gaps_break_windows():
    labels = labels_for(20)
    w = windows_from_block(block([0, 1, 2, 4, 5, 6], [False] * 6), labels, in_frames=3)
    assert list(w["frame_index"]) == [2, 6]


def test_empty_windows_are_kept_by_share():
    table = pd.DataFrame({"frame_index": np.arange(200), "visible": False, "x": np.nan, "y": np.nan})
    labels = {"v.mp4": label_arrays(table, 200, lambda x, y: (x, y))}
    b = block(list(range(200)), [False] * 200, h=2, w=2)
    kept = len(windows_from_block(b, labels, in_frames=3, empty_share=0.25)["frame_index"])
    assert 25 <= kept <= 75  # 198 windows at a deterministic 25%
    assert kept == len(windows_from_block(b, labels, in_frames=3, empty_share=0.25)["frame_index"])
    assert len(windows_from_block(b, labels, in_frames=3, empty_share=0.0)["frame_index"]) == 0


def test_label_files_are_found_in_the_layouts_of_the_field(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "r1.mp4").write_bytes(b"x")
    (tmp_path / "a" / "r1.csv").write_text("Frame,Visibility,X,Y\n")
    (tmp_path / "m" / "videos").mkdir(parents=True)
    (tmp_path / "m" / "labels").mkdir()
    (tmp_path / "m" / "videos" / "1_10_12.mp4").write_bytes(b"x")
    (tmp_path / "m" / "labels" / "1_10_12.csv").write_text("frame_num,visible,x,y\n")
    (tmp_path / "a" / "unlabelled.mp4").write_bytes(b"x")
    found = {(p.video_path.split("/")[-1], p.labels_path.split("/")[-1]) for p in find_labelled_videos([str(tmp_path)])}
    assert found == {("r1.mp4", "r1.csv"), ("1_10_12.mp4", "1_10_12.csv")}


def test_flip_moves_the_label_with_the_image():
    frames = torch.zeros(1, 3, 8, 10, 3)
    frames[0, :, 2, 7] = 255  # the ball at x=7, y=2
    xy = torch.tensor([[[7.0, 2.0]] * 3])
    vis = torch.ones(1, 3, dtype=torch.bool)
    cfg = AugmentConfig(flip_p=1.0, brightness=0, contrast=0, affine_p=0)
    f, p, v = augment(frames, xy, vis, cfg, torch.Generator().manual_seed(0))
    assert f[0, 0, 2, 2].max() == 255 and p[0, 0].tolist() == [2.0, 2.0] and v.all()


def test_scale_translate_moves_the_label_with_the_image():
    frames = torch.zeros(1, 3, 40, 60, 3)
    frames[0, :, 20, 30] = 255
    xy = torch.tensor([[[30.0, 20.0]] * 3])
    vis = torch.ones(1, 3, dtype=torch.bool)
    cfg = AugmentConfig(flip_p=0, brightness=0, contrast=0, scale=0.3, translate=0.2, affine_p=1.0)
    f, p, v = augment(frames, xy, vis, cfg, torch.Generator().manual_seed(3))
    bright = (f[0, 0].sum(-1) == f[0, 0].sum(-1).max()).nonzero()[0]
    assert abs(int(bright[1]) - p[0, 0, 0]) <= 1 and abs(int(bright[0]) - p[0, 0, 1]) <= 1


def test_crop_keeps_the_ball_and_shifts_the_label():
    frames = torch.zeros(4, 3, 64, 96, 3)
    xy = torch.tensor([[[70.0, 50.0]] * 3] * 4)
    frames[:, :, 50, 70] = 255
    vis = torch.ones(4, 3, dtype=torch.bool)
    f, p, v = random_crop(frames, xy, vis, (24, 32), torch.Generator().manual_seed(1), ball_p=1.0)
    assert f.shape == (4, 3, 24, 32, 3) and v.all()
    for i in range(4):
        x, y = int(p[i, 0, 0]), int(p[i, 0, 1])
        assert f[i, 0, y, x].max() == 255
