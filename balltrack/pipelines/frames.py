"""``read_video_frames``: a Ray Data source of decoded frames, one read task per chunk."""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import ray
from ray.data.block import BlockAccessor, BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from balltrack.errors import InputError, VideoError
from balltrack.io.storage import resolve_inputs
from balltrack.video.decode import DEFAULT_BATCH_FRAMES, INTERPOLATION
from balltrack.video.plan import DEFAULT_CHUNK_S, Chunk, plan_chunks

log = logging.getLogger(__name__)


class VideoFramesDatasource(Datasource):
    """Decoded frames of planned chunks. Rows: video_id, frame_index, pts_s,
    image (H, W, 3 uint8 RGB), and is_context when context frames are asked."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        *,
        size: tuple[int, int] | None,
        fps: float | None,
        batch_frames: int,
        storage_options: Mapping[str, Any] | None,
        interpolation: str,
        record_errors: bool = False,
    ) -> None:
        """``record_errors``: a chunk that fails to decode ends with one marker row
        (``frame_index`` -1, ``error`` the reason) instead of failing the dataset,
        so a batch job can record the video as failed and go on."""
        self._record_errors = record_errors
        self._chunks = list(chunks)
        self._size = size
        self._fps = fps
        self._batch_frames = batch_frames
        self._storage_options = dict(storage_options or {}) or None
        self._interpolation = interpolation

    def get_name(self) -> str:
        return "VideoFrames"

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(self._chunk_bytes(c) for c in self._chunks)

    def _chunk_frames(self, c: Chunk) -> int:
        n = c.end_pos - c.start_pos
        if self._fps and c.fps:
            n = int(np.ceil(n * min(1.0, self._fps / c.fps))) + 1
        return n + c.context_frames

    def _chunk_bytes(self, c: Chunk) -> int:
        w, h = self._size or (c.width, c.height)
        return self._chunk_frames(c) * w * h * 3

    def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None) -> list[ReadTask]:
        # One task per chunk, whatever ``parallelism`` asks: the chunk is the unit
        # of parallel decode, and its size was chosen when planning.
        tasks = []
        # Largest first: long chunks start early and short ones fill the tail,
        # so no core idles at the end while one big chunk decodes.
        for chunk in sorted(self._chunks, key=self._chunk_bytes, reverse=True):
            meta = BlockMetadata(
                num_rows=None,  # exact count is known only after decode (fps resampling, context)
                size_bytes=self._chunk_bytes(chunk),
                exec_stats=None,
                input_files=(chunk.uri,),
            )
            tasks.append(ReadTask(self._reader(chunk), meta, per_task_row_limit=per_task_row_limit))
        return tasks

    def _reader(self, chunk: Chunk):
        size, fps, batch_frames = self._size, self._fps, self._batch_frames
        storage_options, interpolation = self._storage_options, self._interpolation

        record_errors = self._record_errors

        def read() -> Iterable:
            from balltrack.video.decode import decode_chunk

            threads = _task_cpus()
            try:
                for batch in decode_chunk(
                    chunk,
                    size=size,
                    fps=fps,
                    threads=threads,
                    batch_frames=batch_frames,
                    storage_options=storage_options,
                    interpolation=interpolation,
                ):
                    yield BlockAccessor.batch_to_block(batch)
            except Exception as exc:
                if not record_errors:
                    raise
                log.warning("%s: decoding frames %d-%d failed: %s", chunk.uri, chunk.start_pos, chunk.end_pos, exc)
                yield BlockAccessor.batch_to_block(error_row(chunk, size, exc))

        return read


def error_row(chunk: Chunk, size: tuple[int, int] | None, exc: Exception) -> dict[str, np.ndarray]:
    """The marker row of a chunk that failed to decode (see ``record_errors``)."""
    w, h = size or (chunk.width, chunk.height)
    reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
    row = {
        "video_id": np.array([chunk.video_id], dtype=object),
        "frame_index": np.array([-1], dtype=np.int64),
        "pts_s": np.array([np.nan]),
        "image": np.zeros((1, h, w, 3), dtype=np.uint8),
        "error": np.array([f"frames {chunk.start_pos}-{chunk.end_pos - 1} do not decode ({reason})"], dtype=object),
    }
    if chunk.context_frames:
        row["is_context"] = np.array([True])
    return row


def _task_cpus() -> int:
    """CPUs Ray gave this task: the decoder gets that many threads, not every core."""
    try:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    except Exception:
        cpus = 1.0
    return max(1, int(round(cpus)))


def plan_sources(
    inputs: Sequence[str] | str,
    *,
    chunk_s: float | None = None,
    context_frames: int = 0,
    storage_options: Mapping[str, Any] | None = None,
    on_error: str = "warn",
) -> list[Chunk]:
    """Resolve inputs, probe them in parallel Ray tasks and plan their chunks."""
    from balltrack.pipelines.planning import probe_many

    if on_error not in ("warn", "raise"):
        raise ValueError(f"on_error must be 'warn' or 'raise', got {on_error!r}")
    sources = resolve_inputs([inputs] if isinstance(inputs, str) else list(inputs), storage_options=storage_options)
    if not sources:
        raise InputError("no input videos")
    chunks: list[Chunk] = []
    for source, result in zip(sources, probe_many(sources, storage_options)):
        if isinstance(result, VideoError):
            if on_error == "raise":
                raise result
            log.warning("skipping %s", result)
            continue
        chunks.extend(
            plan_chunks(
                result,
                source.video_id,
                chunk_s=DEFAULT_CHUNK_S if chunk_s is None else chunk_s,
                context_frames=context_frames,
            )
        )
    return chunks


def read_video_frames(
    paths: Sequence[str] | str,
    *,
    fps: float | None = None,
    size: tuple[int, int] | None = None,
    chunk_s: float | None = None,
    context_frames: int = 0,
    storage_options: Mapping[str, Any] | None = None,
    batch_frames: int = DEFAULT_BATCH_FRAMES,
    num_cpus: float = 1.0,
    on_error: str = "warn",
    interpolation: str = INTERPOLATION,
    resources: Mapping[str, float] | None = None,
) -> "ray.data.Dataset":
    """Decode videos into a Ray Dataset with one row per frame.

    Args:
        paths: local files, directories (searched recursively by extension),
            globs, ``s3://`` URIs or prefixes, or ``.parquet`` manifests with a
            ``uri`` column.
        fps: resample to this rate by timestamp (None keeps every frame).
        size: ``(width, height)`` of the output images, resized in the
            decoder (None keeps the source size).
        chunk_s: about how many seconds each parallel read task decodes;
            chunks start at keyframes (default 30 s; ``float('inf')`` decodes
            each video in one task).
        context_frames: each block starts with that many frames from before
            it, flagged ``is_context`` (for models that read frame windows).
        storage_options: fsspec/s3fs options (``endpoint_url``, ``key``,
            ``secret``...); by default the standard AWS variables apply.
        num_cpus: CPUs per read task; the decoder uses that many threads.
        resources: custom Ray resources per read task (e.g. ``{"decode": 1}``
            to place decoding on nodes that advertise it).
        on_error: 'warn' skips videos that do not probe, logging why;
            'raise' stops at the first one.

    Rows: ``video_id`` (str), ``frame_index`` (int64, index of the frame in
    the source video), ``pts_s`` (float64 seconds), ``image`` (H, W, 3 uint8 RGB).
    """
    if size is not None:
        if len(size) != 2 or int(size[0]) <= 0 or int(size[1]) <= 0:
            raise ValueError(f"size must be (width, height) with positive values, got {size!r}")
        size = (int(size[0]), int(size[1]))
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    if chunk_s is not None and chunk_s < 0:
        raise ValueError(f"chunk_s must be >= 0, got {chunk_s!r}")
    if context_frames < 0:
        raise ValueError(f"context_frames must be >= 0, got {context_frames!r}")
    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, log_to_driver=False)
    chunks = plan_sources(
        paths, chunk_s=chunk_s, context_frames=context_frames, storage_options=storage_options, on_error=on_error
    )
    if not chunks:
        raise InputError("none of the inputs is a readable video")
    source = VideoFramesDatasource(
        chunks,
        size=size,
        fps=fps,
        batch_frames=batch_frames,
        storage_options=storage_options,
        interpolation=interpolation,
    )
    return ray.data.read_datasource(
        source,
        override_num_blocks=len(chunks),
        num_cpus=num_cpus,
        resources=dict(resources) if resources else None,
    )
