"""Training samples for windowed ball detectors: pure numpy over frame blocks.

A sample is ``in_frames`` consecutive frames ending at one frame of the video,
with that window's ball positions in model pixels. Blocks come from
``read_video_frames(context_frames=in_frames - 1)`` so every frame ends exactly
one window, also across chunk edges.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from balltrack.io.storage import VIDEO_EXTENSIONS

# Where a label file sits relative to its video, in the layouts the field uses:
# beside it (TrackNetV3, our synth), labels/ beside videos/ (TrackNetV2-pytorch),
# csvs/ beside videos/ (mareksubocz TrackNet).
_LABEL_PLACES = ("{dir}/{stem}.csv", "{dir}/{stem}_ball.csv", "{parent}/labels/{stem}.csv", "{parent}/csvs/{stem}.csv")


@dataclass(frozen=True)
class LabelArrays:
    """Per-frame labels of one video in model pixels, indexed by frame_index."""

    visible: np.ndarray  # (n,) bool
    xy: np.ndarray  # (n, 2) float32 model pixels, NaN when unknown


@dataclass(frozen=True)
class LabelledVideo:
    video_path: str
    labels_path: str


def find_labelled_videos(dirs: list[str]) -> list[LabelledVideo]:
    """Every video under ``dirs`` that has a label file in a known place."""
    found = []
    for d in dirs:
        root = Path(d)
        videos = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS)
        for video in videos:
            if video.name.startswith("."):
                continue
            for pattern in _LABEL_PLACES:
                cand = Path(pattern.format(dir=video.parent, parent=video.parent.parent, stem=video.stem))
                if cand.is_file():
                    found.append(LabelledVideo(str(video), str(cand)))
                    break
    return found


def label_arrays(labels, n_frames: int, to_model) -> LabelArrays:
    """Dense per-frame arrays from a label table (columns frame_index, visible,
    x, y in source pixels); frames without a row are unlabelled-invisible."""
    visible = np.zeros(n_frames, bool)
    xy = np.full((n_frames, 2), np.nan, np.float32)
    idx = labels["frame_index"].to_numpy()
    if len(idx) and (idx.max() >= n_frames or idx.min() < 0):
        raise ValueError(f"label frame {int(idx.max())} is past the end of a {n_frames}-frame video")
    vis = labels["visible"].to_numpy(bool)
    mx, my = to_model(labels["x"].to_numpy(float), labels["y"].to_numpy(float))
    visible[idx] = vis
    xy[idx, 0] = np.where(vis, mx, np.nan)
    xy[idx, 1] = np.where(vis, my, np.nan)
    return LabelArrays(visible=visible, xy=xy)


def keep_empty_window(video_id: str, frame_index: int, share: float, seed: int) -> bool:
    """Deterministic coin: keep a window without a visible ball with probability ``share``."""
    h = hashlib.blake2b(f"{seed}:{video_id}:{frame_index}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") / 2**64 < share


def windows_from_block(
    block: Mapping[str, np.ndarray],
    labels: Mapping[str, LabelArrays],
    *,
    in_frames: int,
    empty_share: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Turn one decoded block (rows sorted by frame, context rows first) into
    samples: ``frames`` (N, T, H, W, 3) uint8, ``xy`` (N, T, 2) float32,
    ``visible`` (N, T) bool, ``video_id``, ``frame_index`` (last frame's index).

    A window is emitted for every owned frame that has ``in_frames - 1``
    consecutive frames before it in the block. Windows whose frames all lack a
    visible ball are kept with probability ``empty_share``.
    """
    idx = np.asarray(block["frame_index"])
    order = np.argsort(idx, kind="stable")
    idx = idx[order]
    images = np.asarray(block["image"])[order]
    vids = np.asarray(block["video_id"])[order]
    owned = ~np.asarray(block["is_context"])[order] if "is_context" in block else np.ones(len(idx), bool)
    out_frames, out_xy, out_vis, out_vid, out_idx = [], [], [], [], []
    t = in_frames
    for end in range(t - 1, len(idx)):
        start = end - t + 1
        if not owned[end] or idx[end] - idx[start] != t - 1 or vids[start] != vids[end]:
            continue
        vid = str(vids[end])
        lab = labels.get(vid)
        if lab is None:
            continue
        window = idx[start : end + 1]
        vis = lab.visible[window]
        if not vis.any() and not keep_empty_window(vid, int(idx[end]), empty_share, seed):
            continue
        out_frames.append(images[start : end + 1])
        out_xy.append(lab.xy[window])
        out_vis.append(vis)
        out_vid.append(vid)
        out_idx.append(int(idx[end]))
    if not out_frames:
        h, w = images.shape[1:3] if images.ndim == 4 else (0, 0)
        return {
            "frames": np.zeros((0, t, h, w, 3), np.uint8),
            "xy": np.zeros((0, t, 2), np.float32),
            "visible": np.zeros((0, t), bool),
            "video_id": np.zeros(0, object),
            "frame_index": np.zeros(0, np.int64),
        }
    return {
        "frames": np.stack(out_frames),
        "xy": np.stack(out_xy).astype(np.float32),
        "visible": np.stack(out_vis),
        "video_id": np.array(out_vid, dtype=object),
        "frame_index": np.array(out_idx, np.int64),
    }
