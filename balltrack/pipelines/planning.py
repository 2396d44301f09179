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
    """Probe every source in Ray tasks, at most MAX_IN_FLIGHT at once.
    Returns results in the order of ``sources``."""
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
