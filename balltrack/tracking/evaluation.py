"""`balltrack eval tracks`: predictions against label files, per video and in total."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from balltrack.errors import InputError
from balltrack.io.storage import VIDEO_EXTENSIONS
from balltrack.labels import read_labels
from balltrack.metrics.tracking import evaluate_tracks
from balltrack.tracking.predictions import read_predictions, video_key


def find_label_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                f for f in sorted(p.rglob("*"))
                if f.suffix.lower() in (".csv", ".json", ".manifest") and not f.name.endswith((".meta.csv", ".events.json"))
            )
        elif p.exists():
            files.append(p)
        else:
            raise InputError(f"{p}: no such label file or directory")
    if not files:
        raise InputError(f"no label files in {', '.join(paths)}")
    return files


def video_sizes(video_dirs: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(width, height) by video key, probing videos (no decode beyond one frame)."""
    from balltrack.video.probe import probe_video

    sizes = {}
    for d in map(Path, video_dirs):
        for v in ([d] if d.is_file() else sorted(d.rglob("*"))):
            if v.suffix.lower() in VIDEO_EXTENSIONS:
                info = probe_video(str(v))
                sizes[video_key(v.name)] = (info.width, info.height)
    return sizes


def evaluate_files(
    pred: Sequence[str],
    labels: Sequence[str],
    *,
    protocol: str = "tracknetv2",
    tolerance: float = 4.0,
    source_size: tuple[int, int] | None = None,
    videos: Sequence[str] = (),
) -> dict[str, Any]:
    sizes = video_sizes(videos) if videos else {}
    tables = []
    for f in find_label_files(labels):
        key = video_key(f.stem)
        w, h = sizes.get(key, source_size or (None, None))
        tables.append(read_labels(f, video_id=key, width=w, height=h))
    label_table = pd.concat(tables, ignore_index=True)
    predictions = read_predictions(pred)
    missing = sorted(set(label_table["video_id"]) - set(predictions["video_id"]))
    if missing:
        raise InputError(f"no predictions for labelled videos: {', '.join(missing[:5])}")
    if protocol == "tracknetv2":
        ids = set(label_table["video_id"])
        size_arg: Any = {k: sizes[k] for k in ids if k in sizes} if sizes else source_size
        if size_arg is None or (isinstance(size_arg, dict) and len(size_arg) < len(ids)):
            raise InputError("the tracknetv2 protocol needs each video's size: pass --videos DIR or --source-size WxH")
    else:
        size_arg = None
    return evaluate_tracks(predictions, label_table, protocol=protocol, tolerance=tolerance, source_size=size_arg)
