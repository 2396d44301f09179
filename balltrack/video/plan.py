"""Plan keyframe-aligned chunks of a video, so one long match decodes in parallel.

A chunk is a range of packets in decode order that starts at a keyframe. The
decoder (see ``decode.py``) seeks to the chunk's keyframe and turns the range
into frames; which frames belong to which chunk is decided by presentation
timestamps there, so chunk edges never duplicate or drop a frame, also with
B-frames and open GOPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from balltrack.video.probe import VideoInfo

DEFAULT_CHUNK_S = 30.0


@dataclass(frozen=True)
class Chunk:
    """Packets from decode position ``seek`` up to the next chunk's keyframe.

    ``start_pos``/``end_pos`` count shown frames (edit-list discarded packets
    excluded): the chunk's keyframe is preceded by ``start_pos`` shown packets.

    ``seek_dts`` is the decode timestamp of the keyframe at ``start_pos``;
    ``stop_dts`` the one of the next chunk's keyframe (None for the last
    chunk). ``context_frames`` asks the decoder for that many frames before
    the chunk (marked as context) so windowed models see across the edge.
    """

    uri: str
    video_id: str
    chunk_index: int
    n_chunks: int
    start_pos: int
    end_pos: int
    seek_dts: int | None
    stop_dts: int | None
    context_seek_dts: int | None
    context_frames: int
    time_base: Fraction
    start_pts: int
    fps: float
    width: int
    height: int
    n_frames: int

    @property
    def n_packets(self) -> int:
        return self.end_pos - self.start_pos


def plan_chunks(
    info: VideoInfo,
    video_id: str,
    *,
    chunk_s: float | None = DEFAULT_CHUNK_S,
    context_frames: int = 0,
) -> list[Chunk]:
    """Split ``info`` into chunks of about ``chunk_s`` seconds, each starting
    at a keyframe. ``chunk_s=None`` or ``0`` or ``inf`` gives one chunk."""
    if context_frames < 0:
        raise ValueError(f"context_frames must be >= 0, got {context_frames}")
    n = len(info.dts)  # packets, including edit-list discarded ones
    shown_before = np.concatenate([[0], np.cumsum(~info.discard)])  # shown packets before each position
    keys = info.keyframe_positions
    starts = [0]
    if chunk_s and np.isfinite(chunk_s) and chunk_s > 0 and len(keys) > 1:
        step = int(round(chunk_s / float(info.time_base)))
        next_at = int(info.dts[0]) + step
        for pos in keys[1:]:
            if info.dts[pos] >= next_at:
                starts.append(int(pos))
                next_at = int(info.dts[pos]) + step
    ends = starts[1:] + [n]
    chunks = []
    for i, (a, b) in enumerate(zip(starts, ends)):
        ctx_seek = None
        if context_frames and a > 0:
            # The keyframe at or before the first context frame (decode order
            # approximates presentation order closely enough; a margin of the
            # B-frame delay is added by going one packet further back).
            want = max(0, a - context_frames - 4)
            prior = keys[keys <= want]
            ctx_seek = int(info.dts[prior[-1]]) if len(prior) else int(info.dts[0])
        chunks.append(
            Chunk(
                uri=info.uri,
                video_id=video_id,
                chunk_index=i,
                n_chunks=len(starts),
                start_pos=int(shown_before[a]),
                end_pos=int(shown_before[b]),
                seek_dts=int(info.dts[a]) if a > 0 else None,
                stop_dts=int(info.dts[b]) if b < n else None,
                context_seek_dts=ctx_seek,
                context_frames=context_frames,
                time_base=info.time_base,
                start_pts=info.start_pts,
                fps=info.fps,
                width=info.width,
                height=info.height,
                n_frames=info.n_frames,
            )
        )
    return chunks
