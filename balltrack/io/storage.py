"""Resolve user inputs into video sources and open them through fsspec.

Inputs are local files, directories (recursive, by extension), globs, ``s3://``
URIs or prefixes, and Parquet manifests with a ``uri`` column. Each video gets a
stable, readable ``video_id`` derived from its path relative to the archive root
it was found under, so a re-run over the same archive yields the same ids.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import os
import re
from dataclasses import dataclass
from typing import IO, Any, Iterable, Mapping

import fsspec

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".ts", ".m4v", ".webm", ".mts", ".mpg", ".mpeg")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class VideoSource:
    """One video to process: where it is and the id its outputs carry."""

    uri: str
    video_id: str


def is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def filesystem_for(uri: str, storage_options: Mapping[str, Any] | None = None) -> fsspec.AbstractFileSystem:
    """The fsspec filesystem for ``uri``. For s3 the endpoint and credentials
    come from ``storage_options`` or the standard AWS variables
    (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)."""
    protocol = uri.split("://", 1)[0] if is_remote(uri) else "file"
    options = dict(storage_options or {})
    if protocol in ("s3", "s3a") and "endpoint_url" not in options:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            options["endpoint_url"] = endpoint
    return fsspec.filesystem(protocol, **options)


def open_binary(uri: str, storage_options: Mapping[str, Any] | None = None) -> IO[bytes]:
    """Open ``uri`` for random-access binary reading (local or remote)."""
    if not is_remote(uri):
        return open(_local(uri), "rb")
    fs = filesystem_for(uri, storage_options)
    # Read-ahead blocks of 8 MiB: a decoder reads sequentially after each seek.
    return fs.open(uri, "rb", block_size=8 * 2**20, cache_type="readahead")


def size_of(uri: str, storage_options: Mapping[str, Any] | None = None) -> int:
    if not is_remote(uri):
        return os.path.getsize(_local(uri))
    return int(filesystem_for(uri, storage_options).size(uri))


def resolve_inputs(
    inputs: Iterable[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
    extensions: tuple[str, ...] = VIDEO_EXTENSIONS,
) -> list[VideoSource]:
    """Expand inputs into a sorted, de-duplicated list of video sources.

    A path that does not exist is kept as a source, so the job reports it as a
    failed video instead of silently dropping it. A glob or directory that
    matches nothing raises :class:`~balltrack.errors.InputError`.
    """
    from balltrack.errors import InputError

    found: list[tuple[str, str]] = []  # (uri, path relative to its archive root)
    for item in inputs:
        item = str(item)
        if item.endswith(".parquet") and not _is_glob(item):
            found.extend(_from_manifest(item, storage_options))
            continue
        fs = filesystem_for(item, storage_options)
        remote = is_remote(item)
        proto = item.split("://", 1)[0] + "://" if remote else ""
        if _is_glob(item):
            root = _glob_root(item)
            matches = sorted(fs.glob(item) if remote else globlib.glob(_local(item), recursive=True))
            matches = [m for m in matches if _is_file(fs, m, remote)]
            if not matches:
                raise InputError(f"{item}: the pattern matches no file")
            for m in matches:
                uri = _with_proto(proto, m)
                found.append((uri, _relative(uri, root)))
        elif _is_dir(fs, item, remote):
            root = item.rstrip("/")
            files = sorted(fs.find(item) if remote else _walk(_local(item)))
            videos = [f for f in files if f.lower().endswith(extensions)]
            if not videos:
                raise InputError(f"{item}: the directory holds no video ({', '.join(extensions)})")
            for f in videos:
                uri = _with_proto(proto, f)
                found.append((uri, _relative(uri, root)))
        else:
            found.append((item, os.path.basename(item.rstrip("/"))))
    return _assign_ids(found)


def video_id_for(relative_path: str) -> str:
    """Readable, partition-safe id: 'season/m 1.mp4' -> 'season__m_1.mp4'."""
    parts = [p for p in relative_path.replace("\\", "/").split("/") if p and p != "."]
    slug = "__".join(_UNSAFE.sub("_", p) for p in parts).strip("_") or "video"
    return slug


def _assign_ids(found: list[tuple[str, str]]) -> list[VideoSource]:
    seen_uri: set[str] = set()
    unique = []
    for uri, rel in found:
        if uri not in seen_uri:
            seen_uri.add(uri)
            unique.append((uri, rel))
    ids = [video_id_for(rel) for _, rel in unique]
    counts: dict[str, int] = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    sources = []
    for (uri, rel), vid in zip(unique, ids):
        if counts[vid] > 1:  # two roots gave the same relative path: disambiguate stably
            vid = f"{vid}-{hashlib.sha1(uri.encode()).hexdigest()[:8]}"
        sources.append(VideoSource(uri=uri, video_id=vid))
    return sources


def _from_manifest(path: str, storage_options: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    import pyarrow.parquet as pq

    from balltrack.errors import InputError

    fs = filesystem_for(path, storage_options)
    try:
        with fs.open(path, "rb") as f:
            table = pq.read_table(f)
    except FileNotFoundError:
        raise InputError(f"{path}: manifest not found") from None
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(f"{path}: not a readable Parquet manifest ({exc})") from None
    if "uri" not in table.column_names:
        raise InputError(f"{path}: manifest has no 'uri' column (columns: {table.column_names})")
    uris = [str(u) for u in table.column("uri").to_pylist() if u]
    if "video_id" in table.column_names:
        rels = [str(v) for v in table.column("video_id").to_pylist()]
    else:
        rels = [os.path.basename(u.rstrip("/")) for u in uris]
    return list(zip(uris, rels))


def _is_glob(s: str) -> bool:
    return any(ch in s for ch in "*?[")


def _glob_root(pattern: str) -> str:
    head = []
    for part in pattern.split("/"):
        if _is_glob(part):
            break
        head.append(part)
    return "/".join(head)


def _relative(uri: str, root: str) -> str:
    root = root.rstrip("/")
    if root and uri.startswith(root + "/"):
        return uri[len(root) + 1 :]
    return os.path.basename(uri)


def _with_proto(proto: str, path: str) -> str:
    return path if not proto or path.startswith(proto) else proto + path


def _local(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def _is_dir(fs: fsspec.AbstractFileSystem, item: str, remote: bool) -> bool:
    if not remote:
        return os.path.isdir(_local(item))
    try:
        return fs.isdir(item)
    except Exception:
        return False


def _is_file(fs: fsspec.AbstractFileSystem, item: str, remote: bool) -> bool:
    return fs.isfile(item) if remote else os.path.isfile(item)


def _walk(root: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        out.extend(os.path.join(dirpath, f) for f in filenames if not f.startswith("."))
    return out
