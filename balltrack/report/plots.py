"""The report's figures, drawn with matplotlib's Agg backend into PNG files.

Each function takes plain tables/dicts and a path, writes one PNG and returns its
path. Colours: true positions green, predictions by outcome (TP blue, FP1 orange,
FP2 red), misses (FN) red crosses at the true position.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

OUTCOME_COLOURS = {"TP": "#1f77b4", "FP1": "#ff7f0e", "FP2": "#d62728", "FN": "#d62728", "TN": "#7f7f7f"}
TRUE_COLOUR = "#2ca02c"
DPI = 100


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Light PNG compression: zlib's default level took a third of the plotting time.
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pil_kwargs={"compress_level": 1})
    _plt().close(fig)
    return path


def pr_curve(total: Mapping[str, Any], per_video: Mapping[str, Mapping[str, Any]], path: Path,
             max_videos: int = 8) -> Path:
    """Precision against recall: the whole set (thick) and each video (thin, up to
    ``max_videos``); the dot is the operating point with every detection accepted."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for vid, curve in list(per_video.items())[:max_videos]:
        if curve["recall"]:
            ax.step([0.0, *curve["recall"]], [curve["precision"][0], *curve["precision"]], where="post",
                    lw=1, alpha=0.6, label=f"{vid} (AP {_fmt(curve['ap'])})")
    if total["recall"]:
        r, p = total["recall"], total["precision"]
        ax.step([0.0, *r], [p[0], *p], where="post", lw=2.5, color="black", label=f"all (AP {_fmt(total['ap'])})")
        ax.plot(r[-1], p[-1], "o", color="black")
    else:
        ax.text(0.5, 0.5, "no detections", ha="center", va="center", transform=ax.transAxes)
    ax.set(xlim=(0, 1.02), ylim=(0, 1.05), xlabel="recall", ylabel="precision",
           title=f"Precision-recall ({total['n_detections']} detections, {total['n_positives']} visible balls)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize=7)
    return _save(fig, path)


def slice_bars(kind: str, spec: Mapping[str, Any], path: Path, max_bins: int = 24) -> Path:
    """Recall, precision and accuracy per bin of one slice kind, frame count above."""
    plt = _plt()
    rows = list(spec["bins"])
    if len(rows) > max_bins:  # categorical kinds with many values: the largest bins
        rows = sorted(rows, key=lambda r: -r["n_frames"])[:max_bins]
    names = [r["bin"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(4.5, 0.75 * len(rows) + 2), 3.4))
    for k, (metric, colour) in enumerate((("recall", "#1f77b4"), ("precision", "#ff7f0e"), ("accuracy", "#2ca02c"))):
        ax.bar(x + (k - 1) * 0.27, [r[metric] for r in rows], 0.27, label=metric, color=colour)
    for xi, r in zip(x, rows):
        ax.text(xi, 1.03, f"n={r['n_frames']}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, names, rotation=30 if len(rows) > 5 or max(map(len, names), default=0) > 10 else 0,
                  ha="right" if len(rows) > 5 else "center", fontsize=8)
    ax.set_ylim(0, 1.15)
    ax.set_title(f"{kind}" + (f" ({spec['unit']})" if spec.get("unit") else ""), loc="left", fontsize=10, pad=16)
    ax.legend(fontsize=7, ncols=3, loc="lower right", bbox_to_anchor=(1, 1.0), frameon=False,
              borderaxespad=0.2, handlelength=1.2)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def error_heatmap(frames: pd.DataFrame, model_size: tuple[int, int], path: Path, cells: tuple[int, int] = (16, 9)) -> Path:
    """Where on the frame errors fall (model-size frame, ``cells`` columns x rows):
    visible balls per cell, the share of them missed or misplaced (FN + FP1, at the true
    position), and false detections (FP2 + FP1, at the predicted position)."""
    plt = _plt()
    w, h = model_size
    bins = [np.linspace(0, w, cells[0] + 1), np.linspace(0, h, cells[1] + 1)]

    def hist(sel: pd.Series, xcol: str, ycol: str) -> np.ndarray:
        x = (frames.loc[sel, xcol].to_numpy(float) + 0.5).clip(0, w - 1e-6)
        y = (frames.loc[sel, ycol].to_numpy(float) + 0.5).clip(0, h - 1e-6)
        return np.histogram2d(x, y, bins=bins)[0].T

    vis = frames["label_visible"]
    balls = hist(vis, "x_label_m", "y_label_m")
    wrong = hist(frames["outcome"].isin(["FN", "FP1"]), "x_label_m", "y_label_m")
    false = hist(frames["outcome"].isin(["FP2", "FP1"]), "x_pred_m", "y_pred_m")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(balls > 0, wrong / balls, np.nan)
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.3))
    panels = (
        (balls, "visible labelled balls", "Greens", None),
        (rate, "share missed or misplaced (FN+FP1)", "Reds", (0, 1)),
        (false, "wrong detections (FP2+FP1, at prediction)", "Oranges", None),
    )
    for ax, (data, title, cmap, lim) in zip(axes, panels):
        im = ax.imshow(np.ma.masked_invalid(data), extent=(0, w, h, 0), cmap=cmap, interpolation="nearest",
                       vmin=lim[0] if lim else 0, vmax=lim[1] if lim else max(1.0, float(np.nanmax(data, initial=0))))
        ax.set_facecolor("#eeeeee")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"x (px at {w}x{h})", fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.03)
    axes[0].set_ylabel("y", fontsize=8)
    return _save(fig, path)


