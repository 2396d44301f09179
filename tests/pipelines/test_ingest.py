"""`balltrack ingest` end to end on a local Ray: every input is a row."""

from __future__ import annotations

import os
import shutil

import av
import numpy as np
import pyarrow.parquet as pq
import pytest

from balltrack.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from balltrack.schema import METADATA_KEY, SCHEMA_VERSION
from tests._shared import shared_realdata
from tests._videos import REAL_CLIPS, make_video


@pytest.fixture(scope="module")
def archive(tmp_path_factory, video_dir):
    root = tmp_path_factory.mktemp("archive")
    (root / "round1").mkdir()
    (root / "round2").mkdir()
    shutil.copy(video_dir / "gop10_b3.mp4", root / "round1" / "final match.mp4")
    shutil.copy(video_dir / "vfr.mp4", root / "round2" / "semi.mp4")
    (root / "round2" / "empty.mp4").write_bytes(b"")
    (root / "round2" / "notes.mp4").write_text("coach's notes, not a video\n")
    good = (video_dir / "gop10_b3.mp4").read_bytes()
    (root / "round2" / "no_moov.mp4").write_bytes(good[: good.find(b"moov") - 4])
    fast = make_video(root / "fast.mp4", extra={"movflags": "+faststart"}).read_bytes()
    (root / "fast.mp4").unlink()
    (root / "round2" / "cut_in_half.mp4").write_bytes(fast[: len(fast) // 2])
    with av.open(str(root / "round2" / "commentary.mp4"), "w") as c:
        s = c.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for p in [*s.encode(frame), *s.encode()]:
            c.mux(p)
    (root / "README.txt").write_text("not picked: wrong extension")
    return root


EXPECTED_ERRORS = {
    "round2__empty.mp4": "empty file",
    "round2__notes.mp4": "holds text",
    "round2__no_moov.mp4": "moov atom",
    "round2__cut_in_half.mp4": "truncated",
    "round2__commentary.mp4": "audio-only",
    "missing.mp4": "no such file",
}


def test_ingest_records_every_input_and_exits_3(ray_local, archive, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["ingest", str(archive), str(archive / "missing.mp4"), "--out", str(out), "-q"])
    assert code == EXIT_PARTIAL
    table = pq.read_table(out / "videos" / "catalog.parquet")
    assert table.schema.metadata[METADATA_KEY] == SCHEMA_VERSION.encode()
    rows = {r["video_id"]: r for r in table.to_pylist()}
    assert set(rows) == {"round1__final_match.mp4", "round2__semi.mp4", *EXPECTED_ERRORS}
    good = rows["round1__final_match.mp4"]
    assert good["status"] == "ok" and good["error"] is None
    assert (good["n_frames"], good["width"], good["height"], good["codec"]) == (90, 320, 240, "h264")
    assert good["fps"] == pytest.approx(25) and good["n_keyframes"] == 9
    assert good["uri"] == str(archive / "round1" / "final match.mp4")
    assert rows["round2__semi.mp4"]["n_frames"] == 90
    for vid, reason in EXPECTED_ERRORS.items():
        assert rows[vid]["status"] == "error", vid
        assert reason in rows[vid]["error"], (vid, rows[vid]["error"])
    err = capsys.readouterr().err
    assert "missing.mp4: no such file" in err


def test_rerun_gives_the_same_ids(ray_local, archive, tmp_path):
    main(["ingest", str(archive), "--out", str(tmp_path / "a"), "-q"])
    main(["ingest", str(archive / "round2"), str(archive / "round1"), "--out", str(tmp_path / "b"), "-q"])
    main(["ingest", str(archive), "--out", str(tmp_path / "a"), "-q"])
    a = pq.read_table(tmp_path / "a" / "videos" / "catalog.parquet").column("video_id").to_pylist()
    b = pq.read_table(tmp_path / "b" / "videos" / "catalog.parquet").column("video_id").to_pylist()
    assert a == sorted(a) and len(a) == 7
    assert {v.split("__")[-1] for v in a} == {v.split("__")[-1] for v in b}
    assert os.listdir(tmp_path / "a" / "videos") == ["catalog.parquet"]  # no temp file left


def test_all_good_exits_0_and_reads_real_clips(ray_local, tmp_path):
    root = shared_realdata()
    code = main(["ingest", *[str(root / r) for r in sorted(REAL_CLIPS)], "--out", str(tmp_path), "-q"])
    assert code == EXIT_OK
    rows = pq.read_table(tmp_path / "videos" / "catalog.parquet").to_pylist()
    assert {r["video_id"]: r["n_frames"] for r in rows} == {r.rsplit("/", 1)[1]: n for r, n in REAL_CLIPS.items()}
    audio = {r["video_id"]: r["has_audio"] for r in rows}
    assert audio["video_input3.mp4"] and not audio["1_10_12.mp4"]


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "*.mp4"), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "matches no file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["ingest", "--out", str(tmp_path)])
    assert exc.value.code == 2
