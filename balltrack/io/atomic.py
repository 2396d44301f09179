"""Write outputs so that a reader never sees half a file.

Local files: written under a hidden temporary name in the target directory,
then renamed (atomic on POSIX). Object stores: a single PUT is already atomic
(the object appears whole or not at all), so we upload to a hidden temporary key
and move it, which keeps temporary keys out of listings of the final prefix.
Temporary names start with '.', which pyarrow, DuckDB globs and Polars skip.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from balltrack.io.storage import filesystem_for, is_remote


def _tmp_name(uri: str) -> str:
    head, _, name = uri.rstrip("/").rpartition("/")
    return f"{head}/.{name}.{uuid.uuid4().hex[:8]}.tmp" if head else f".{name}.{uuid.uuid4().hex[:8]}.tmp"


def write_bytes_atomic(uri: str, data: bytes, storage_options: Mapping[str, Any] | None = None) -> str:
    if not is_remote(uri):
        path = Path(uri.removeprefix("file://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(_tmp_name(str(path)))
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return str(path)
    fs = filesystem_for(uri, storage_options)
    fs.pipe_file(uri, data)  # one PUT: the object appears whole or not at all
    return uri


def write_parquet_atomic(table: pa.Table, uri: str, storage_options: Mapping[str, Any] | None = None) -> str:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return write_bytes_atomic(uri, buf.getvalue(), storage_options)


def put_file_atomic(local_path: str | Path, uri: str, storage_options: Mapping[str, Any] | None = None) -> str:
    """Move a finished local file to ``uri`` (local rename or one upload)."""
    if not is_remote(uri):
        target = Path(uri.removeprefix("file://"))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local_path, target)
        return str(target)
    filesystem_for(uri, storage_options).put_file(str(local_path), uri)
    return uri


def exists(uri: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    if not is_remote(uri):
        return Path(uri.removeprefix("file://")).exists()
    return filesystem_for(uri, storage_options).exists(uri)


def remove(uri: str, storage_options: Mapping[str, Any] | None = None) -> None:
    if not is_remote(uri):
        Path(uri.removeprefix("file://")).unlink(missing_ok=True)
        return
    fs = filesystem_for(uri, storage_options)
    if fs.exists(uri):
        fs.rm(uri)
