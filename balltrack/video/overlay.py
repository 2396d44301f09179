"""Render a ball track onto its video: a marker at the ball and a fading trail behind it.

The source is decoded at full resolution by the project's own decoder
(:func:`balltrack.video.decode.decode_chunk` over one whole-file chunk, exactly what
:func:`~balltrack.video.decode.decode_video_serial` does), so ``frame_index`` here is
the ``frame_index`` of every other output: frames in presentation order from 0, MP4
edit-list discarded frames never counted. Each frame is re-encoded (H.264, through
:class:`balltrack.video.encode.VideoWriter`) at its source timestamp, so the output has
the source's frame count, timing (VFR included) and start offset. The source's first
audio stream is copied packet for packet; if the output format cannot hold its codec it
is re-encoded to AAC.

Frames are drawn as stored: a source with rotation metadata is rendered unrotated (the
track's pixel coordinates refer to the stored frame) and the output carries no rotation.

Drawing is plain numpy on the pixels near each point (a bounding box per disc), a few
microseconds per marker whatever the frame size. Coordinates are source pixels with
the pixel-centre convention of the rest of balltrack: pixel ``[row, col]`` is centred at
``x = col, y = row``.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator, Mapping

import av
import numpy as np

from balltrack.io.storage import open_binary
from balltrack.video.decode import decode_chunk
from balltrack.video.encode import VideoWriter
from balltrack.video.plan import plan_chunks
from balltrack.video.probe import VideoInfo, probe_video

__all__ = ["DEFAULT_COLOUR", "DEFAULT_TRAIL", "default_radius", "draw_ball", "render_overlay", "track_positions"]

DEFAULT_TRAIL = 10
DEFAULT_COLOUR = (255, 0, 0)  # RGB; pure red stands out on grass, clay, hardcourt and wood
# Audio is muxed a little ahead of the video it goes with, as players expect.
_AUDIO_LEAD_S = 0.5
# Audio codecs the MP4/MOV muxer takes as they are (checked with FFmpeg 8). Others (PCM
# with an unnamed channel layout, Vorbis...) fail only when the header is written, too
# late to fall back, so they are re-encoded up front. Matroska takes any codec.
_MP4_AUDIO = frozenset({"aac", "mp2", "mp3", "ac3", "eac3", "opus", "flac", "alac"})


def default_radius(width: int, height: int) -> int:
    """Marker radius in pixels for a frame size: 1/60 of the short side (12 px at 720p)."""
    return max(4, round(min(width, height) / 60))


def render_overlay(
    source: str | Path,
    out_path: str | Path,
    track: Any,
    *,
    trail: int = DEFAULT_TRAIL,
    colour: tuple[int, int, int] = DEFAULT_COLOUR,
    radius: float | None = None,
    storage_options: Mapping[str, Any] | None = None,
    threads: int = 1,
    crf: int = 20,
) -> Path:
    """Write ``source`` with ``track`` drawn on it to ``out_path`` (a local .mp4/.mov/.mkv).

    ``source`` is a local path or an fsspec URI (``storage_options`` for its
    filesystem). ``track`` is a DataFrame or a mapping of arrays with per-frame
    ``frame_index``, ``visible``, ``x``, ``y`` (source pixels); frames it does not
    list, or lists as not visible or with NaN coordinates, get no marker. Each frame
    gets a ring of ``radius`` (default :func:`default_radius`) with a centre dot,
    both in ``colour`` (RGB), at its position, over a trail of fading dots at the
    visible positions of the previous ``trail`` frames (0: no trail).

    The output has exactly the source's frames and timestamps, and its audio. It is
    written to a temporary name and renamed at the end: a failed render leaves no file
    at ``out_path`` (an existing one is left untouched). ``threads`` is the CPU
    threads for decoding and for encoding each. Returns ``out_path`` as a Path.
    """
    if trail < 0:
        raise ValueError(f"trail must be >= 0, got {trail}")
    colour = _check_colour(colour)
    positions = track_positions(track)
    uri = str(source)
    info = probe_video(uri, storage_options)
    (chunk,) = plan_chunks(info, "overlay", chunk_s=None)
    r = float(radius) if radius is not None else float(default_radius(info.width, info.height))
    if not r > 0:
        raise ValueError(f"radius must be > 0, got {radius}")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)

    with ExitStack() as stack:
        audio = stack.enter_context(_AudioSource(uri, storage_options)) if info.has_audio else None
        writer = _open_writer(out, info, audio, threads, crf)
        with writer:  # aborts (deletes the temporary file) on any exception
            last_t = -math.inf
            tick = float(info.time_base)
            for batch in decode_chunk(chunk, threads=threads, storage_options=storage_options):
                for index, t, image in zip(batch["frame_index"], batch["pts_s"], batch["image"]):
                    if audio is not None:
                        audio.feed(writer, until_s=t + _AUDIO_LEAD_S)
                    draw_ball(image, positions, int(index), trail=trail, colour=colour, radius=r)
                    # A broken file may repeat a timestamp; the encoder refuses that.
                    t = max(float(t), last_t + tick)
                    writer.write(image, pts_s=t)
                    last_t = t
            if audio is not None:
                audio.feed(writer, until_s=math.inf)
    return out


def track_positions(track: Any) -> np.ndarray:
    """(n, 2) float64 ``x, y`` per frame index 0..n-1 (n = last listed frame + 1), NaN
    where the track has no visible ball."""
    try:
        fi = _column(track, "frame_index", np.int64, 0)
        vis = _column(track, "visible", bool, False)
        x = _column(track, "x", np.float64, np.nan)
        y = _column(track, "y", np.float64, np.nan)
    except KeyError as exc:
        raise ValueError(f"track lacks column {exc}; needs frame_index, visible, x, y") from None
    if not (len(fi) == len(vis) == len(x) == len(y)):
        raise ValueError("track columns differ in length")
    if len(fi) and fi.min() < 0:
        raise ValueError("track frame_index must be >= 0")
    if len(np.unique(fi)) != len(fi):
        raise ValueError("track lists a frame_index more than once")
    pos = np.full((int(fi.max()) + 1 if len(fi) else 0, 2), np.nan)
    ok = vis & np.isfinite(x) & np.isfinite(y)
    pos[fi[ok], 0] = x[ok]
    pos[fi[ok], 1] = y[ok]
    return pos


def draw_ball(
    image: np.ndarray,
    positions: np.ndarray,
    index: int,
    *,
    trail: int = DEFAULT_TRAIL,
    colour: tuple[int, int, int] = DEFAULT_COLOUR,
    radius: float = 8.0,
) -> None:
    """Draw, in place on ``image`` (H, W, 3) uint8, the marker for frame ``index`` and
    the trail of the ``trail`` frames before it, from ``positions`` (see
    :func:`track_positions`)."""
    col = np.asarray(colour, dtype=np.float32)
    n = len(positions)
    for age in range(trail, 0, -1):  # oldest first, so newer dots cover older ones
        j = index - age
        if 0 <= j < n and not np.isnan(positions[j, 0]):
            fade = 1.0 - age / (trail + 1)
            _blend_disc(image, *positions[j], radius * (0.25 + 0.35 * fade), col, alpha=0.85 * fade)
    if 0 <= index < n and not np.isnan(positions[index, 0]):
        x, y = positions[index]
        thickness = max(2.0, radius / 4)
        _blend_disc(image, x, y, radius, col, alpha=1.0, inner=radius - thickness)
        _blend_disc(image, x, y, max(1.5, radius / 5), col, alpha=1.0)


def _blend_disc(
    image: np.ndarray, cx: float, cy: float, r: float, colour: np.ndarray, *, alpha: float, inner: float = 0.0
) -> None:
    """Blend ``colour`` into the pixels whose centres lie at distance [inner, r] of (cx, cy)."""
    h, w = image.shape[:2]
    x0, x1 = max(math.ceil(cx - r), 0), min(math.floor(cx + r) + 1, w)
    y0, y1 = max(math.ceil(cy - r), 0), min(math.floor(cy + r) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return  # entirely off the frame
    yy, xx = np.ogrid[y0:y1, x0:x1]
    d2 = (xx - cx) ** 2 + (yy - cy) ** 2
    mask = d2 <= r * r
    if inner > 0:
        mask &= d2 >= inner * inner
    patch = image[y0:y1, x0:x1]
    if alpha >= 1.0:
        patch[mask] = colour.astype(np.uint8)
    else:
        patch[mask] = (patch[mask] * (1.0 - alpha) + colour * alpha + 0.5).astype(np.uint8)


def _column(track: Any, name: str, dtype, na) -> np.ndarray:
    col = track[name]
    if hasattr(col, "to_numpy"):  # pandas, including nullable dtypes holding NA
        return col.to_numpy(dtype=dtype, na_value=na).reshape(-1)
    return np.asarray(col, dtype=dtype).reshape(-1)


def _check_colour(colour) -> tuple[int, int, int]:
    c = tuple(int(v) for v in colour)
    if len(c) != 3 or not all(0 <= v <= 255 for v in c):
        raise ValueError(f"colour must be three 0..255 values (R, G, B), got {colour}")
    return c  # type: ignore[return-value]


def _open_writer(out: Path, info: VideoInfo, audio: "_AudioSource | None", threads: int, crf: int) -> VideoWriter:
    common = dict(
        width=info.width,
        height=info.height,
        fps=info.fps or 25,
        crf=crf,
        # The source's own time base: its timestamps carry over exactly.
        time_base=info.time_base,
        extra_options={"threads": str(max(1, int(threads)))},
    )
    if audio is None:
        return VideoWriter(out, **common)
    if out.suffix.lower() == ".mkv" or audio.stream.codec_context.codec.canonical_name in _MP4_AUDIO:
        try:
            writer = VideoWriter(out, audio_template=audio.stream, **common)
            audio.copy = True
            return writer
        except ValueError:  # the output format cannot hold this audio codec
            pass
    audio.copy = False
    return VideoWriter(out, audio_rate=audio.stream.rate, audio_layout=audio.layout, **common)


class _AudioSource:
    """The source's first audio stream, read alongside the video through its own file
    handle and handed to the writer in time order: packets copied, or (``copy`` False)
    decoded and re-encoded, starting at the same instant as in the source."""

    def __init__(self, uri: str, storage_options: Mapping[str, Any] | None) -> None:
        self._stack = ExitStack()
        fh = self._stack.enter_context(open_binary(uri, storage_options))
        self._container = self._stack.enter_context(av.open(fh, mode="r"))
        self.stream = self._container.streams.audio[0]
        channels = self.stream.codec_context.channels or 1
        self.layout = "mono" if channels == 1 else "stereo"  # AAC re-encode keeps at most two
        self.copy = True
        self._packets: Iterator[av.Packet] = (p for p in self._container.demux(self.stream) if p.size)
        self._held: av.Packet | None = None
        self._resampler: av.AudioResampler | None = None
        self._started = False
        self._done = False

    def __enter__(self) -> "_AudioSource":
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def feed(self, writer: VideoWriter, *, until_s: float) -> None:
        """Pass on every packet that starts before ``until_s`` seconds."""
        while True:
            packet = self._held or next(self._packets, None)
            self._held = None
            if packet is None:
                if not self._done and not self.copy:
                    self._encode(writer, None)  # flush the decoder and the resampler
                self._done = True
                return
            t = packet.pts if packet.pts is not None else packet.dts
            if t is not None and float(t * packet.time_base) >= until_s:
                self._held = packet
                return
            if self.copy:
                writer.mux_audio(packet)
            else:
                self._encode(writer, packet)

    def _encode(self, writer: VideoWriter, packet: av.Packet | None) -> None:
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.stream.rate)
        frames = packet.decode() if packet is not None else self.stream.codec_context.decode(None)
        for frame in frames:
            if not self._started and frame.pts is not None:
                self._started = True
                # Silence up to where the source's audio starts, so it stays in sync.
                lead = round(float(frame.pts * frame.time_base) * self.stream.rate)
                if lead > 0:
                    writer.write_audio(np.zeros((1 if self.layout == "mono" else 2, lead), np.float32))
            for out in self._resampler.resample(frame):
                writer.write_audio(out.to_ndarray())
        if packet is None:
            for out in self._resampler.resample(None):
                writer.write_audio(out.to_ndarray())
