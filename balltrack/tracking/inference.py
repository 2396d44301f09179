"""Run a TrackNet over decoded frames: windows in, ball positions out (no Ray).

Each frame is predicted once: by the window that ends at it (its last output
heatmap), and the first ``in_frames - 1`` frames of a video by the first
window's earlier outputs. Positions come back in source pixels.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from balltrack.models.preprocess import InputSpec, frames_to_input, to_source_pixels
from balltrack.tracking.postprocess import heatmaps_to_positions


def predict_blocks(
    model: torch.nn.Module,
    spec: InputSpec,
    blocks: Iterable[dict[str, np.ndarray]],
    *,
    source_size: tuple[int, int],
    threshold: float = 0.5,
    batch_size: int = 16,
    device: torch.device | str = "cpu",
) -> Iterator[dict[str, np.ndarray]]:
    """``blocks`` from ``decode_chunk``/``read_video_frames`` with
    ``context_frames = in_frames - 1`` (one video, frames at spec size).
    Yields ``frame_index, visible, x, y, score`` per owned frame."""
    t = spec.in_frames
    model.eval()
    for block in blocks:
        idx = np.asarray(block["frame_index"])
        own = ~np.asarray(block["is_context"]) if "is_context" in block else np.ones(len(idx), bool)
        images = np.asarray(block["image"])
        ends = [e for e in range(len(idx)) if own[e] and e >= t - 1 and idx[e] - idx[e - t + 1] == t - 1]
        # Owned frames too close to the start for a full window (the video's first frames).
        heads = [e for e in range(len(idx)) if own[e] and e < t - 1]
        heat_of: dict[int, np.ndarray] = {}
        for i in range(0, len(ends), batch_size):
            sel = ends[i : i + batch_size]
            windows = np.stack([images[e - t + 1 : e + 1] for e in sel])
            with torch.no_grad():
                heat = torch.sigmoid(model(frames_to_input(windows, spec).to(device)).float()).cpu().numpy()
            for e, h in zip(sel, heat):
                heat_of[e] = h[-1]
                if heads and e == t - 1:  # the first window also predicts its earlier frames
                    for j in heads:
                        heat_of[j] = h[j]
        rows = sorted(heat_of)
        if not rows:
            continue
        pos = heatmaps_to_positions(np.stack([heat_of[r] for r in rows]), threshold=threshold)
        x, y = to_source_pixels(pos["x"], pos["y"], source_size[0], source_size[1], spec)
        yield {
            "frame_index": idx[rows],
            "visible": pos["visible"],
            "x": np.where(pos["visible"], x, np.nan),
            "y": np.where(pos["visible"], y, np.nan),
            "score": pos["score"],
        }


def track_video(model, spec: InputSpec, path: str, *, threshold: float = 0.5, chunk_s: float | None = None):
    """All frames of one video through the model, in one process. Returns a
    DataFrame ``frame_index, visible, x, y, score`` (source pixels)."""
    import pandas as pd

    from balltrack.video import decode_chunk, plan_chunks, probe_video

    info = probe_video(path)
    parts = []
    for chunk in plan_chunks(info, "v", chunk_s=chunk_s, context_frames=spec.in_frames - 1):
        blocks = decode_chunk(chunk, size=spec.size)
        parts.extend(predict_blocks(model, spec, blocks, source_size=(info.width, info.height), threshold=threshold))
    cols = {k: np.concatenate([p[k] for p in parts]) for k in ("frame_index", "visible", "x", "y", "score")}
    return pd.DataFrame(cols).sort_values("frame_index", ignore_index=True)
