"""Build an evaluation report on synthetic and real labelled clips and render it to a PNG
with headless Chromium, to look at what a reader sees.

    .venv/bin/python scripts/render_report.py --out /tmp/balltrack_report
    .venv/bin/python scripts/render_report.py --model runs/tn1/model/tracknet.pt   # a trained model's tracks

Predictions: with ``--model``, the checkpoint's tracks (``track_video``); without, a
seeded *simulated tracker* made from the labels (jittered positions, misses more often
on blurred and fast balls, a few far-off detections and false alarms), so every part of
the page has something to show without a trained model. The page title says which.

Writes OUT/report/index.html (and its files) and OUT/report.png (a full-page screenshot
from ``chromium --headless --screenshot``; Debian's chromium package).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
REAL = [  # (video, labels) under ../shared/realdata
    ("ChgygLin__TrackNetV2-pytorch/example_dataset/match/videos/1_10_12.mp4",
     "ChgygLin__TrackNetV2-pytorch/example_dataset/match/labels/1_10_12.csv"),
    ("mareksubocz__TrackNet/example_datasets/video_dataset/videos/VolleyballShortClip.mp4",
     "mareksubocz__TrackNet/example_datasets/video_dataset/csvs/VolleyballShortClip.csv"),
]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="/tmp/balltrack_report", help="work directory (default /tmp/balltrack_report)")
    p.add_argument("--model", help="TrackNet checkpoint to make the predictions (default: simulated tracker)")
    p.add_argument("--clips", type=int, default=2, help="synthetic clips (default 2)")
    p.add_argument("--seconds", type=float, default=4.0, help="length of each synthetic clip (default 4)")
    p.add_argument("--realdata", default=str(REPO.parent / "shared" / "realdata"), help="the shared real clips")
    p.add_argument("--width", type=int, default=1400, help="browser window width (default 1400)")
    p.add_argument("--height", type=int, default=0, help="window height (default: estimated from the page)")
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    return p.parse_args(argv)


def simulated_tracks(labels: pd.DataFrame, size: tuple[int, int], seed: int) -> pd.DataFrame:
    """A plausible tracker's output for one video's labels (source pixels)."""
    rng = np.random.default_rng(seed)
    w, h = size
    px = w / 512  # one model pixel in source pixels
    vis = labels["visible"].to_numpy(bool)
    x, y = labels["x"].to_numpy(float), labels["y"].to_numpy(float)
    speed = np.hypot(np.gradient(np.nan_to_num(x)), np.gradient(np.nan_to_num(y))) / px
    hard = labels["visibility_class"].isin(["blurred", "motion"]).to_numpy() | (speed > 8)
    miss = vis & (rng.random(len(x)) < np.where(hard, 0.45, 0.08))
    far = vis & ~miss & (rng.random(len(x)) < 0.06)
    alarm = ~vis & (rng.random(len(x)) < 0.12)
    out_vis = (vis & ~miss) | alarm
    px_x = np.where(vis, x + rng.normal(0, 1.2 * px, len(x)), rng.uniform(0, w - 1, len(x)))
    px_y = np.where(vis, y + rng.normal(0, 1.2 * px, len(x)), rng.uniform(0, h - 1, len(x)))
    px_x = np.where(far, x + rng.choice([-1, 1], len(x)) * rng.uniform(8, 40, len(x)) * px, px_x)
    score = np.where(vis & ~far, rng.uniform(0.55, 1.0, len(x)), rng.uniform(0.5, 0.8, len(x)))
    return pd.DataFrame({
        "Frame": labels["frame_index"].to_numpy(),
        "Visibility": out_vis.astype(int),
        "X": np.where(out_vis, np.clip(px_x, 0, w - 1), 0.0),
        "Y": np.where(out_vis, np.clip(px_y, 0, h - 1), 0.0),
        "Score": np.where(out_vis, score, 0.0),
    })


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    from balltrack.labels import read_labels
    from balltrack.report import build_report
    from balltrack.synth import generate_clips
    from balltrack.video import probe_video

    out = Path(args.out)
    synth, pred_dir = out / "synth", out / "pred"
    pred_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    if not list(synth.glob("rally_*.mp4")):
        print(f"synthesizing {args.clips} clips into {synth}", file=sys.stderr)
        generate_clips(synth, clips=args.clips, seed=11, seconds=args.seconds)
    pairs = [(v, v.with_suffix(".csv")) for v in sorted(synth.glob("rally_*.mp4"))]
    real = Path(args.realdata)
    pairs += [(real / v, real / lab) for v, lab in REAL if (real / v).is_file()]
    if len(pairs) == len(list(synth.glob("rally_*.mp4"))):
        print(f"warning: no real clips under {real}", file=sys.stderr)

    model = None
    if args.model:
        from balltrack.models.checkpoint import load_tracknet

        model, spec, _ = load_tracknet(args.model)
    for i, (video, labels_path) in enumerate(pairs):
        info = probe_video(str(video))
        if model is not None:
            from balltrack.tracking.inference import track_video

            t = track_video(model, spec, str(video))
            df = pd.DataFrame({"Frame": t["frame_index"], "Visibility": t["visible"].astype(int),
                               "X": t["x"].fillna(0), "Y": t["y"].fillna(0), "Score": t["score"]})
        else:
            lab = read_labels(labels_path, video_id=video.stem, width=info.width, height=info.height)
            meta = labels_path.with_name(f"{video.stem}.meta.csv")
            if meta.is_file():  # synthetic: its visibility classes make the simulated misses realistic
                cls = pd.read_csv(meta).set_index("Frame")["VisibilityClass"]
                lab["visibility_class"] = lab["frame_index"].map(cls).to_numpy()
            df = simulated_tracks(lab, (info.width, info.height), seed=i)
        df.to_csv(pred_dir / f"{video.stem}.csv", index=False)

    kind = f"model {args.model}" if args.model else "simulated tracker"
    report = build_report(
        out / "report", labels=[str(lab) for _, lab in pairs], pred=[str(pred_dir)],
        videos=[str(v) for v, _ in pairs], title=f"Ball tracking evaluation - {kind} on synthetic + real clips",
        progress=lambda m: print(m, file=sys.stderr),
    )
    print(f"report: {report.index} ({time.monotonic() - t0:.1f} s)", file=sys.stderr)

    png = out / "report.png"
    height = args.height or _page_height(report.index)
    cmd = [args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--screenshot={png}", f"--window-size={args.width},{height}", report.index.resolve().as_uri()]
    png.unlink(missing_ok=True)
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if not png.is_file():
        print(f"chromium failed ({run.returncode}): {run.stderr[-2000:]}", file=sys.stderr)
        return 1
    print(f"screenshot: {png} ({args.width}x{height})")
    return 0


def _page_height(index: Path) -> int:
    """A window tall enough for the whole page: the images' heights (scaled to the page
    width) plus room for text and tables."""
    from PIL import Image

    total = 1400
    text = index.read_text()
    for src in __import__("re").findall(r'<img src="([^"]+)"', text):
        with Image.open(index.parent / src) as im:
            w, h = im.size
        total += int(h * min(1.0, 1300 / w) * (0.5 if "/slice_" in src else 1.0)) + 60
    return min(total, 16000)


if __name__ == "__main__":
    sys.exit(main())
