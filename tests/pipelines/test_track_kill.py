"""Kill the `balltrack track` driver mid-run, run it again, and get exactly the
outputs of an uninterrupted run: no duplicate rows, no missing video, nothing
half-written left where a reader looks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as pads
import pytest

from tests._videos import make_video

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    import torch

    from balltrack.models.checkpoint import save_checkpoint
    from balltrack.models.tracknet import build_tracknet, config_from_name

    torch.manual_seed(1)
    config = config_from_name("tiny")
    path = tmp_path_factory.mktemp("model") / "tracknet.pt"
    save_checkpoint(path, build_tracknet(config), config.input_spec())
    return path


def _cli(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "balltrack.cli", *map(str, args)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, **kw)


def _tracks(out: Path) -> pd.DataFrame:
    df = pads.dataset(str(out / "tracks"), format="parquet", partitioning="hive").to_table().to_pandas()
    df["video_id"] = df["video_id"].astype(str)
    return df.drop(columns=["run_id"]).sort_values(["video_id", "frame_index"], ignore_index=True)


def test_killed_run_resumes_to_the_same_outputs(model, tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(6):
        make_video(archive / f"clip{i}.mp4", n=40 + 5 * i, gop=10, bframes=2, seed=i)
    args = ["track", archive, "--model", model, "--chunk-s", "0.8", "--actors", "1"]

    reference = tmp_path / "reference"
    done = _cli([*args, "--out", reference])
    assert done.wait(timeout=600) == 0, done.stdout.read().decode()[-3000:]

    out = tmp_path / "out"
    run = _cli([*args, "--out", out])
    deadline = time.monotonic() + 300
    while not list((out / "_done").glob("*.json")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.poll() is None, "the run ended before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)  # the driver and everything it started, mid-run
    run.wait()
    finished = {p.stem for p in (out / "_done").glob("*.json")}
    assert 1 <= len(finished) < 6
    # What a reader sees after the kill is whole: every visible file is complete Parquet.
    for part in (out / "tracks").rglob("*.parquet"):
        pads.dataset(str(part)).to_table()

    again = _cli([*args, "--out", out])
    log = again.stdout.read().decode()
    assert again.wait(timeout=600) == 0, log[-3000:]
    assert f"{len(finished)} already complete" in log
    pd.testing.assert_frame_equal(_tracks(out), _tracks(reference))
    assert sorted(p.name for p in (out / "csv").iterdir()) == [f"clip{i}.mp4.csv" for i in range(6)]
    for i in range(6):
        assert (out / "csv" / f"clip{i}.mp4.csv").read_text() == (reference / "csv" / f"clip{i}.mp4.csv").read_text()
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.is_file()]
