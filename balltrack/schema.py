"""Parquet contracts: column names and types, declared once.

Every dataset carries ``balltrack.schema_version`` in its file metadata. Bump
the version when a column changes meaning or type; adding a column is not a
breaking change.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1"
METADATA_KEY = b"balltrack.schema_version"

# videos/: the catalog of an archive, one row per input.
VIDEOS = pa.schema(
    [
        ("video_id", pa.string()),
        ("uri", pa.string()),
        ("size_bytes", pa.int64()),
        ("duration_s", pa.float64()),
        ("fps", pa.float64()),
        ("n_frames", pa.int64()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("codec", pa.string()),
        ("rotation", pa.int32()),
        ("has_audio", pa.bool_()),
        ("n_keyframes", pa.int64()),
        ("index_source", pa.string()),
        ("status", pa.string()),  # 'ok' | 'error'
        ("error", pa.string()),  # readable reason when status == 'error'
    ]
)


def with_version(schema: pa.Schema) -> pa.Schema:
    return schema.with_metadata({METADATA_KEY: SCHEMA_VERSION.encode()})

# tracks/video_id=<id>/: one row per source frame, in frame order. x, y are source
# pixels (null when no ball); source is 'detected' | 'interpolated' (null when no ball).
TRACKS = pa.schema(
    [
        ("frame_index", pa.int64()),
        ("pts_s", pa.float64()),
        ("visible", pa.bool_()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("score", pa.float32()),
        ("source", pa.string()),
        ("model", pa.string()),
        ("run_id", pa.string()),
    ]
)

# shots/: camera shots of each video, frames [start_frame, end_frame) (end exclusive).
SHOTS = pa.schema(
    [
        ("video_id", pa.string()),
        ("shot_index", pa.int32()),
        ("start_frame", pa.int64()),
        ("end_frame", pa.int64()),
    ]
)
