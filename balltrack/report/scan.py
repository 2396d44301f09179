"""One decode pass over a labelled video at the model's size: the ball's contrast and
apparent size at each labelled position, the frame-change score of every frame (for
cut detection) and copies of the few frames a report shows (no Ray)."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from balltrack.metrics.appearance import ball_appearance


def scan_video(
    path: str,
    labels_at: Mapping[int, tuple[float, float, float | None]],
    keep: set[int],
    *,
    model_size: tuple[int, int] = (512, 288),
) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Decode ``path`` front to back at ``model_size`` (one decoder thread).

    Args:
        labels_at: frame_index -> (x, y, radius or None), model pixels, of visible balls.
        keep: frame indices whose (H, W, 3) uint8 image to return.

    Returns:
        A table ``frame_index, change_score, contrast, diameter_px`` (one row per decoded
        frame; NaN where nothing was measured) and ``{frame_index: image}`` for ``keep``.
    """
    from balltrack.video import decode_video_serial
    from balltrack.video.shots import frame_change_scores

    idx_parts, score_parts, kept = [], [], {}
    measured: dict[int, tuple[float, float]] = {}
    previous = None
    for block in decode_video_serial(str(path), size=model_size, threads=1):
        images = np.asarray(block["image"])
        index = np.asarray(block["frame_index"], dtype=np.int64)
        score_parts.append(frame_change_scores(images, previous=previous))
        idx_parts.append(index)
        previous = images[-1]
        for f, img in zip(index.tolist(), images):
            if f in labels_at:
                x, y, r = labels_at[f]
                measured[f] = ball_appearance(img, x, y, r)
            if f in keep:
                kept[f] = img.copy()
    index = np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64)
    table = pd.DataFrame({
        "frame_index": index,
        "change_score": np.concatenate(score_parts) if score_parts else np.zeros(0),
        "contrast": [measured.get(int(f), (np.nan, np.nan))[0] for f in index],
        "diameter_px": [measured.get(int(f), (np.nan, np.nan))[1] for f in index],
    })
    return table, kept
