"""Probe a video with PyAV: what it is, and where its keyframes are.

The keyframe index comes from the container's own index when it has one (MP4,
MOV and MKV with cues: read from the header, no packet is read) and otherwise
from a scan of the packets without decoding them. Index timestamps are decode
timestamps (DTS); chunk planning works in decode order for that reason.
"""

from __future__ import annotations

import errno
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

import av
import numpy as np

from balltrack.errors import VideoError
from balltrack.io.storage import open_binary, size_of


@dataclass(frozen=True)
class VideoInfo:
    """What a probe learns about one video file.

    ``dts``, ``is_key`` (and ``pts`` when a packet scan supplied it) are per
    video packet in decode order; timestamps are integers in ``time_base``.
    """

    uri: str
    size_bytes: int
    duration_s: float
    fps: float
    n_frames: int
    width: int
    height: int
    codec: str
    rotation: int
    has_audio: bool
    time_base: Fraction
    start_pts: int
    index_source: str  # 'container' | 'scan'
    dts: np.ndarray = field(repr=False)
    is_key: np.ndarray = field(repr=False)
    discard: np.ndarray = field(repr=False)  # packets an edit list hides: decoded as references, never shown
    pts: np.ndarray | None = field(default=None, repr=False)

    @property
    def keyframe_positions(self) -> np.ndarray:
        """Decode-order positions of shown keyframes (int64)."""
        return np.flatnonzero(self.is_key & ~self.discard)

    @property
    def keyframe_times_s(self) -> np.ndarray:
        """Keyframe decode timestamps in seconds, relative to the stream start."""
        return (self.dts[self.keyframe_positions] - self.start_pts) * float(self.time_base)


def probe_video(uri: str, storage_options: Mapping[str, Any] | None = None, *, scan: bool = False) -> VideoInfo:
    """Probe ``uri`` (local path or fsspec URI). Raises :class:`VideoError`
    with a readable reason for every kind of unusable file. ``scan=True``
    forces the packet scan even when the container has an index."""
    size = _size(uri, storage_options)
    if size == 0:
        raise VideoError(uri, "empty file (0 bytes)")
    try:
        with open_binary(uri, storage_options) as fh, av.open(fh, mode="r") as container:
            return _probe_open(uri, size, container, scan)
    except VideoError:
        raise
    except PermissionError:
        raise VideoError(uri, "permission denied") from None
    except FileNotFoundError:
        raise VideoError(uri, "no such file") from None
    except av.error.FFmpegError as exc:
        raise VideoError(uri, _explain_unreadable(uri, size, storage_options, exc)) from None
    except OSError as exc:
        raise VideoError(uri, f"cannot read file ({exc.strerror or exc})") from None


def _explain_unreadable(uri: str, size: int, storage_options, exc: Exception) -> str:
    """A reason a person can act on, from the file's first bytes and, for the
    MP4 family, its top-level boxes (headers only)."""
    generic = f"not a readable video ({_ffmpeg_reason(exc)})"
    try:
        with open_binary(uri, storage_options) as fh:
            head = fh.read(64)
            if head[4:8] == b"ftyp":
                return _explain_mp4(fh, size) or generic
    except OSError:
        return generic
    try:
        text = head.decode("utf-8")
        if text and all(ch.isprintable() or ch.isspace() for ch in text):
            return "not a video: the file holds text"
    except UnicodeDecodeError:
        pass
    return generic


def _explain_mp4(fh, size: int) -> str | None:
    offset, boxes = 0, []
    while offset + 8 <= size and len(boxes) < 10_000:
        fh.seek(offset)
        header = fh.read(16)
        box_size = int.from_bytes(header[:4], "big")
        kind = header[4:8].decode("latin-1")
        if box_size == 1 and len(header) >= 16:
            box_size = int.from_bytes(header[8:16], "big")
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8:
            return f"corrupt MP4: box '{kind}' at byte {offset} has size {box_size}"
        boxes.append(kind)
        if offset + box_size > size:
            if "moov" not in boxes:
                return f"MP4 without its moov atom: truncated at byte {size} inside '{kind}' (needs {offset + box_size})"
            return f"truncated MP4: box '{kind}' needs {offset + box_size} bytes, the file has {size}"
        offset += box_size
    if "moov" not in boxes:
        return "MP4 without its moov atom (the recording was not finalized or the index was stripped)"
    return None


