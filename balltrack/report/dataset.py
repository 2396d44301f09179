"""Gather what an evaluation needs from files, and build its per-frame table.

Inputs: predictions (a ``balltrack track`` OUT directory, ``tracks/`` datasets, seed
CSVs, or a DataFrame), label files (any format of ``balltrack.labels``), and the
videos when they can be found - for their sizes, and for one decode pass at the
model's size that measures the ball's contrast and size, finds camera cuts and keeps
the frames the report's gallery shows.

Where things come from:

- a video: ``videos`` (files or directories), else the OUT catalog
  (``OUT/videos/catalog.parquet``), else beside its label file (``<stem>.<ext>``, or
  ``../videos/<stem>.<ext>`` for the ``labels/``/``csvs/`` layouts);
- per-frame synthetic facts: ``<stem>.meta.csv`` beside the label file
  (``Frame,Radius,VisibilityClass,Shot``);
- camera shots: OUT ``shots/``, else the meta Shot column, else cuts detected while
  scanning the video (``balltrack.video.shots``), else unknown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from balltrack.errors import InputError
from balltrack.io.storage import VIDEO_EXTENSIONS
from balltrack.labels import read_labels
from balltrack.metrics.slices import (
    assign_slices,
    ball_speed,
    border_distance,
    frames_since_cut,
    slice_metrics,
    to_model_coords,
)
from balltrack.metrics.tracking import evaluate_tracks, frame_outcomes
from balltrack.tracking.evaluation import find_label_files
from balltrack.tracking.predictions import read_predictions, video_key

log = logging.getLogger(__name__)

MODEL_SIZE = (512, 288)


@dataclass
class EvalInputs:
    """Everything an evaluation reads, keyed by video id (a video's stem)."""

    predictions: pd.DataFrame  # video_id, frame_index, visible, x, y, score (source px)
    labels: pd.DataFrame  # the label table + radius_px (source px, NaN) and meta_shot (NaN)
    sizes: dict[str, tuple[int, int]]  # (width, height) per labelled video
    videos: dict[str, str] = field(default_factory=dict)  # local path per video, when found
    shots: pd.DataFrame | None = None  # video_id, shot_index, start_frame, end_frame (OUT shots/)
    sources: dict[str, Any] = field(default_factory=dict)  # where things came from, for the report


def load_inputs(
    labels: Sequence[str],
    *,
    pred: Sequence[str] = (),
    predictions: pd.DataFrame | None = None,
    videos: Sequence[str] = (),
    source_size: tuple[int, int] | None = None,
) -> EvalInputs:
    """Read labels (files or directories), predictions (``pred`` paths or a
    ``predictions`` DataFrame with video ids as keys) and find each labelled video.
    Raises ``InputError`` when a labelled video has no predictions or no known size."""
    from balltrack.video.probe import probe_video

    if predictions is None and not pred:
        raise InputError("no predictions: pass --pred")
    known = _video_index(videos, pred)
    tables, sizes, paths = [], {}, {}
    for f in find_label_files(labels):
        key = video_key(f.stem)
        path = known.get(key) or _beside(f, key)
        size = source_size
        if path is not None:
            info = probe_video(str(path))
            size, paths[key] = (info.width, info.height), str(path)
        table = read_labels(f, video_id=key, width=size[0] if size else None, height=size[1] if size else None)
        tables.append(_with_meta(table, f.with_name(f"{key}.meta.csv")))
        if size is not None:
            sizes[key] = (int(size[0]), int(size[1]))
    label_table = pd.concat(tables, ignore_index=True)
    preds = read_predictions(pred) if predictions is None else predictions
    ids = sorted(set(label_table["video_id"]))
    missing = [v for v in ids if v not in set(preds["video_id"])]
    if missing:
        raise InputError(f"no predictions for labelled videos: {', '.join(missing[:5])}")
    no_size = [v for v in ids if v not in sizes]
    if no_size:
        raise InputError(f"no size for videos {', '.join(no_size[:5])}: their video was not found; "
                         "pass --videos DIR or --source-size WxH")
    return EvalInputs(preds, label_table, sizes, paths, _read_shots(pred),
                      {"pred": [str(p) for p in pred], "labels": [str(p) for p in labels],
                       "videos": {k: paths[k] for k in ids if k in paths}})


def _video_index(videos: Sequence[str], pred: Sequence[str]) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for p in map(Path, pred):  # a track OUT's catalog names its videos
        cat = p / "videos" / "catalog.parquet"
        if cat.is_file():
            df = pd.read_parquet(cat, columns=["video_id", "uri", "status"])
            for vid, uri in zip(df.loc[df["status"] == "ok", "video_id"], df.loc[df["status"] == "ok", "uri"]):
                if Path(str(uri)).is_file():
                    index[video_key(str(vid))] = Path(str(uri))
    for d in map(Path, videos):
        if not d.exists():
            raise InputError(f"{d}: no such video file or directory")
        for v in [d] if d.is_file() else sorted(d.rglob("*")):
            if v.suffix.lower() in VIDEO_EXTENSIONS and not v.name.startswith("."):
                index[video_key(v.name)] = v
    return index


def _beside(label_file: Path, key: str) -> Path | None:
    for d in (label_file.parent, label_file.parent.parent / "videos"):
        for ext in VIDEO_EXTENSIONS:
            cand = d / f"{key}{ext}"
            if cand.is_file():
                return cand
    return None


def _with_meta(table: pd.DataFrame, meta_path: Path) -> pd.DataFrame:
    """Add ``radius_px`` and ``meta_shot`` from a synthetic clip's meta.csv (NaN without
    one) and fill a missing ``visibility_class`` from it."""
    table = table.copy()
    table["radius_px"] = np.nan
    table["meta_shot"] = np.nan
    if not meta_path.is_file():
        return table
    meta = pd.read_csv(meta_path).rename(columns={"Frame": "frame_index"}).set_index("frame_index")
    idx = table["frame_index"]
    if "Radius" in meta:
        table["radius_px"] = idx.map(meta["Radius"]).astype(float).to_numpy()
    if "Shot" in meta:
        table["meta_shot"] = idx.map(meta["Shot"]).astype(float).to_numpy()
    if "VisibilityClass" in meta:
        cls = idx.map(meta["VisibilityClass"])
        table["visibility_class"] = [c if c is not None else (m if isinstance(m, str) else None)
                                     for c, m in zip(table["visibility_class"], cls)]
    return table


def _read_shots(pred: Sequence[str]) -> pd.DataFrame | None:
    import pyarrow.dataset as ds

    parts = []
    for p in map(Path, pred):
        if (p / "shots").is_dir() and any((p / "shots").glob("video_id=*")):
            df = ds.dataset(str(p / "shots"), format="parquet", partitioning="hive").to_table().to_pandas()
            df["video_id"] = df["video_id"].astype(str).map(video_key)
            parts.append(df[["video_id", "shot_index", "start_frame", "end_frame"]])
    return pd.concat(parts, ignore_index=True) if parts else None


# --- the per-frame table --------------------------------------------------------------


@dataclass
class Evaluation:
    """An evaluation's numbers (``result``, JSON-serialisable), its per-frame table and
    the decoded frames kept for the gallery (``(video_id, frame_index) -> image`` at
    model size)."""

    result: dict[str, Any]
    frames: pd.DataFrame
    images: dict[tuple[str, int], np.ndarray]
    model_size: tuple[int, int]
    cuts: dict[str, list[int]]


def evaluate_inputs(
    inputs: EvalInputs,
    *,
    protocol: str = "tracknetv2",
    tolerance: float = 4.0,
    model_size: tuple[int, int] = MODEL_SIZE,
    scan: bool = True,
    gallery: int = 12,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Score, measure every slice quantity, assign slices and compute their metrics.

    ``scan`` decodes each found video once at ``model_size`` (contrast, estimated size,
    cuts when no shots are known, and the ``gallery`` worst frames' images).
    """
    size_arg = inputs.sizes if protocol == "tracknetv2" else None
    result = evaluate_tracks(inputs.predictions, inputs.labels, protocol=protocol, tolerance=tolerance,
                             source_size=size_arg, model_size=model_size)
    frames = frame_outcomes(inputs.predictions, inputs.labels, protocol=protocol, tolerance=tolerance,
                            source_size=size_arg, model_size=model_size)
    extra = inputs.labels[["video_id", "frame_index", "visibility_class", "radius_px", "meta_shot"]].copy()
    extra["video_id"] = extra["video_id"].astype(str).astype(object)
    frames = frames.merge(extra, on=["video_id", "frame_index"], how="left")
    frames = _label_quantities(frames, inputs.sizes, model_size)
    chosen = pick_worst(frames, gallery)
    images: dict[tuple[str, int], np.ndarray] = {}
    frames["contrast"] = np.nan
    frames["diameter_est_px"] = np.nan
    scans: dict[str, pd.DataFrame] = {}
    if scan:
        from balltrack.report.scan import scan_video

        for vid, group in frames.groupby("video_id", sort=True):
            path = inputs.videos.get(str(vid))
            if path is None:
                continue
            if progress:
                progress(f"scanning {vid}")
            keep = set(chosen.loc[chosen["video_id"] == vid, "frame_index"].astype(int))
            vis = group[group["label_visible"]]
            r_m = vis["diameter_px"].to_numpy() / 2
            at = {int(f): (float(x), float(y), None if np.isnan(r) else float(r))
                  for f, x, y, r in zip(vis["frame_index"], vis["x_label_m"], vis["y_label_m"], r_m)}
            table, kept = scan_video(path, at, keep, model_size=model_size)
            scans[str(vid)] = table
            images.update({(str(vid), f): img for f, img in kept.items()})
            m = table.set_index("frame_index")
            rows = frames["video_id"] == vid
            frames.loc[rows, "contrast"] = frames.loc[rows, "frame_index"].map(m["contrast"]).to_numpy()
            frames.loc[rows, "diameter_est_px"] = frames.loc[rows, "frame_index"].map(m["diameter_px"]).to_numpy()
    exact = frames["diameter_px"].notna()
    frames["diameter_source"] = np.where(exact, "meta", np.where(frames["diameter_est_px"].notna(), "estimated", None))
    frames["diameter_px"] = frames["diameter_px"].where(exact, frames["diameter_est_px"])
    frames, cuts, shot_source = _shots(frames, inputs.shots, scans)
    bins = assign_slices(frames)
    for kind in bins.columns:
        frames[f"slice_{kind}"] = bins[kind].to_numpy()
    result["slices"] = slice_metrics(frames, bins)
    result["model_size"] = [int(model_size[0]), int(model_size[1])]
    result["sources"] = {**inputs.sources, "shots": shot_source,
                         "scanned_videos": sorted(scans),
                         "size": _count(frames.loc[frames["label_visible"], "diameter_source"])}
    result["n_videos"] = int(frames["video_id"].nunique())
    return Evaluation(result, frames, images, model_size, cuts)


def _count(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.fillna("unknown").value_counts().items()}


def _label_quantities(frames: pd.DataFrame, sizes: dict[str, tuple[int, int]],
                      model_size: tuple[int, int]) -> pd.DataFrame:
    """Model-pixel positions, speed, border distance and exact diameter (from meta)."""
    wh = np.array([sizes[v] for v in frames["video_id"]], dtype=np.float64).reshape(-1, 2)
    w, h = wh[:, 0], wh[:, 1]
    frames["width"], frames["height"] = w.astype(np.int64), h.astype(np.int64)
    frames["x_label_m"], frames["y_label_m"] = to_model_coords(frames["x_label"], frames["y_label"], w, h, model_size)
    frames["x_pred_m"], frames["y_pred_m"] = to_model_coords(frames["x_pred"], frames["y_pred"], w, h, model_size)
    frames["error_model_px"] = np.hypot(frames["x_pred_m"] - frames["x_label_m"], frames["y_pred_m"] - frames["y_label_m"])
    frames.loc[frames["error_px"].isna(), "error_model_px"] = np.nan
    speed = np.full(len(frames), np.nan)
    for _, idx in frames.groupby("video_id", sort=False).indices.items():
        g = frames.iloc[idx]
        speed[idx] = ball_speed(g["frame_index"].to_numpy(), g["label_visible"].to_numpy(),
                                g["x_label_m"].to_numpy(), g["y_label_m"].to_numpy())
    frames["speed_px"] = speed
    vis = frames["label_visible"].to_numpy()
    frames["border_px"] = np.where(vis, border_distance(frames["x_label_m"], frames["y_label_m"], model_size), np.nan)
    scale = np.sqrt(model_size[0] / w * model_size[1] / h)
    r = frames["radius_px"].to_numpy(dtype=np.float64)
    frames["diameter_px"] = np.where(vis & (r > 0), 2 * r * scale, np.nan)
    return frames


def _shots(frames: pd.DataFrame, shots: pd.DataFrame | None,
           scans: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, list[int]], dict[str, str]]:
    """``shot`` ('video#index') and ``since_cut`` per frame, and each video's cuts."""
    from balltrack.video.shots import detect_cuts

    shot = np.full(len(frames), None, dtype=object)
    start = np.full(len(frames), np.nan)
    cuts: dict[str, list[int]] = {}
    source: dict[str, str] = {}
    for vid, idx in frames.groupby("video_id", sort=True).indices.items():
        f = frames["frame_index"].to_numpy()[idx]
        table = None
        if shots is not None and (shots["video_id"] == vid).any():
            s = shots[shots["video_id"] == vid].sort_values("start_frame")
            table, source[vid] = s[["shot_index", "start_frame"]].to_numpy(np.int64), "shots/"
        elif frames["meta_shot"].to_numpy()[idx].size and not np.isnan(frames["meta_shot"].to_numpy()[idx]).any():
            ms = frames["meta_shot"].to_numpy()[idx].astype(np.int64)
            order = np.argsort(f, kind="stable")
            fs, ss = f[order], ms[order]
            first = np.r_[True, ss[1:] != ss[:-1]]
            table, source[vid] = np.stack([np.cumsum(first)[first] - 1, fs[first]], axis=1), "meta.csv"
            if len(table):
                table[0, 1] = 0  # the first labelled frame's shot starts the video
        elif vid in scans and len(scans[vid]):
            sc = scans[vid]
            c = detect_cuts(sc["frame_index"].to_numpy(), sc["change_score"].to_numpy())
            starts = np.r_[0, c].astype(np.int64)
            table, source[vid] = np.stack([np.arange(len(starts)), starts], axis=1), "detected cuts"
        else:
            source[vid] = "unknown"
            continue
        starts = table[:, 1]
        k = np.clip(np.searchsorted(starts, f, side="right") - 1, 0, len(starts) - 1)
        shot[idx] = [f"{vid}#{int(table[j, 0])}" for j in k]
        start[idx] = starts[k]
        cuts[vid] = [int(s) for s in starts if s > 0]
    frames["shot"] = shot
    frames["since_cut"] = frames_since_cut(frames["frame_index"].to_numpy(), start)
    return frames, cuts, source


def pick_worst(frames: pd.DataFrame, n: int) -> pd.DataFrame:
    """Up to ``n`` error frames for the gallery, taken in turn from three lists: wrong
    positions (FP1, largest error first), misses (FN, slowest ball first: the easiest
    to see) and false alarms (FP2, highest score first)."""
    if n <= 0:
        return frames.iloc[:0]
    lists = [
        frames[frames["outcome"] == "FP1"].sort_values("error_model_px", ascending=False, kind="stable"),
        frames[frames["outcome"] == "FN"].sort_values("speed_px", ascending=True, kind="stable", na_position="last"),
        frames[frames["outcome"] == "FP2"].sort_values("score", ascending=False, kind="stable", na_position="last"),
    ]
    taken: list[int] = []
    pos = [0, 0, 0]
    while len(taken) < n and any(pos[i] < len(lists[i]) for i in range(3)):
        for i in range(3):
            if pos[i] < len(lists[i]) and len(taken) < n:
                taken.append(lists[i].index[pos[i]])
                pos[i] += 1
    return frames.loc[taken]
