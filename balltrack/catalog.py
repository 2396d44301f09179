"""The ``videos/`` catalog: one row per input video, ok or error with a reason."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from balltrack.errors import VideoError
from balltrack.schema import VIDEOS, with_version
from balltrack.video.probe import VideoInfo


def catalog_row(video_id: str, uri: str, result: VideoInfo | VideoError | Exception) -> dict:
    """One catalog row for a probe result (a VideoInfo or the error it raised)."""
    row = {name: None for name in VIDEOS.names}
    row.update(video_id=video_id, uri=uri)
    if isinstance(result, VideoInfo):
        row.update(
            size_bytes=result.size_bytes,
            duration_s=result.duration_s,
            fps=result.fps,
            n_frames=result.n_frames,
            width=result.width,
            height=result.height,
            codec=result.codec,
            rotation=result.rotation,
            has_audio=result.has_audio,
            n_keyframes=int(len(result.keyframe_positions)),
            index_source=result.index_source,
            status="ok",
        )
    else:
        reason = result.reason if isinstance(result, VideoError) else f"{type(result).__name__}: {result}"
        row.update(status="error", error=reason)
    return row


def catalog_table(rows: Iterable[dict]) -> pa.Table:
    rows = sorted(rows, key=lambda r: r["video_id"])
    return pa.Table.from_pylist(rows, schema=with_version(VIDEOS))


def write_catalog(table: pa.Table, out: str, filesystem=None) -> str:
    """Write ``OUT/videos/catalog.parquet`` atomically (temp name, then rename).

    A catalog is rewritten whole on each ingest: it describes the archive as
    it is now, and a reader never sees a half-written file.
    """
    import fsspec

    fs = filesystem or fsspec.core.url_to_fs(out)[0]
    directory = f"{out.rstrip('/')}/videos"
    fs.makedirs(directory, exist_ok=True)
    final = f"{directory}/catalog.parquet"
    tmp = f"{directory}/.catalog-{uuid.uuid4().hex}.parquet.tmp"
    with fs.open(tmp, "wb") as f:
        pq.write_table(table, f)
    if fs.protocol in ("file", ("file", "local")) or isinstance(fs.protocol, tuple) and "file" in fs.protocol:
        os.replace(_strip(tmp), _strip(final))
    else:  # object stores: a single PUT is atomic; copy then delete the temp object
        fs.mv(tmp, final)
    return final


def read_catalog(out: str | Path) -> pa.Table:
    return pq.read_table(f"{str(out).rstrip('/')}/videos/catalog.parquet")


def _strip(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path
