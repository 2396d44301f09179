"""Synthetic broadcast-like tennis rally footage with exact ball labels (numpy + PyAV).

``generate_clips(out_dir, clips=2, seed=0, size=(512, 288), fps=25.0, seconds=8.0)`` writes,
per clip, an H.264 MP4, a TrackNet label CSV, a per-frame meta CSV and an events JSON.
"""

from balltrack.synth.generate import ClipSpec, generate_clip, generate_clips

__all__ = ["ClipSpec", "generate_clip", "generate_clips"]
