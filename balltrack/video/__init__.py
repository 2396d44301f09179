"""Video: probe, plan keyframe-aligned chunks, decode chunks, encode (PyAV only, no Ray)."""

from balltrack.video.decode import decode_chunk, decode_video_serial
from balltrack.video.plan import Chunk, plan_chunks
from balltrack.video.probe import VideoInfo, probe_video
from balltrack.video.shots import block_change_scores, detect_cuts, frame_change_scores, shots_from_cuts

__all__ = [
    "Chunk", "VideoInfo", "block_change_scores", "decode_chunk", "decode_video_serial", "detect_cuts",
    "frame_change_scores", "plan_chunks", "probe_video", "shots_from_cuts",
]
