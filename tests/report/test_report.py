"""`balltrack report` and `eval tracks --slices` on a synthetic clip (predictions as a track
job's OUT, with shots/) and two real labelled clips (one tracked by a seeded untrained tiny
TrackNet); the validation report of a training run; the page rendered by headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from balltrack.cli import EXIT_OK, main
from balltrack.labels import read_labels
from balltrack.metrics.slices import SLICES
from balltrack.report.html import SECTIONS
from tests._shared import shared_realdata

SYNTH = "rally_5_000"
CHG = ("ChgygLin__TrackNetV2-pytorch/example_dataset/match/videos/1_10_12.mp4",
       "ChgygLin__TrackNetV2-pytorch/example_dataset/match/labels/1_10_12.csv")
VOLLEY = ("mareksubocz__TrackNet/example_datasets/video_dataset/videos/VolleyballShortClip.mp4",
          "mareksubocz__TrackNet/example_datasets/video_dataset/csvs/VolleyballShortClip.csv")


def perturbed(labels: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Predictions with known outcomes (source pixels, 512x288 video, tracknetv2 tolerance 4):
    visible ball -> missed when i % 7 == 3, 40 px off when i % 11 == 5, else within 1 px;
    no ball -> a false alarm when i % 4 == 0."""
    i = labels["frame_index"].to_numpy()
    vis = labels["visible"].to_numpy(bool)
    miss = vis & (i % 7 == 3)
    far = vis & ~miss & (i % 11 == 5)
    alarm = ~vis & (i % 4 == 0)
    out_vis = (vis & ~miss) | alarm
    x = np.where(far, labels["x"] + 40, labels["x"] + (i % 3 - 1))
    x = np.where(alarm, 100.0, x)
    y = np.where(alarm, 100.0, labels["y"])
    pred = pd.DataFrame({
        "frame_index": i, "visible": out_vis, "x": np.where(out_vis, x, np.nan), "y": np.where(out_vis, y, np.nan),
        "score": np.where(far, 0.6, np.where(alarm, 0.55, 0.9 - 0.001 * i)).astype(np.float32),
    })
    counts = {"TP": int((vis & ~miss & ~far).sum()), "FP1": int(far.sum()), "FP2": int(alarm.sum()),
              "FN": int(miss.sum()), "TN": int((~vis & ~alarm).sum())}
    return pred, counts


def write_track_out(out: Path, video_id: str, pred: pd.DataFrame, shot_starts: list[int], n: int) -> None:
    """A `balltrack track` OUT: tracks/ and shots/ partitions of one video."""
    t = out / "tracks" / f"video_id={video_id}"
    t.mkdir(parents=True)
    table = pred.assign(pts_s=pred["frame_index"] / 25.0, source="detected", model="test", run_id="r1")
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), t / "part-0.parquet")
    s = out / "shots" / f"video_id={video_id}"
    s.mkdir(parents=True)
    ends = shot_starts[1:] + [n]
    pq.write_table(pa.table({"shot_index": pa.array(range(len(shot_starts)), pa.int32()),
                             "start_frame": pa.array(shot_starts, pa.int64()),
                             "end_frame": pa.array(ends, pa.int64())}), s / "part-0.parquet")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    import torch

    from balltrack.models.checkpoint import save_checkpoint
    from balltrack.models.tracknet import build_tracknet, config_from_name

    torch.manual_seed(0)
    cfg = config_from_name("tiny")
    path = tmp_path_factory.mktemp("model") / "tracknet.pt"
    save_checkpoint(path, build_tracknet(cfg), cfg.input_spec())
    return path


@pytest.fixture(scope="module")
def case(tmp_path_factory, tiny_checkpoint):
    from balltrack.models.checkpoint import load_tracknet
    from balltrack.synth import generate_clips
    from balltrack.tracking.inference import track_video

    real = shared_realdata()
    root = tmp_path_factory.mktemp("report")
    synth = root / "synth"
    generate_clips(synth, clips=1, seed=5, seconds=3)
    labels = read_labels(synth / f"{SYNTH}.csv", video_id=SYNTH)
    pred, counts = perturbed(labels)
    meta = pd.read_csv(synth / f"{SYNTH}.meta.csv")
    starts = [0] + [int(f) for f in meta["Frame"][meta["Shot"].diff().fillna(0) != 0]]
    track_out = root / "out"
    write_track_out(track_out, f"{SYNTH}.mp4", pred, starts, len(labels))

    csvs = root / "csv_pred"  # seed-format CSVs for the real clips
    csvs.mkdir()
    model, spec, _ = load_tracknet(tiny_checkpoint)
    t = track_video(model, spec, str(real / CHG[0]))
    pd.DataFrame({"Frame": t["frame_index"], "Visibility": t["visible"].astype(int), "X": t["x"].fillna(0),
                  "Y": t["y"].fillna(0), "Score": t["score"]}).to_csv(csvs / "1_10_12.csv", index=False)
    vl = read_labels(real / VOLLEY[1], width=1280, height=720)
    vp, _ = perturbed(vl)
    pd.DataFrame({"Frame": vp["frame_index"], "Visibility": vp["visible"].astype(int), "X": vp["x"].fillna(0),
                  "Y": vp["y"].fillna(0), "Score": vp["score"]}).to_csv(csvs / "VolleyballShortClip.csv", index=False)

    report = root / "report"
    args = ["--pred", str(track_out), str(csvs), "--labels", str(synth), str(real / CHG[1]), str(real / VOLLEY[1])]
    code = main(["report", *args, "--out", str(report), "-q"])
    return {"root": root, "report": report, "code": code, "counts": counts, "args": args, "starts": starts,
            "n_synth": len(labels)}


