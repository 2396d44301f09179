"""Peak memory of decode workers: bounded whatever the file's length.

Decodes a 2-minute and a 10-minute 720p file with ``read_video_frames``
(512x288, chunks of 30 s) on a local Ray and samples every Ray worker's
resident memory five times a second. Prints each decode worker's peak RSS
(and its private part, RSS minus shared pages such as the object store
mapping) for both files: the peaks must not grow with the file's length.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._media import OUT, broadcast_like  # noqa: E402

MB = 2**20


class WorkerSampler(threading.Thread):
    """Polls Ray worker processes (named ray::...) and keeps each one's peak."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peaks: dict[int, tuple[int, int, str]] = {}
        self._halt = threading.Event()
        self.decoders: set[int] = set()  # pids seen running a read (decode) task

    def run(self) -> None:
        import psutil

        while not self._halt.is_set():
            for proc in psutil.process_iter(["pid", "name", "cmdline"]):
                try:
                    name = " ".join(proc.info["cmdline"] or [])[:60]
                    if not name.startswith("ray::"):
                        continue
                    if "Read" in name:
                        self.decoders.add(proc.pid)
                    mem = proc.memory_info()
                    rss, private = mem.rss, mem.rss - getattr(mem, "shared", 0)
                    old = self.peaks.get(proc.pid, (0, 0, name))
                    self.peaks[proc.pid] = (max(old[0], rss), max(old[1], private), name)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self._halt.wait(self.interval)

    def stop(self) -> dict[int, tuple[int, int, str]]:
        self._halt.set()
        self.join()
        return self.peaks


def run(path: Path, chunk_s: float) -> dict:
    import balltrack

    sampler = WorkerSampler()
    sampler.start()
    t0 = time.perf_counter()
    n = 0
    ds = balltrack.read_video_frames([str(path)], size=(512, 288), chunk_s=chunk_s)
    for batch in ds.iter_batches(batch_size=256, batch_format="numpy"):
        n += len(batch["frame_index"])
    seconds = time.perf_counter() - t0
    peaks = sampler.stop()
    workers = {pid: p for pid, p in peaks.items() if pid in sampler.decoders}
    return {
        "file": path.name,
        "frames": n,
        "seconds": seconds,
        "workers": [
            {"pid": pid, "name": name, "peak_rss_mb": rss / MB, "peak_private_mb": priv / MB}
            for pid, (rss, priv, name) in sorted(workers.items())
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short-s", type=int, default=120)
    parser.add_argument("--long-s", type=int, default=600)
    parser.add_argument("--chunk-s", type=float, default=30.0)
    args = parser.parse_args(argv)

    import ray

    from bench.ingest import _quiet_ray_data

    _quiet_ray_data()
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    report = []
    for seconds in (args.short_s, args.long_s):
        path = broadcast_like(seconds, 1280, 720)
        result = run(path, args.chunk_s)
        report.append(result)
        print(f"{result['file']}: {result['frames']} frames in {result['seconds']:.1f} s")
        for w in result["workers"]:
            print(f"  worker {w['pid']:>7d} peak RSS {w['peak_rss_mb']:7.1f} MB  private {w['peak_private_mb']:7.1f} MB  {w['name']}")
    short_peak = max(w["peak_private_mb"] for w in report[0]["workers"])
    long_peak = max(w["peak_private_mb"] for w in report[1]["workers"])
    print(f"max private peak: {args.short_s} s file {short_peak:.1f} MB, {args.long_s} s file {long_peak:.1f} MB "
          f"(ratio {long_peak / short_peak:.2f} for a {args.long_s / args.short_s:.0f}x longer file)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "decode_memory.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
