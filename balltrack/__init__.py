"""balltrack: find the ball, and the moments worth replaying, in sports broadcast video."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "read_video_frames"]


def __getattr__(name: str):
    # Ray is imported only when the Ray API is used: `balltrack --help` stays fast.
    if name == "read_video_frames":
        from balltrack.pipelines.frames import read_video_frames

        return read_video_frames
    raise AttributeError(name)
