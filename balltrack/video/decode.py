"""Decode one planned chunk into bounded batches of RGB frames.

The chunk is a range of packets in decode order (see ``plan.py``). It owns the
frames whose presentation timestamps lie in ``[P_a, P_b)``, where ``P_a`` is the
pts of its first keyframe and ``P_b`` the pts of the next chunk's keyframe. The
B-frames that follow the next keyframe in decode order but show before it (an
open GOP) are decoded here, where their references are. ``frame_index`` counts
frames of the whole video from 0: the keyframe at decode position ``p`` shows
after exactly ``p + (its own leading B-frames)`` frames.

Resizing and RGB conversion run in swscale (PyAV ``reformat``), only for the
frames that are kept: fps resampling drops frames before any conversion work.
A resize happens in the source's pixel format, then the small picture is
converted to RGB (what the ffmpeg command line's ``scale`` filter does).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator, Mapping

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from balltrack.errors import VideoError
from balltrack.io.storage import open_binary
from balltrack.video.plan import Chunk

log = logging.getLogger(__name__)

DEFAULT_BATCH_FRAMES = 32
MAX_BATCH_BYTES = 64 * 2**20  # keeps a 1080p batch to ~10 frames
INTERPOLATION = "BICUBIC"  # what the ffmpeg command line's scale filter uses by default


@dataclass
class _Frame:
    frame: av.VideoFrame
    pts: int
    t: Fraction  # seconds since the stream start


def decode_chunk(
    chunk: Chunk,
    *,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    threads: int = 1,
    batch_frames: int = DEFAULT_BATCH_FRAMES,
    storage_options: Mapping[str, Any] | None = None,
    interpolation: str = INTERPOLATION,
) -> Iterator[dict[str, np.ndarray]]:
    """Yield batches ``{video_id, frame_index, pts_s, image}`` for ``chunk``.

    ``image`` is (N, H, W, 3) uint8 RGB at ``size`` = (width, height) or the
    source size. ``fps`` resamples by timestamp: for each instant ``k / fps``
    after the stream start, the frame on screen then is kept. When the chunk
    asks for ``context_frames``, every batch starts with the kept frames just
    before it, flagged by an ``is_context`` column (True rows repeat frames
    another batch owns; they let windowed models see across edges).
    """
    if size is not None and (int(size[0]) <= 0 or int(size[1]) <= 0):
        raise ValueError(f"size must be positive (width, height), got {size}")
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    out_w, out_h = (int(size[0]), int(size[1])) if size is not None else (chunk.width, chunk.height)
    per_batch = max(1, min(batch_frames, MAX_BATCH_BYTES // (out_w * out_h * 3)))
    k = chunk.context_frames
    rate = Fraction(fps).limit_denominator(1001 * 1000) if fps else None

    # Reformatters live for the whole chunk: swscale's context (filter tables)
    # is built once, not per frame (per-frame contexts cost ~3x the work).
    # Like ffmpeg's command line, scale in the source's YUV first, then
    # convert the small picture to RGB: ~35% cheaper than one combined step.
    scaler, to_rgb = VideoReformatter(), VideoReformatter()
    resize = (out_w, out_h) != (chunk.width, chunk.height)

    def convert(f: _Frame) -> np.ndarray:
        frame = f.frame
        if resize:
            frame = scaler.reformat(frame, width=out_w, height=out_h, interpolation=interpolation)
        return to_rgb.reformat(frame, format="rgb24").to_ndarray()

    context: deque[tuple[int, _Frame]] = deque(maxlen=k or 1)
    batch: list[tuple[int, _Frame, bool]] = []
    n_owned = 0
    for index, f, t_next, owned in _frames_in_order(chunk, threads, storage_options):
        if rate is not None and not _on_screen_at_a_tick(f.t, t_next, rate):
            continue
        if not owned:
            context.append((index, f))
            continue
        if not batch and k:
            batch.extend((i, c, True) for i, c in context)
        batch.append((index, f, False))
        context.append((index, f))
        n_owned += 1
        if n_owned == per_batch:
            yield _pack(chunk, batch, convert)
            batch, n_owned = [], 0
    if n_owned:
        yield _pack(chunk, batch, convert)


def decode_video_serial(uri: str, *, size=None, fps=None, storage_options=None, threads: int = 1):
    """Decode a whole video front to back in one process (no seeking)."""
    from balltrack.video.plan import plan_chunks
    from balltrack.video.probe import probe_video

    info = probe_video(uri, storage_options)
    (chunk,) = plan_chunks(info, "serial", chunk_s=None)
    yield from decode_chunk(chunk, size=size, fps=fps, threads=threads, storage_options=storage_options)


def _on_screen_at_a_tick(t: Fraction, t_next: Fraction, rate: Fraction) -> bool:
    """True when some instant k / rate falls in [t, t_next)."""
    return math.ceil(t_next * rate) > math.ceil(t * rate)


def _pack(chunk: Chunk, rows: list[tuple[int, _Frame, bool]], convert) -> dict[str, np.ndarray]:
    out = {
        "video_id": np.array([chunk.video_id] * len(rows), dtype=object),
        "frame_index": np.array([i for i, _, _ in rows], dtype=np.int64),
        "pts_s": np.array([float(f.pts * chunk.time_base) for _, f, _ in rows], dtype=np.float64),
        "image": np.stack([convert(f) for _, f, _ in rows]),
    }
    if chunk.context_frames:
        out["is_context"] = np.array([c for _, _, c in rows], dtype=bool)
    return out


def _frames_in_order(chunk: Chunk, threads: int, storage_options):
    """Yield ``(frame_index, frame, t_next, owned)`` in presentation order.

    ``owned`` is False for context frames before the chunk. ``t_next`` is the
    time of the following frame (the next chunk's first frame for the last
    one), which the fps resampler needs.
    """
    try:
        fh = open_binary(chunk.uri, storage_options)
    except FileNotFoundError:
        raise VideoError(chunk.uri, "no such file") from None
    except PermissionError:
        raise VideoError(chunk.uri, "permission denied") from None
    with fh, av.open(fh, mode="r") as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = max(1, int(threads))
        stream.codec_context.thread_type = "AUTO"
        walker = _ChunkWalker(chunk, container, stream)
        held = None
        for item in walker:
            if held is not None:
                yield held[0], held[1], item[1].t, held[2]
            held = item
        if held is not None:
            yield held[0], held[1], walker.t_after_last(held[1]), held[2]


class _ChunkWalker:
    """Demux and decode one chunk, classifying frames by the pts rule."""

    def __init__(self, chunk: Chunk, container, stream) -> None:
        self.chunk = chunk
        self.container = container
        self.stream = stream
        self.first = chunk.seek_dts is None
        self.last = chunk.stop_dts is None
        self.with_context = bool(chunk.context_frames) and not self.first
        self.p_a: int | None = None  # pts of our keyframe
        self.p_b: int | None = None  # pts of the next chunk's keyframe
        self.lead_a = 0  # our keyframe's leading B-frames: shown before it, owned by the chunk before
        self.lead_b = 0
        self.ready = self.first  # p_a and lead_a known: frames can be numbered
        self.pending: deque[_Frame] = deque()
        # Frames decoded before our keyframe are context; keep only a bounded tail.
        self.before: deque[_Frame] = deque(maxlen=max(1, chunk.context_frames) * 8 + 8)
        self.owned = 0
        self.last_duration: int | None = None

    def t_after_last(self, f: _Frame) -> Fraction:
        if self.p_b is not None:
            return (self.p_b - self.chunk.start_pts) * self.chunk.time_base
        step = self.last_duration or 0
        if step <= 0:
            step = round(1 / (self.chunk.fps or 25) / self.chunk.time_base)
        return f.t + step * self.chunk.time_base

    def _decode(self, packet) -> None:
        for frame in packet.decode() if packet is not None else self.stream.codec_context.decode(None):
            if frame.pts is None:
                raise VideoError(self.chunk.uri, "decoded frame without a timestamp (cannot place it exactly)")
            pts = int(frame.pts)
            self.pending.append(_Frame(frame, pts, (pts - self.chunk.start_pts) * self.chunk.time_base))
            if frame.duration:
                self.last_duration = int(frame.duration)

    def _release(self):
        if not self.ready:
            return
        while self.pending:
            f = self.pending.popleft()
            if self.p_b is not None and f.pts >= self.p_b:
                continue  # the next chunk's keyframe, fed only as a reference
            if self.p_a is not None and f.pts < self.p_a:
                self.before.append(f)
                continue
            if self.owned == 0 and self.with_context:
                n = len(self.before)
                base = self.chunk.start_pos + self.lead_a
                for j, c in enumerate(self.before):
                    yield base - (n - j), c, False
                self.before.clear()
            yield self.chunk.start_pos + self.lead_a + self.owned, f, True
            self.owned += 1

    def __iter__(self):
        chunk = self.chunk
        seek = chunk.context_seek_dts if self.with_context and chunk.context_seek_dts is not None else chunk.seek_dts
        if seek is not None:
            self.container.seek(seek, stream=self.stream, backward=True, any_frame=False)
        in_chunk = self.first
        k_b = None
        k_b_fed = False
        try:
            for packet in self.container.demux(self.stream):
                if packet.size == 0:
                    continue
                # Edit-list discarded packets are decoded as references; the
                # decoder drops their frames itself, so they are never counted.
                hidden = packet.is_discard
                if not in_chunk:
                    if packet.dts is None or packet.dts < chunk.seek_dts:
                        if self.with_context:
                            self._decode(packet)
                            # Everything decoded so far shows before our keyframe.
                            while self.pending:
                                self.before.append(self.pending.popleft())
                        continue
                    if packet.dts != chunk.seek_dts:
                        raise VideoError(chunk.uri, f"seek landed past chunk {chunk.chunk_index}'s keyframe")
                    in_chunk = True
                    self.p_a = packet.pts
                    self._decode(packet)
                    continue
                if not self.ready:
                    if packet.pts is not None and packet.pts < self.p_a:
                        self.lead_a += not hidden  # leading B-frame of an open GOP
                        if self.with_context:
                            self._decode(packet)
                        continue
                    self.ready = True
                if not self.last and k_b is None and packet.dts is not None and packet.dts >= chunk.stop_dts:
                    k_b = packet
                    self.p_b = packet.pts
                    yield from self._release()
                    continue
                if k_b is not None:
                    if packet.pts is not None and packet.pts < self.p_b:
                        if not k_b_fed:
                            self._decode(k_b)  # the leading B-frames reference it
                            k_b_fed = True
                        self.lead_b += not hidden
                        self._decode(packet)
                        yield from self._release()
                        continue
                    break
                self._decode(packet)
                yield from self._release()
            self.ready = True
            self._decode(None)
            yield from self._release()
        except av.error.FFmpegError as exc:
            raise VideoError(chunk.uri, f"decode failed in chunk {chunk.chunk_index} ({exc})") from None
        expected = chunk.end_pos - chunk.start_pos - self.lead_a + self.lead_b
        if self.owned != expected:
            log.warning(
                "%s chunk %d: decoded %d frames where the index promises %d",
                chunk.uri, chunk.chunk_index, self.owned, expected,
            )
