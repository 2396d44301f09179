"""Write H.264 MP4 files with PyAV: synthetic footage, overlays and test fixtures.

One small writer so every producer of video in the project encodes the same way.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Mapping

import av
import numpy as np


class VideoWriter:
    """Encode RGB frames (HxWx3 uint8) to a video file.

    ``fps`` is the nominal rate; pass ``pts_s`` to :meth:`write` for variable
    frame rate (timestamps in seconds, strictly increasing). ``gop`` is the
    keyframe interval in frames, ``bframes`` the number of consecutive
    B-frames. The file is written to a temporary name and renamed on close,
    so a reader never sees a half-written file.

    Audio, at most one stream: ``audio_rate`` (and ``audio_layout``) encodes
    AAC from samples given to :meth:`write_audio`; ``audio_template`` (an
    input file's audio stream) instead copies that stream's packets, given to
    :meth:`mux_audio`, without re-encoding. PyAV raises ValueError when the
    output format cannot hold the template's codec.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        width: int,
        height: int,
        fps: float | Fraction = 25,
        codec: str = "libx264",
        crf: int = 20,
        preset: str = "veryfast",
        gop: int | None = None,
        bframes: int | None = None,
        pix_fmt: str = "yuv420p",
        extra_options: Mapping[str, str] | None = None,
        audio_rate: int | None = None,
        time_base: Fraction | None = None,
        audio_layout: str = "mono",
        audio_template: av.audio.stream.AudioStream | None = None,
    ) -> None:
        if audio_rate and audio_template is not None:
            raise ValueError("give audio_rate (encode) or audio_template (copy), not both")
        self.path = Path(path)
        self._tmp = self.path.with_name(f".{self.path.name}.tmp{self.path.suffix}")
        self.fps = Fraction(fps).limit_denominator(1001 * 1000)
        self._container = av.open(str(self._tmp), mode="w", format=_format_for(self.path))
        self._stream = self._container.add_stream(codec, rate=self.fps)
        self._stream.width = width
        self._stream.height = height
        self._stream.pix_fmt = pix_fmt
        # A fine time base lets variable-frame-rate timestamps land exactly.
        self._stream.codec_context.time_base = time_base or Fraction(1, 90000)
        opts = {"crf": str(crf), "preset": preset}
        if gop is not None:
            opts["g"] = str(gop)
            opts["keyint_min"] = str(gop)
            opts["sc_threshold"] = "0"  # fixed GOPs: no extra keyframes at scene cuts
        if bframes is not None:
            opts["bf"] = str(bframes)
        opts.update(extra_options or {})
        self._stream.options = opts
        self._audio = None
        if audio_rate:
            self._audio = self._container.add_stream("aac", rate=audio_rate)
            self._audio.layout = audio_layout
        self._audio_copy = None
        if audio_template is not None:
            try:
                self._audio_copy = self._container.add_stream_from_template(audio_template)
            except ValueError:  # the format cannot hold this codec: leave no temp file behind
                self._container.close()
                self._tmp.unlink(missing_ok=True)
                raise
        self._audio_pts = 0
        self._index = 0
        self._closed = False

    @property
    def stream_time_base(self) -> Fraction:
        return self._stream.codec_context.time_base

    def write(self, rgb: np.ndarray, pts_s: float | None = None) -> None:
        """Encode one RGB frame; ``pts_s`` defaults to index / fps."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        tb = self.stream_time_base
        t = Fraction(self._index) / self.fps if pts_s is None else Fraction(pts_s).limit_denominator(10**6)
        frame.pts = round(t / tb)
        frame.time_base = tb
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._index += 1

    def write_audio(self, samples: np.ndarray) -> None:
        """Encode float32 samples in [-1, 1] at ``audio_rate``: shape (n,) for
        mono, (channels, n) for ``audio_layout``."""
        if self._audio is None:
            raise ValueError("this writer was opened without audio_rate")
        data = np.asarray(samples, dtype=np.float32)
        data = data.reshape(1, -1) if data.ndim == 1 else data
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout=self._audio.layout.name)
        frame.sample_rate = self._audio.rate
        frame.pts = self._audio_pts
        self._audio_pts += data.shape[1]
        for packet in self._audio.encode(frame):
            self._container.mux(packet)

    def mux_audio(self, packet: av.Packet) -> None:
        """Copy one demuxed packet of the ``audio_template`` stream (its own
        time base; the muxer rescales it)."""
        if self._audio_copy is None:
            raise ValueError("this writer was opened without audio_template")
        packet.stream = self._audio_copy
        self._container.mux(packet)

    def close(self) -> Path:
        if self._closed:
            return self.path
        for packet in self._stream.encode():
            self._container.mux(packet)
        if self._audio is not None:
            for packet in self._audio.encode():
                self._container.mux(packet)
        self._container.close()
        self._tmp.replace(self.path)
        self._closed = True
        return self.path

    def abort(self) -> None:
        if not self._closed:
            self._container.close()
            self._tmp.unlink(missing_ok=True)
            self._closed = True

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _format_for(path: Path) -> str | None:
    return {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".ts": "mpegts", ".webm": "webm"}.get(
        path.suffix.lower()
    )
