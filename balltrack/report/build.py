"""Build an evaluation report directory: index.html, its PNGs under img/, and the
numbers as JSON and Parquet.

``OUT_DIR/``
  ``index.html``         the page (opens from disk; every image is a file under img/)
  ``img/*.png``          PR curve, one bar chart per slice kind, error heatmap, gallery, trajectories
  ``metrics.json``       everything: total, per video, PR curve, slices, inputs, gallery frames
  ``frames.parquet``     one row per labelled frame: outcome, positions, slice quantities and bins
  ``slices.parquet``     one row per (kind, bin) with every metric
  ``per_video.parquet``  one row per video with every metric
  ``pr_curve.parquet``   the curve of all frames (threshold, precision, recall)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from balltrack.metrics.slices import slice_table
from balltrack.metrics.tracking import pr_curve_of
from balltrack.report import html as page_html
from balltrack.report import plots
from balltrack.report.dataset import MODEL_SIZE, Evaluation, evaluate_inputs, load_inputs, pick_worst

REPORT_VERSION = 1


@dataclass
class Report:
    index: Path
    result: dict[str, Any]


def build_report(
    out_dir: str | Path,
    *,
    labels: Sequence[str],
    pred: Sequence[str] = (),
    predictions: pd.DataFrame | None = None,
    videos: Sequence[str] = (),
    source_size: tuple[int, int] | None = None,
    protocol: str = "tracknetv2",
    tolerance: float = 4.0,
    model_size: tuple[int, int] = MODEL_SIZE,
    gallery: int = 12,
    max_trajectories: int = 24,
    title: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Evaluate predictions against labels and write the report into ``out_dir``
    (created; files of an earlier report there are replaced)."""
    inputs = load_inputs(labels, pred=pred, predictions=predictions, videos=videos, source_size=source_size)
    evaluation = evaluate_inputs(inputs, protocol=protocol, tolerance=tolerance, model_size=model_size,
                                 gallery=gallery, progress=progress)
    return write_report(evaluation, out_dir, title=title, gallery=gallery, max_trajectories=max_trajectories,
                        progress=progress)


def write_report(
    ev: Evaluation,
    out_dir: str | Path,
    *,
    title: str | None = None,
    gallery: int = 12,
    max_trajectories: int = 24,
    progress: Callable[[str], None] | None = None,
) -> Report:
    out = Path(out_dir)
    img = out / "img"
    img.mkdir(parents=True, exist_ok=True)
    for old in img.glob("*.png"):
        old.unlink()
    result, frames = ev.result, ev.frames
    say = progress or (lambda m: None)

    say("plotting")
    per_video_curves = {vid: pr_curve_of(g) for vid, g in frames.groupby("video_id", sort=True)}
    images: dict[str, Any] = {"slices": {}}
    images["pr_curve"] = _rel(out, plots.pr_curve(result["pr_curve"], per_video_curves, img / "pr_curve.png"))
    for kind, spec in result["slices"].items():
        images["slices"][kind] = _rel(out, plots.slice_bars(kind, spec, img / f"slice_{kind}.png"))
    images["heatmap"] = _rel(out, plots.error_heatmap(frames, ev.model_size, img / "heatmap.png"))
    worst = pick_worst(frames, gallery)
    worst = worst[[(str(v), int(f)) in ev.images for v, f in zip(worst["video_id"], worst["frame_index"])]]
    g = plots.gallery(worst, ev.images, img / "gallery.png")
    images["gallery"] = _rel(out, g) if g else None
    vids = sorted(frames["video_id"].unique())
    trajectories = []
    for i, vid in enumerate(vids[:max_trajectories]):
        p = plots.trajectory(frames, vid, ev.cuts.get(vid, []), img / f"trajectory_{i:03d}_{_safe(vid)}.png")
        trajectories.append((vid, _rel(out, p)))

    gallery_rows = [
        {k: _plain(r[k]) for k in ("video_id", "frame_index", "outcome", "error_model_px", "score")}
        for _, r in worst.iterrows()
    ]
    doc = {"report_version": REPORT_VERSION, **result, "gallery": gallery_rows}
    files = [
        ("metrics.json", "every number: total, per video, PR curve, slices and their definitions, inputs"),
        ("frames.parquet", "one row per labelled frame: outcome, positions, slice quantities and bins"),
        ("slices.parquet", "one row per slice bin with every metric"),
        ("per_video.parquet", "one row per video with every metric"),
        ("pr_curve.parquet", "the precision-recall curve of all frames"),
    ]
    say("writing data")
    (out / "metrics.json").write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    _frames_for_parquet(frames).to_parquet(out / "frames.parquet", index=False)
    slice_table(result["slices"]).to_parquet(out / "slices.parquet", index=False)
    pd.DataFrame([{"video_id": v, **m} for v, m in result["per_video"].items()]).to_parquet(
        out / "per_video.parquet", index=False)
    curve = result["pr_curve"]
    pd.DataFrame({"threshold": pd.array(curve["threshold"], dtype="Float64"), "precision": curve["precision"],
                  "recall": curve["recall"]}).to_parquet(out / "pr_curve.parquet", index=False)
    text = page_html.page(
        title=title or "Ball tracking evaluation",
        result=result, images=images, gallery_rows=gallery_rows, trajectories=trajectories,
        omitted_videos=max(0, len(vids) - max_trajectories), files=files,
    )
    index = out / "index.html"
    index.write_text(text, encoding="utf-8")
    return Report(index, doc)


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80]


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def _frames_for_parquet(frames: pd.DataFrame) -> pd.DataFrame:
    out = frames.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    return out
