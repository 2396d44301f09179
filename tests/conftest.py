from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray for the whole session (2 CPUs, like the CI machine)."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory):
    """Synthetic fixture clips covering the decode edge cases."""
    from tests._videos import make_video

    d = tmp_path_factory.mktemp("videos")
    make_video(d / "gop10_b3.mp4", gop=10, bframes=3)
    make_video(d / "gop7_b0.mp4", gop=7, bframes=0)
    make_video(d / "gop25_b2.mp4", n=120, gop=25, bframes=2)
    make_video(d / "open_gop.mp4", gop=12, bframes=2, extra={"x264-params": "open-gop=1"})
    make_video(d / "vfr.mp4", gop=10, bframes=2, vfr=True)
    make_video(d / "odd_848x478.mp4", n=40, size=(848, 478), gop=15, bframes=2)
    make_video(d / "with_audio.mp4", n=50, gop=10, audio=True)
    return d


def pytest_report_header(config):
    return f"BALLTRACK_REQUIRE_SHARED={os.environ.get('BALLTRACK_REQUIRE_SHARED', '0')}"
