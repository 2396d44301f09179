from __future__ import annotations

import os

import av
import numpy as np
import pytest

from balltrack.errors import VideoError
from balltrack.video.probe import probe_video
from tests._shared import shared_realdata
from tests._videos import REAL_CLIPS, make_video


def test_probe_reports_what_the_file_holds(video_dir):
    info = probe_video(str(video_dir / "gop10_b3.mp4"))
    assert (info.n_frames, info.width, info.height, info.codec) == (90, 320, 240, "h264")
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(90 / 25, abs=0.05)
    assert not info.has_audio and info.rotation == 0
    assert info.index_source == "container"
    assert list(info.keyframe_positions) == list(range(0, 90, 10))


def test_index_and_packet_scan_agree(video_dir):
    for name in ["gop10_b3.mp4", "open_gop.mp4", "vfr.mp4"]:
        a = probe_video(str(video_dir / name))
        b = probe_video(str(video_dir / name), scan=True)
        assert b.index_source == "scan"
        assert a.n_frames == b.n_frames
        assert np.array_equal(a.keyframe_positions, b.keyframe_positions)
        assert np.array_equal(a.dts, b.dts)  # index timestamps are DTS, as the scan's


def test_audio_is_detected(video_dir):
    assert probe_video(str(video_dir / "with_audio.mp4")).has_audio


def test_odd_size(video_dir):
    info = probe_video(str(video_dir / "odd_848x478.mp4"))
    assert (info.width, info.height, info.n_frames) == (848, 478, 40)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, video_dir):
    d = tmp_path_factory.mktemp("bad")
    good = (video_dir / "gop10_b3.mp4").read_bytes()
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n")
    moov = good.find(b"moov")
    (d / "no_moov.mp4").write_bytes(good[: moov - 4])  # our writer puts moov last
    make_video(d / "faststart.mp4", extra={"movflags": "+faststart"})
    fast = (d / "faststart.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(fast[: len(fast) // 2])
    with av.open(str(d / "audio_only.mp4"), "w") as c:
        s = c.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for p in [*s.encode(frame), *s.encode()]:
            c.mux(p)
    return d


@pytest.mark.parametrize(
    "name, reason",
    [
        ("empty.mp4", "empty file (0 bytes)"),
        ("text.mp4", "not a video: the file holds text"),
        ("no_moov.mp4", "MP4 without its moov atom"),
        ("truncated.mp4", "truncated"),
        ("audio_only.mp4", "no video stream (audio-only file)"),
        ("missing.mp4", "no such file"),
    ],
)
def test_bad_files_get_a_reason_that_names_them(bad_files, name, reason):
    path = str(bad_files / name)
    with pytest.raises(VideoError) as err:
        probe_video(path)
    assert reason in err.value.reason
    assert str(err.value).startswith(path)


def test_faststart_file_itself_is_fine(bad_files):
    assert probe_video(str(bad_files / "faststart.mp4")).n_frames == 90


def test_permission_denied(bad_files, tmp_path):
    path = tmp_path / "locked.mp4"
    path.write_bytes((bad_files / "faststart.mp4").read_bytes())
    path.chmod(0)
    if os.geteuid() == 0:
        # root reads anything: check as an unprivileged user in a child process.
        import subprocess
        import sys

        tmp_path.chmod(0o755)
        code = (
            "import os\n"
            "from balltrack.video.probe import probe_video\n"
            "from balltrack.errors import VideoError\n"
            "os.setgid(65534); os.setuid(65534)\n"  # drop root after the imports
            f"try: probe_video({str(path)!r})\n"
            "except VideoError as e: print(e.reason)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "permission denied", out.stderr
    else:
        with pytest.raises(VideoError, match="permission denied"):
            probe_video(str(path))


@pytest.mark.parametrize("rel, n_frames", sorted(REAL_CLIPS.items()))
def test_real_clips_probe(rel, n_frames):
    info = probe_video(str(shared_realdata() / rel))
    assert info.n_frames == n_frames
    assert info.codec == "h264" and info.width > 0 and info.fps > 20
    assert len(info.keyframe_positions) >= 1
