"""Benchmark inputs: long H.264 files made once with the ffmpeg binary from the
imageio-ffmpeg wheel, cached under bench/out/media."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
MEDIA = OUT / "media"


def ffmpeg_exe() -> str:
    """Debian's ffmpeg if installed, else the binary inside imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def broadcast_like(seconds: int, width: int, height: int, fps: int = 25, gop: int = 50) -> Path:
    """A moving test pattern with grain, H.264 high profile with B-frames and
    2 s GOPs, like a broadcast mezzanine. Made once, then reused."""
    MEDIA.mkdir(parents=True, exist_ok=True)
    path = MEDIA / f"pattern_{width}x{height}_{fps}fps_{seconds}s.mp4"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.mp4")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds),
        "-vf", "noise=alls=4:allf=t",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", str(gop), "-bf", "2",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-shortest", str(tmp),
    ]
    subprocess.run(cmd, check=True)
    os.replace(tmp, path)
    return path


def real_clips() -> list[Path]:
    root = Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata"
    return sorted(root.resolve().glob("**/*.mp4")) if root.exists() else []
