"""S3 through s3fs against a real S3 API on 127.0.0.1 (moto in server mode)."""

from __future__ import annotations

import numpy as np
import pytest

import balltrack
from balltrack.pipelines.ingest import ingest
from balltrack.video.probe import probe_video
from tests._shared import shared_realdata
from tests._videos import REAL_CLIPS

BUCKET = "season"


@pytest.fixture(scope="module")
def s3(video_dir):
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    options = {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    for name in ["gop10_b3.mp4", "vfr.mp4"]:
        client.upload_file(str(video_dir / name), BUCKET, f"matches/round1/{name}")
    client.put_object(Bucket=BUCKET, Key="matches/round1/broken.mp4", Body=b"not a video")
    real = shared_realdata() / sorted(REAL_CLIPS)[0]
    client.upload_file(str(real), BUCKET, f"matches/real/{real.name}")
    yield {"endpoint": endpoint, "options": options, "client": client, "real": real}
    server.stop()


def rows_of(ds):
    out = {}
    for b in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for v, i, t, img in zip(b["video_id"], b["frame_index"], b["pts_s"], b["image"]):
            out[(str(v), int(i))] = (float(t), img)
    return out


def test_s3_reads_equal_local_reads(ray_local, s3, video_dir):
    remote = balltrack.read_video_frames(
        [f"s3://{BUCKET}/matches/round1/gop10_b3.mp4", f"s3://{BUCKET}/matches/round1/vfr.mp4"],
        chunk_s=0.4, size=(160, 120), storage_options=s3["options"],
    )
    local = balltrack.read_video_frames(
        [str(video_dir / "gop10_b3.mp4"), str(video_dir / "vfr.mp4")], chunk_s=0.4, size=(160, 120)
    )
    r, l = rows_of(remote), rows_of(local)
    assert len(r) == 180 and sorted(r) == sorted(l)
    for key in l:
        assert r[key][0] == l[key][0] and np.array_equal(r[key][1], l[key][1])


def test_s3_prefix_ingest_keeps_uris_and_reports_bad_objects(ray_local, s3, tmp_path):
    result = ingest([f"s3://{BUCKET}/matches/"], str(tmp_path / "out"), storage_options=s3["options"])
    rows = {r["video_id"]: r for r in result.table.to_pylist()}
    assert set(rows) == {"round1__gop10_b3.mp4", "round1__vfr.mp4", "round1__broken.mp4", f"real__{s3['real'].name}"}
    assert rows["round1__gop10_b3.mp4"]["uri"] == f"s3://{BUCKET}/matches/round1/gop10_b3.mp4"
    assert rows["round1__gop10_b3.mp4"]["n_frames"] == 90 and rows["round1__gop10_b3.mp4"]["status"] == "ok"
    assert rows["round1__broken.mp4"]["status"] == "error"
    assert "text" in rows["round1__broken.mp4"]["error"]
    assert rows[f"real__{s3['real'].name}"]["n_frames"] == REAL_CLIPS[sorted(REAL_CLIPS)[0]]


def test_catalog_written_to_s3(ray_local, s3, video_dir):
    import pyarrow.parquet as pq
    import s3fs

    ingest([str(video_dir / "gop10_b3.mp4")], f"s3://{BUCKET}/outputs/run1", storage_options=s3["options"])
    fs = s3fs.S3FileSystem(**s3["options"])
    assert fs.ls(f"{BUCKET}/outputs/run1/videos") == [f"{BUCKET}/outputs/run1/videos/catalog.parquet"]
    with fs.open(f"{BUCKET}/outputs/run1/videos/catalog.parquet", "rb") as f:
        assert pq.read_table(f).column("n_frames").to_pylist() == [90]


def test_endpoint_from_standard_aws_variables(s3, monkeypatch, video_dir):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3["endpoint"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    info = probe_video(f"s3://{BUCKET}/matches/round1/vfr.mp4")
    local = probe_video(str(video_dir / "vfr.mp4"))
    assert info.n_frames == local.n_frames and np.array_equal(info.dts, local.dts)
    assert info.uri.startswith("s3://")


def test_track_from_s3_to_s3_every_frame_once(ray_local, s3, tmp_path):
    """`balltrack track` over an s3:// prefix, writing to s3://: every frame of
    every readable video once, in order; the broken object is an error; a re-run skips."""
    import pyarrow.dataset as pads
    import s3fs
    import torch

    from balltrack.models.checkpoint import save_checkpoint
    from balltrack.models.tracknet import build_tracknet, config_from_name
    from balltrack.pipelines.track import TrackOptions, track

    torch.manual_seed(0)
    config = config_from_name("tiny")
    save_checkpoint(tmp_path / "tracknet.pt", build_tracknet(config), config.input_spec())
    opts = TrackOptions(inputs=[f"s3://{BUCKET}/matches/"], out=f"s3://{BUCKET}/tracked", model=str(tmp_path / "tracknet.pt"),
                        chunk_s=0.5, storage_options=s3["options"])
    result = track(opts)
    status = {v.video_id: v.status for v in result.videos}
    assert status == {"round1__gop10_b3.mp4": "done", "round1__vfr.mp4": "done", "round1__broken.mp4": "error",
                      f"real__{s3['real'].name}": "done"}
    fs = s3fs.S3FileSystem(**s3["options"])
    table = pads.dataset(f"{BUCKET}/tracked/tracks", filesystem=fs, format="parquet", partitioning="hive").to_table()
    df = table.to_pandas()
    df["video_id"] = df["video_id"].astype(str)
    expected = {"round1__gop10_b3.mp4": 90, "round1__vfr.mp4": 90,
                f"real__{s3['real'].name}": REAL_CLIPS[sorted(REAL_CLIPS)[0]]}
    for vid, n in expected.items():
        assert sorted(df.loc[df["video_id"] == vid, "frame_index"]) == list(range(n)), vid
    assert len(df) == sum(expected.values())
    assert fs.exists(f"{BUCKET}/tracked/csv/round1__vfr.mp4.csv")
    assert not [p for p in fs.find(f"{BUCKET}/tracked") if p.rsplit("/", 1)[-1].startswith(".")]
    again = track(opts)
    assert {v.video_id: v.status for v in again.videos if v.status != "error"} == {v: "skipped" for v in expected}
