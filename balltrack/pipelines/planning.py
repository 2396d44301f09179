"""Probe and plan many videos in parallel Ray tasks (never serially on the driver)."""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Sequence

import ray

from balltrack.errors import VideoError
from balltrack.io.storage import VideoSource
from balltrack.video.probe import VideoInfo, probe_video

log = logging.getLogger(__name__)

# Probing reads headers and decodes one frame: mostly I/O wait, so a quarter
# CPU per task lets 4 probes share a core.
PROBE_NUM_CPUS = 0.25
MAX_IN_FLIGHT = 256
# Up to this many files are probed by threads in the driver process (~50 ms
# each, mostly I/O and FFmpeg code that releases the GIL): starting Ray tasks
# would cost more than the probes. Larger archives fan out to Ray tasks.
LOCAL_PROBE_MAX = 32
LOCAL_PROBE_THREADS = 8


def _probe_or_error(uri: str, storage_options: Mapping[str, Any] | None) -> VideoInfo | VideoError:
    try:
        return probe_video(uri, storage_options)
    except VideoError as exc:
        return exc
    except Exception as exc:  # an unexpected failure is still data about that video, not a dead job
        return VideoError(uri, f"{type(exc).__name__}: {exc}")


_probe_task = ray.remote(num_cpus=PROBE_NUM_CPUS, max_retries=2)(_probe_or_error)


def probe_many(
    sources: Sequence[VideoSource],
    storage_options: Mapping[str, Any] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[VideoInfo | VideoError]:
    """Probe every source in parallel: in driver threads for a few files, in
    Ray tasks (at most MAX_IN_FLIGHT at once) for more. Returns results in the
    order of ``sources``."""
    if len(sources) <= LOCAL_PROBE_MAX:
        return _probe_in_threads(sources, storage_options, progress)
    results: list[VideoInfo | VideoError | None] = [None] * len(sources)
    pending: dict[ray.ObjectRef, int] = {}
    next_i = 0
    done = 0
    while next_i < len(sources) or pending:
        while next_i < len(sources) and len(pending) < MAX_IN_FLIGHT:
            ref = _probe_task.remote(sources[next_i].uri, dict(storage_options or {}) or None)
            pending[ref] = next_i
            next_i += 1
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            i = pending.pop(ref)
            results[i] = ray.get(ref)
            done += 1
            if progress:
                progress(done, len(sources))
    return results  # type: ignore[return-value]


def _probe_in_threads(sources, storage_options, progress) -> list[VideoInfo | VideoError]:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    results: list[VideoInfo | VideoError | None] = [None] * len(sources)
    with ThreadPoolExecutor(max_workers=LOCAL_PROBE_THREADS) as pool:
        futures = {pool.submit(_probe_or_error, s.uri, storage_options): i for i, s in enumerate(sources)}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, len(sources))
    return results  # type: ignore[return-value]