def _size(uri: str, storage_options: Mapping[str, Any] | None) -> int:
    try:
        return size_of(uri, storage_options)
    except FileNotFoundError:
        raise VideoError(uri, "no such file") from None
    except PermissionError:
        raise VideoError(uri, "permission denied") from None
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise VideoError(uri, "permission denied") from None
        raise VideoError(uri, f"cannot stat file ({exc})") from None


def _probe_open(uri: str, size: int, container: av.container.InputContainer, scan: bool) -> VideoInfo:
    if not container.streams.video:
        kind = "audio-only file" if container.streams.audio else "no streams FFmpeg can use"
        raise VideoError(uri, f"no video stream ({kind})")
    stream = container.streams.video[0]
    tb = stream.time_base
    if tb is None:
        raise VideoError(uri, "video stream has no time base")
    ctx = stream.codec_context
    if not ctx.width or not ctx.height:
        raise VideoError(uri, "video stream has no frame size (unsupported or corrupt codec data)")

    entries = None if scan else _index_entries(stream)
    if entries is not None:
        dts, is_key, discard, end_byte = entries
        pts = None
        source = "container"
        if end_byte > size:
            raise VideoError(
                uri, f"truncated: the container index needs {end_byte} bytes but the file has {size}"
            )
    else:
        dts, is_key, discard, pts = _scan_packets(container, stream)
        source = "scan"
    n_frames = int(np.count_nonzero(~discard))
    if n_frames == 0:
        raise VideoError(uri, "video stream has no frames")

    start_pts = stream.start_time if stream.start_time is not None else int(dts[0])
    rotation = _first_frame_rotation(uri, container, stream)
    fps = float(stream.average_rate or stream.guessed_rate or 0.0)
    duration_s = _duration_s(container, stream, n_frames, fps)
    if not fps and duration_s > 0:
        fps = n_frames / duration_s
    return VideoInfo(
        uri=uri,
        size_bytes=size,
        duration_s=duration_s,
        fps=fps,
        n_frames=n_frames,
        width=int(ctx.width),
        height=int(ctx.height),
        codec=ctx.name,
        rotation=rotation,
        has_audio=bool(container.streams.audio),
        time_base=Fraction(tb),
        start_pts=int(start_pts),
        index_source=source,
        dts=dts,
        is_key=is_key,
        discard=discard,
        pts=pts,
    )


def _index_entries(stream: av.stream.Stream) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """(dts, is_key, discard, last byte) from the container index, or None when the
    index is missing or partial (then a packet scan is needed)."""
    entries = stream.index_entries
    n = len(entries)
    if n == 0:
        return None
    dts = np.empty(n, np.int64)
    key = np.empty(n, bool)
    discard = np.empty(n, bool)
    end = 0
    for i, e in enumerate(entries):
        dts[i] = e.timestamp
        key[i] = e.is_keyframe
        discard[i] = e.is_discard
        end = max(end, e.pos + e.size)
    if np.any(np.diff(dts) <= 0):
        return None  # not a clean decode-order index: scan instead
    return dts, key, discard, end


def _scan_packets(container, stream) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    dts, pts, key, discard = [], [], [], []
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        if packet.pts is None and packet.dts is None:
            continue
        pts.append(packet.pts if packet.pts is not None else packet.dts)
        dts.append(packet.dts if packet.dts is not None else packet.pts)
        key.append(packet.is_keyframe)
        discard.append(packet.is_discard)
    container.seek(0)
    return np.asarray(dts, np.int64), np.asarray(key, bool), np.asarray(discard, bool), np.asarray(pts, np.int64)


def _first_frame_rotation(uri: str, container, stream) -> int:
    """Decode the first frame: proves the stream decodes and gives its rotation."""
    try:
        for frame in container.decode(stream):
            return int(getattr(frame, "rotation", 0) or 0)
    except av.error.FFmpegError as exc:
        raise VideoError(uri, f"first frame does not decode ({_ffmpeg_reason(exc)})") from None
    raise VideoError(uri, "no frame decodes (truncated or corrupt data)")


def _duration_s(container, stream, n_frames: int, fps: float) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return n_frames / fps if fps else math.nan


def _ffmpeg_reason(exc: av.error.FFmpegError) -> str:
    msg = getattr(exc, "strerror", None) or str(exc)
    return msg.split(";")[0].strip()