def test_report_has_every_section_and_every_image(case):
    assert case["code"] == EXIT_OK
    index = case["report"] / "index.html"
    text = index.read_text()
    for sid, _ in SECTIONS:
        assert f'<section id="{sid}">' in text, sid
    srcs = re.findall(r'<img src="([^"]+)"', text)
    expected = {"img/pr_curve.png", "img/heatmap.png", "img/gallery.png"} | {f"img/slice_{k.name}.png" for k in SLICES}
    assert expected <= set(srcs)
    assert sum(s.startswith("img/trajectory_") for s in srcs) == 3  # one per video
    for src in srcs:
        data = (index.parent / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, src
    for href in re.findall(r'<a href="([^"#]+)"', text):
        assert (index.parent / href).is_file(), href
    assert "http://" not in text and "https://" not in text and "<script" not in text  # opens from disk


def test_numbers_match_the_constructed_outcomes_and_slices_partition(case):
    doc = json.loads((case["report"] / "metrics.json").read_text())
    synth = doc["per_video"][SYNTH]
    assert {k: synth[k] for k in case["counts"]} == case["counts"]
    assert set(doc["per_video"]) == {SYNTH, "1_10_12", "VolleyballShortClip"}
    total = doc["total"]
    assert total["n_frames"] == case["n_synth"] + 6 + 21
    assert 0 < total["ap"] <= 1 and doc["pr_curve"]["recall"]
    for kind, spec in doc["slices"].items():
        assert sum(b["n_frames"] for b in spec["bins"]) == total["n_frames"], kind
        assert sum(b["TP"] for b in spec["bins"]) == total["TP"], kind
    assert doc["sources"]["shots"] == {SYNTH: "shots/", "1_10_12": "detected cuts", "VolleyballShortClip": "detected cuts"}
    assert doc["sources"]["size"]["meta"] > 0 and doc["sources"]["size"].get("estimated", 0) > 0
    shots = {b["bin"]: b["n_frames"] for b in doc["slices"]["shot"]["bins"]}
    ends = case["starts"][1:] + [case["n_synth"]]
    assert [shots[f"{SYNTH}#{i}"] for i in range(len(ends))] == [b - a for a, b in zip(case["starts"], ends)]
    vis = {b["bin"] for b in doc["slices"]["visibility"]["bins"]}
    assert "visible" in vis and "out_of_frame" in vis  # synthetic meta classes

    frames = pd.read_parquet(case["report"] / "frames.parquet")
    assert len(frames) == total["n_frames"]
    assert {f"slice_{k.name}" for k in SLICES} <= set(frames.columns)
    slices = pd.read_parquet(case["report"] / "slices.parquet")
    assert slices.groupby("kind")["n_frames"].sum().eq(total["n_frames"]).all()
    assert len(pd.read_parquet(case["report"] / "per_video.parquet")) == 3
    assert len(pd.read_parquet(case["report"] / "pr_curve.parquet")) == len(doc["pr_curve"]["recall"])


def test_eval_tracks_slices_json(case, capsys):
    out = case["root"] / "eval.json"
    assert main(["eval", "tracks", *case["args"], "--slices", "--out", str(out)]) == EXIT_OK
    capsys.readouterr()
    doc = json.loads(out.read_text())
    report = json.loads((case["report"] / "metrics.json").read_text())
    assert doc["total"] == report["total"] and doc["slices"] == report["slices"]
    for spec in doc["slices"].values():
        assert sum(b["n_frames"] for b in spec["bins"]) == doc["total"]["n_frames"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_headless_chromium_renders_the_plots(case, tmp_path):
    from PIL import Image

    png = tmp_path / "page.png"
    uri = (case["report"] / "index.html").resolve().as_uri()
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
                    "--window-size=1400,3000", uri], capture_output=True, timeout=120, check=False)
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape[:2] == (3000, 1400)
    # The PR curve and slice bars are drawn: plenty of the plots' blue/orange, not just text on white.
    blue = (np.abs(img.astype(int) - (31, 119, 180)).sum(axis=2) < 30).sum()
    assert blue > 5000


def test_training_logs_the_validation_report_to_mlflow(tmp_path, tiny_checkpoint, monkeypatch):
    import mlflow

    from balltrack.report.training import log_validation_report

    video = shared_realdata() / CHG[0]
    # A file store: what is tested is the hook's artifacts; a new sqlite store's migrations take ~9 s.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    messages: list[str] = []
    with mlflow.start_run() as run:
        index = log_validation_report(tiny_checkpoint, [str(video)], tmp_path / "report", progress=messages.append)
        bad = log_validation_report(tmp_path / "missing.pt", [str(video)], tmp_path / "r2", progress=messages.append)
    assert index is not None and index.is_file() and bad is None
    assert any("validation report failed" in m for m in messages)
    names = {a.path for a in mlflow.artifacts.list_artifacts(run_id=run.info.run_id, artifact_path="report")}
    assert {"report/index.html", "report/metrics.json", "report/img"} <= names
