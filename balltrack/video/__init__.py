"""Video: probe, plan keyframe-aligned chunks, decode chunks, encode (PyAV only, no Ray)."""

from balltrack.video.decode import decode_chunk, decode_video_serial
from balltrack.video.plan import Chunk, plan_chunks
from balltrack.video.probe import VideoInfo, probe_video

__all__ = ["Chunk", "VideoInfo", "decode_chunk", "decode_video_serial", "plan_chunks", "probe_video"]
