"""One video's track, from raw per-frame predictions to the rows of ``tracks/`` (no Ray).

The batch job (``balltrack.pipelines.track``) gathers per-frame predictions from
its actor pool and calls :func:`finalize_track`; a single process (an HTTP
endpoint, a notebook) calls :func:`track_file`, which decodes, predicts and
finalizes with the same functions, so both give the same rows for the same video.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import pyarrow as pa

from balltrack.schema import TRACKS, with_version

TRACKS_SCHEMA = with_version(TRACKS)
PER_FRAME = ("frame_index", "pts_s", "visible", "x", "y", "score", "change")


def predict_block_rows(model, spec, block: Mapping[str, np.ndarray], *, source_size: tuple[int, int],
                       threshold: float = 0.5, batch_size: int = 16, device="cpu") -> dict[str, np.ndarray]:
    """Per owned frame of one decoded block (led by ``in_frames - 1`` context frames):
    ``frame_index, pts_s, visible, x, y, score`` and ``change`` (the frame's cut score)."""
    from balltrack.tracking.inference import predict_blocks
    from balltrack.video.shots import block_change_scores

    parts = list(predict_blocks(model, spec, [block], source_size=source_size, threshold=threshold,
                                batch_size=batch_size, device=device))
    if not parts:
        return {k: np.zeros(0, dtype=np.int64 if k == "frame_index" else bool if k == "visible" else np.float64)
                for k in PER_FRAME}
    p = {k: np.concatenate([q[k] for q in parts]) for k in parts[0]}
    idx = p["frame_index"].astype(np.int64)
    pts_of = dict(zip(np.asarray(block["frame_index"]).tolist(), np.asarray(block["pts_s"]).tolist()))
    idx_c, change = block_change_scores(block)
    change_of = dict(zip(idx_c.tolist(), change.tolist()))
    return {
        "frame_index": idx,
        "pts_s": np.array([pts_of[i] for i in idx.tolist()], dtype=np.float64),
        "visible": p["visible"].astype(bool),
        "x": p["x"].astype(np.float64),
        "y": p["y"].astype(np.float64),
        "score": p["score"].astype(np.float32),
        "change": np.array([change_of.get(i, np.nan) for i in idx.tolist()], dtype=np.float64),
    }


def finalize_track(rows: Mapping[str, np.ndarray], *, width: int, height: int, max_gap: int = 5,
                   model: str = "", run_id: str = "") -> tuple[pa.Table, np.ndarray]:
    """Sort one video's rows, detect its cuts, repair the trajectory per shot.
    Returns the ``tracks/`` table (``TRACKS_SCHEMA``) and the cut frames."""
    from balltrack.tracking.trajectory import repair_trajectory
    from balltrack.video.shots import detect_cuts

    order = np.argsort(np.asarray(rows["frame_index"]), kind="stable")
    r = {k: np.asarray(rows[k])[order] for k in PER_FRAME}
    n = len(r["frame_index"])
    cuts = detect_cuts(r["frame_index"], r["change"])
    fixed = repair_trajectory(r["frame_index"], r["visible"], r["x"], r["y"], r["score"], cuts=cuts,
                              width=width, height=height, max_gap=max_gap)
    hidden = ~np.asarray(fixed["visible"], bool)
    table = pa.table(
        {
            "frame_index": r["frame_index"],
            "pts_s": r["pts_s"],
            "visible": fixed["visible"],
            "x": pa.array(fixed["x"], type=pa.float64(), mask=hidden),
            "y": pa.array(fixed["y"], type=pa.float64(), mask=hidden),
            "score": np.asarray(fixed["score"], dtype=np.float32),
            "source": fixed["source"],
            "model": [model] * n,
            "run_id": [run_id] * n,
        },
        schema=TRACKS_SCHEMA,
    )
    return table, cuts


def track_file(model, spec, uri: str, *, threshold: float = 0.5, max_gap: int = 5, chunk_s: float | None = None,
               batch_size: int = 16, storage_options: Mapping[str, Any] | None = None, model_name: str = "",
               device="cpu", info=None) -> tuple[pa.Table, np.ndarray]:
    """A whole video in this process: decode in keyframe chunks (with context),
    predict, finalize. Same rows as ``balltrack track`` gives for the file."""
    from balltrack.video import decode_chunk, plan_chunks, probe_video

    info = info or probe_video(uri, storage_options)
    parts: list[dict[str, np.ndarray]] = []
    for chunk in plan_chunks(info, "v", chunk_s=chunk_s, context_frames=spec.in_frames - 1):
        for block in decode_chunk(chunk, size=spec.size, storage_options=storage_options):
            parts.append(predict_block_rows(model, spec, block, source_size=(info.width, info.height),
                                            threshold=threshold, batch_size=batch_size, device=device))
    rows = {k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in PER_FRAME}
    return finalize_track(rows, width=info.width, height=info.height, max_gap=max_gap, model=model_name)


def seed_csv(table: pa.Table) -> str:
    """The seed repos' ``Frame,Visibility,X,Y,Time`` (pixels; ``0,0,0`` when no ball)."""
    d = table.select(["frame_index", "visible", "x", "y", "pts_s"]).to_pydict()
    lines = ["Frame,Visibility,X,Y,Time"]
    for f, v, x, y, t in zip(d["frame_index"], d["visible"], d["x"], d["y"], d["pts_s"]):
        lines.append(f"{f},1,{x:.2f},{y:.2f},{t:.6f}" if v else f"{f},0,0,0,{t:.6f}")
    return "\n".join(lines) + "\n"


def iter_rows(table: pa.Table) -> Iterable[dict]:
    """JSON-ready rows (NaN and nulls as None)."""
    for row in table.select(["frame_index", "pts_s", "visible", "x", "y", "score", "source"]).to_pylist():
        if row["score"] is not None and row["score"] != row["score"]:
            row["score"] = None
        yield row