def gallery(rows: pd.DataFrame, images: Mapping[tuple[str, int], np.ndarray], path: Path,
            per_row: int = 3, zoom: int = 24) -> Path | None:
    """For each error frame: the whole frame (at model size) and a zoom of ``2 * zoom``
    px around the true ball (the prediction for a false alarm); true position a green
    circle, prediction a red cross. None when no row has an image."""
    plt = _plt()
    rows = rows[[(str(v), int(f)) in images for v, f in zip(rows["video_id"], rows["frame_index"])]]
    if rows.empty:
        return None
    n_rows = math.ceil(len(rows) / per_row)
    fig, axes = plt.subplots(n_rows, 2 * per_row, figsize=(5.2 * per_row, 1.9 * n_rows + 0.2),
                             gridspec_kw={"width_ratios": [16 / 9, 1] * per_row}, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, (_, r) in enumerate(rows.iterrows()):
        img = images[(str(r["video_id"]), int(r["frame_index"]))]
        full, crop = axes[k // per_row, 2 * (k % per_row)], axes[k // per_row, 2 * (k % per_row) + 1]
        full.imshow(img, interpolation="bilinear")
        tx, ty, px, py = r["x_label_m"], r["y_label_m"], r["x_pred_m"], r["y_pred_m"]
        true_ok, pred_ok = bool(r["label_visible"]), bool(r["pred_visible"])
        for ax, s in ((full, 1.0), (crop, 2.2)):
            if true_ok:
                ax.plot(tx, ty, "o", mfc="none", mec=TRUE_COLOUR, ms=9 * s, mew=1.6)
            if pred_ok:
                ax.plot(px, py, "x", color="red", ms=7 * s, mew=1.8)
        cx, cy, half = (tx, ty, zoom) if true_ok else (px, py, zoom)
        if true_ok and pred_ok:  # frame both when they are near enough to stay recognisable
            gap = max(abs(px - tx), abs(py - ty))
            if gap + 6 > zoom and gap < 3 * zoom:
                cx, cy, half = (tx + px) / 2, (ty + py) / 2, gap / 2 + 8
        crop.imshow(img, interpolation="nearest")
        crop.set_xlim(cx - half, cx + half)
        crop.set_ylim(cy + half, cy - half)
        detail = {"FP1": f"off by {r['error_model_px']:.1f} px", "FN": "missed",
                  "FP2": f"no ball, score {_fmt(r['score'])}"}.get(r["outcome"], "")
        full.set_title(f"{r['video_id']} f{int(r['frame_index'])}: {r['outcome']} {detail}", fontsize=8, loc="left")
    fig.tight_layout()
    return _save(fig, path)


def trajectory(frames: pd.DataFrame, video_id: str, cuts: Sequence[int], path: Path) -> Path:
    """x and y over time of one video, source pixels: the labels as a green line, the
    predictions as dots coloured by outcome, misses as red crosses on the true path,
    camera cuts as dotted lines."""
    plt = _plt()
    g = frames[frames["video_id"] == video_id].sort_values("frame_index")
    f = g["frame_index"].to_numpy()
    fig, axes = plt.subplots(2, 1, figsize=(12, 4.2), sharex=True)
    for ax, axis in zip(axes, ("x", "y")):
        true = np.where(g["label_visible"], g[f"{axis}_label"], np.nan)
        ax.plot(f, true, "-", color=TRUE_COLOUR, lw=1.5, label="true")
        for outcome in ("TP", "FP1", "FP2"):
            sel = (g["outcome"] == outcome).to_numpy()
            if sel.any():
                ax.plot(f[sel], g[f"{axis}_pred"].to_numpy()[sel], ".", ms=5, color=OUTCOME_COLOURS[outcome],
                        label=f"predicted {outcome}")
        miss = (g["outcome"] == "FN").to_numpy()
        if miss.any():
            ax.plot(f[miss], true[miss], "x", color="red", ms=6, mew=1.5, label="missed (FN)")
        for c in cuts:
            ax.axvline(c, color="grey", ls=":", lw=1)
        ax.set_ylabel(f"{axis} (px)")
        ax.invert_yaxis() if axis == "y" else None
        ax.grid(alpha=0.3)
    axes[0].set_title(f"{video_id}: position over time (y axis points down, as in the image)", fontsize=10)
    axes[0].legend(fontsize=7, ncols=6, loc="upper left", bbox_to_anchor=(0, 1.32))
    axes[1].set_xlabel("frame")
    from matplotlib.ticker import MaxNLocator

    axes[1].xaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(fig, path)


def _fmt(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"
