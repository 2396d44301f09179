"""The evaluation report of a training run's validation videos, logged to MLflow."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

log = logging.getLogger(__name__)


def log_validation_report(
    checkpoint: str | Path,
    videos: Sequence[str],
    out_dir: str | Path,
    *,
    tolerance: float = 4.0,
    threshold: float = 0.5,
    gallery: int = 12,
    artifact_path: str = "report",
    progress: Callable[[str], None] | None = None,
) -> Path | None:
    """Track every validation video (local files with a label file in a known place)
    with ``checkpoint`` in this process, build the report in ``out_dir`` and log it to the
    active MLflow run under ``artifact_path``. Returns index.html, or None when no
    video could be used or anything failed: a report must never fail a training run,
    so errors are logged and reported through ``progress`` instead of raised."""
    say = progress or (lambda m: None)
    try:
        index = _build(checkpoint, videos, out_dir, tolerance, threshold, gallery, say)
        if index is None:
            return None
        import mlflow

        if mlflow.active_run() is not None:
            mlflow.log_artifacts(str(Path(out_dir)), artifact_path)
        say(f"validation report: {index}")
        return index
    except Exception as exc:  # noqa: BLE001 - reported, never fatal
        log.warning("validation report failed: %s", exc, exc_info=True)
        say(f"validation report failed: {type(exc).__name__}: {exc}")
        return None


def _build(checkpoint, videos, out_dir, tolerance, threshold, gallery, say) -> Path | None:
    from balltrack.models.checkpoint import load_tracknet
    from balltrack.report.build import build_report
    from balltrack.tracking.inference import track_video
    from balltrack.tracking.predictions import video_key
    from balltrack.tracking.samples import find_labelled_videos

    pairs = find_labelled_videos([v for v in videos if Path(v).is_file()])
    if not pairs:
        say("validation report skipped: no local labelled validation videos")
        return None
    model, spec, _ = load_tracknet(checkpoint)
    tracks = []
    for pair in pairs:
        say(f"validation report: tracking {Path(pair.video_path).name}")
        t = track_video(model, spec, pair.video_path, threshold=threshold)
        t.insert(0, "video_id", video_key(Path(pair.video_path).name))
        tracks.append(t)
    report = build_report(
        out_dir, labels=[p.labels_path for p in pairs], predictions=pd.concat(tracks, ignore_index=True),
        videos=[p.video_path for p in pairs], tolerance=tolerance, gallery=gallery,
        title=f"Validation report - {Path(checkpoint).name}",
    )
    return report.index
