"""`balltrack track` end to end on a real local Ray: every frame exactly once, in
order, from synthetic and real clips, with chunk edges inside the videos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from tests._shared import shared_realdata

REPO = Path(__file__).resolve().parents[2]
from tests._videos import REAL_CLIPS, make_video, serial_decode


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """An untrained tiny TrackNet (seeded): frame bookkeeping does not need a good model."""
    import torch

    from balltrack.models.checkpoint import save_checkpoint
    from balltrack.models.tracknet import build_tracknet, config_from_name

    torch.manual_seed(0)
    config = config_from_name("tiny")
    path = tmp_path_factory.mktemp("model") / "tracknet.pt"
    save_checkpoint(path, build_tracknet(config), config.input_spec())
    return str(path)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    for d in ("round1", "round2"):
        (root / d).mkdir()
    make_video(root / "round1" / "gop10_b3.mp4", n=70, gop=10, bframes=3)
    make_video(root / "round1" / "vfr.mp4", n=45, gop=12, bframes=2, vfr=True)
    make_video(root / "round2" / "audio.mp4", n=40, gop=8, audio=True, size=(640, 360))
    (root / "round2" / "broken.mp4").write_bytes(b"not a video at all\n" * 10)
    # Probes fine (its moov atom, at the end, is intact) but a fifth of the media
    # data is zeroed: decoding fails mid-stream, inside the pipeline.
    damaged = make_video(root / "round2" / "damaged.mp4", n=60, gop=10, bframes=2, seed=3)
    data = bytearray(damaged.read_bytes())
    start, n = int(len(data) * 0.6), int(len(data) * 0.2)
    data[start : start + n] = bytes(n)
    damaged.write_bytes(bytes(data))
    return root


def _track(inputs, out, model, **kw):
    from balltrack.pipelines.track import TrackOptions, track

    return track(TrackOptions(inputs=[str(i) for i in inputs], out=str(out), model=model, **kw))


def _tracks(out) -> pd.DataFrame:
    return pads.dataset(str(out / "tracks"), format="parquet", partitioning="hive").to_table().to_pandas()


@pytest.fixture(scope="module")
def tracked(ray_local, archive, tiny_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("tracked") / "out"
    # chunk_s=0.5 puts several chunk edges inside every clip (GOPs of 8-12 frames).
    return out, _track([archive], out, tiny_checkpoint, chunk_s=0.5, actors=2, batch_size=4)


def test_every_frame_once_in_order(archive, tracked):
    out, result = tracked
    status = {v.video_id: v.status for v in result.videos}
    assert status == {"round1__gop10_b3.mp4": "done", "round1__vfr.mp4": "done",
                      "round2__audio.mp4": "done", "round2__broken.mp4": "error", "round2__damaged.mp4": "error"}
    errors = {v.video_id: v.error for v in result.videos if v.status == "error"}
    assert "not a video" in errors["round2__broken.mp4"]
    assert "do not decode" in errors["round2__damaged.mp4"] and "of 60 frames" in errors["round2__damaged.mp4"]
    assert not (out / "tracks" / "video_id=round2__damaged.mp4").exists()  # nothing half-written

    catalog = pq.read_table(out / "videos" / "catalog.parquet").to_pandas().set_index("video_id")
    tracks = _tracks(out)
    for vid, group in tracks.groupby("video_id", observed=True):
        n = int(catalog.loc[vid, "n_frames"])
        assert len(group) == n
        assert group["frame_index"].tolist() == list(range(n))  # in order, once each
        src = archive / vid.replace("__", "/")
        _, pts, _ = serial_decode(src)
        np.testing.assert_allclose(group["pts_s"].to_numpy(), pts, atol=1e-6)
        vis = group["visible"].to_numpy()
        assert group.loc[~vis, "x"].isna().all() and group.loc[~vis, "source"].isna().all()
        assert set(group.loc[vis, "source"]) <= {"detected", "interpolated"}
        assert (group["run_id"] == result.run_id).all()
        # The seed CSV holds the same frames and positions.
        csv = pd.read_csv(out / "csv" / f"{vid}.csv")
        assert list(csv.columns) == ["Frame", "Visibility", "X", "Y", "Time"]
        assert csv["Frame"].tolist() == group["frame_index"].tolist()
        np.testing.assert_array_equal(csv["Visibility"].to_numpy() == 1, vis)
        # Shots partition the frames.
        shots = pq.read_table(out / "shots" / f"video_id={vid}").to_pandas()
        assert shots["start_frame"].iloc[0] == 0 and shots["end_frame"].iloc[-1] == n
        assert (shots["start_frame"].iloc[1:].to_numpy() == shots["end_frame"].iloc[:-1].to_numpy()).all()
    assert set(tracks["video_id"]) == {"round1__gop10_b3.mp4", "round1__vfr.mp4", "round2__audio.mp4"}
    report = json.loads((out / "_runs" / f"{result.run_id}.json").read_text())
    assert {v["video_id"]: v["status"] for v in report["videos"]} == status


def test_same_frames_whatever_the_chunking(ray_local, archive, tiny_checkpoint, tmp_path):
    """Chunked inference equals whole-video inference: context frames give every
    window its real predecessors, so predictions do not depend on chunk edges."""
    a = _track([archive / "round1" / "gop10_b3.mp4"], tmp_path / "a", tiny_checkpoint, chunk_s=0.4)
    b = _track([archive / "round1" / "gop10_b3.mp4"], tmp_path / "b", tiny_checkpoint, chunk_s=1000)
    ta, tb = _tracks(tmp_path / "a"), _tracks(tmp_path / "b")
    assert a.videos[0].frames == b.videos[0].frames == 70
    cols = ["frame_index", "visible", "x", "y", "score", "source"]
    pd.testing.assert_frame_equal(ta[cols], tb[cols], check_exact=False, atol=1e-4)


def test_rerun_skips_complete_videos_and_overwrite_recomputes(ray_local, archive, tiny_checkpoint, tmp_path):
    out = tmp_path / "out"
    first = _track([archive / "round1"], out, tiny_checkpoint)
    assert [v.status for v in first.videos] == ["done", "done"]
    # Ids are relative to the input root: round1/vfr.mp4 is 'vfr.mp4' here.
    before = (out / "tracks" / "video_id=vfr.mp4" / "part-0.parquet").stat().st_mtime_ns
    again = _track([archive / "round1"], out, tiny_checkpoint)
    assert [v.status for v in again.videos] == ["skipped", "skipped"]
    assert (out / "tracks" / "video_id=vfr.mp4" / "part-0.parquet").stat().st_mtime_ns == before
    # A video whose marker is missing (a run killed after its outputs) is redone, the other skipped.
    (out / "_done" / "vfr.mp4.json").unlink()
    partial = _track([archive / "round1"], out, tiny_checkpoint)
    assert {v.video_id: v.status for v in partial.videos} == {"gop10_b3.mp4": "skipped", "vfr.mp4": "done"}
    forced = _track([archive / "round1"], out, tiny_checkpoint, overwrite=True)
    assert [v.status for v in forced.videos] == ["done", "done"]
    assert not list(out.rglob(".*.tmp"))


def test_real_clips_every_frame_once(ray_local, tiny_checkpoint, tmp_path):
    root = shared_realdata()
    clips = [root / p for p in REAL_CLIPS]
    inputs = tmp_path / "real"
    for c in clips:  # symlinks give short ids without copying footage into the repo
        (inputs / c.parent.name).mkdir(parents=True, exist_ok=True)
        (inputs / c.parent.name / c.name).symlink_to(c)
    out = tmp_path / "out"
    result = _track([inputs], out, tiny_checkpoint, chunk_s=1.0)
    assert all(v.status == "done" for v in result.videos), [(v.video_id, v.error) for v in result.videos]
    catalog = pq.read_table(out / "videos" / "catalog.parquet").to_pandas().set_index("video_id")
    tracks = _tracks(out)
    assert tracks["video_id"].nunique() == len(clips)
    for vid, group in tracks.groupby("video_id", observed=True):
        n = int(catalog.loc[vid, "n_frames"])
        assert group["frame_index"].tolist() == list(range(n)), vid
        visible = group[group["visible"]]
        assert ((visible["x"] >= 0) & (visible["x"] <= catalog.loc[vid, "width"])).all()


def test_bad_model_reference_is_a_clear_error(ray_local, archive, tmp_path):
    from balltrack.errors import InputError

    with pytest.raises(InputError, match="no such checkpoint"):
        _track([archive / "round1"], tmp_path / "o", str(tmp_path / "missing.pt"))
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(InputError, match="junk.pt"):
        _track([archive / "round1"], tmp_path / "o", str(tmp_path / "junk.pt"))
    shutil.rmtree(tmp_path / "o", ignore_errors=True)


def test_outputs_read_the_same_in_pandas_duckdb_and_polars(tracked):
    """The queries the docs show, on real outputs: all three engines see the
    partition column and the same rows."""
    import duckdb
    import polars as pl

    out, _ = tracked
    pdf = pd.read_parquet(out / "tracks")
    by_pandas = pdf.groupby(pdf["video_id"].astype(str))["visible"].agg(["size", "sum"]).sort_index()
    by_duckdb = duckdb.sql(
        f"SELECT video_id, count(*) AS size, sum(visible::INT) AS sum "
        f"FROM read_parquet('{out}/tracks/*/*.parquet', hive_partitioning = true) GROUP BY video_id ORDER BY video_id"
    ).df().set_index("video_id")
    by_polars = (
        pl.scan_parquet(str(out / "tracks" / "**" / "*.parquet"), hive_partitioning=True)
        .group_by("video_id").agg(pl.len().alias("size"), pl.col("visible").sum().alias("sum"))
        .sort("video_id").collect().to_pandas().set_index("video_id")
    )
    assert by_pandas["size"].tolist() == by_duckdb["size"].tolist() == by_polars["size"].tolist()
    assert by_pandas["sum"].tolist() == by_duckdb["sum"].astype(int).tolist() == by_polars["sum"].tolist()
    assert list(by_pandas.index) == list(by_duckdb.index) == list(by_polars.index)
    meta = pq.read_schema(next((out / "tracks").rglob("*.parquet"))).metadata
    assert meta[b"balltrack.schema_version"] == b"1"


def test_example_notebook_runs(tracked, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    out, _ = tracked
    monkeypatch.setenv("BALLTRACK_OUT", str(out))
    nb = nbformat.read(REPO / "notebooks" / "explore_tracks.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    last = nb.cells[-1].outputs[0]["text"]
    assert "3 videos" in last and "each exactly once" in last


def test_render_with_the_default_model(ray_local, tmp_path):
    """`--render` with the bundled model on a synthetic rally (audio on): the overlay
    decodes with PyAV, has the input's frame count and rate, keeps the audio, and its
    marker is where tracks/ says."""
    import av

    from balltrack.synth import generate_clips
    from balltrack.video.overlay import DEFAULT_COLOUR

    clips = tmp_path / "clips"
    generate_clips(clips, clips=1, seed=1000, seconds=3.0)
    out = tmp_path / "out"
    result = _track([clips], out, "default", render=True)
    (video,) = result.videos
    assert video.status == "done" and video.detected > 0.5 * video.frames
    render = out / "render" / f"{video.video_id}.mp4"
    assert video.outputs["render"] == str(render)
    tracks = _tracks(out).set_index("frame_index")
    with av.open(str(next(clips.glob("*.mp4")))) as src, av.open(str(render)) as dst:
        assert dst.streams.video[0].average_rate == src.streams.video[0].average_rate
        assert len(dst.streams.audio) == 1
        frames = [f.to_ndarray(format="rgb24") for f in dst.decode(video=0)]
        originals = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    assert len(frames) == len(originals) == len(tracks) == video.frames
    red = np.array(DEFAULT_COLOUR)
    checked = 0
    for i, row in tracks[tracks["visible"]].iloc[::7].iterrows():
        x, y = int(round(row["x"])), int(round(row["y"]))
        px, before = frames[i][y, x].astype(int), originals[i][y, x].astype(int)
        # The marker (a small red dot inside a red ring; 4:2:0 chroma blurs it) made
        # that pixel red: red-dominant and much nearer pure red than the source was.
        assert px[0] - max(px[1], px[2]) > 60, (i, px)
        assert np.abs(px - red).sum() < np.abs(before - red).sum() - 100, (i, px, before)
        checked += 1
    assert checked >= 5
    # Away from the ball the picture is the source's (up to re-encoding).
    corner = (slice(0, 24), slice(0, 24))
    assert np.abs(frames[0][corner].astype(int) - originals[0][corner].astype(int)).mean() < 6
