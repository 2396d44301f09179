"""Decode throughput of read_video_frames against the ffmpeg command line.

For each file: frames/s of ``read_video_frames(size=(512, 288))`` consumed with
``iter_batches`` on a local Ray using every core, beside the limit measured in
the same run with ``ffmpeg -threads 1 -i F -vf scale=512:288 -pix_fmt rgb24 -f
null -`` run as one process per core at once, and the ratio. For the long
files it also decodes the file as a single chunk, through Ray (one read task)
and serially in this process, to show what chunking buys.
Median of --runs runs. Prints a table; also writes bench/out/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._media import OUT, broadcast_like, ffmpeg_exe, real_clips  # noqa: E402


def ffmpeg_fps(path: Path, n_frames: int, procs: int) -> float:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(path),
           "-vf", "scale=512:288", "-pix_fmt", "rgb24", "-f", "null", "-"]
    t0 = time.perf_counter()
    running = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL) for _ in range(procs)]
    for p in running:
        if p.wait() != 0:
            raise RuntimeError(f"ffmpeg failed on {path}")
    return procs * n_frames / (time.perf_counter() - t0)


def ours_fps(paths: list[Path], chunk_s: float | None) -> tuple[float, int]:
    import balltrack

    t0 = time.perf_counter()
    ds = balltrack.read_video_frames([str(p) for p in paths], size=(512, 288), chunk_s=chunk_s)
    n = 0
    for batch in ds.iter_batches(batch_size=256, batch_format="numpy"):
        n += len(batch["frame_index"])
    return n / (time.perf_counter() - t0), n


def serial_fps(path: Path) -> float:
    """The file as one chunk, decoded in this process: no Ray at all."""
    from balltrack.video import decode_chunk, plan_chunks, probe_video

    t0 = time.perf_counter()
    (chunk,) = plan_chunks(probe_video(str(path)), "v", chunk_s=None)
    n = sum(len(b["frame_index"]) for b in decode_chunk(chunk, size=(512, 288)))
    return n / (time.perf_counter() - t0)


def median_of(fn, runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=180, help="length of the generated 720p/1080p files")
    parser.add_argument("--chunk-s", type=float, default=None, help="default: the library's (30 s)")
    parser.add_argument("--only", nargs="+", choices=["720p", "1080p", "real"], help="measure only these inputs")
    args = parser.parse_args(argv)

    import ray

    from balltrack.video.probe import probe_video

    cores = os.cpu_count() or 1
    _quiet_ray_data()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, configure_logging=False)
    files = {
        "720p": [broadcast_like(args.seconds, 1280, 720)],
        "1080p": [broadcast_like(args.seconds, 1920, 1080)],
        "real clips": real_clips(),
    }
    if args.only:
        files = {k: v for k, v in files.items() if k.split()[0] in args.only}
    # Warm up workers and the page cache so the first measurement is not an outlier.
    ours_fps(next(iter(files.values())), args.chunk_s)
    results = []
    print(f"{'input':12s} {'frames':>7s} {'ffmpeg x%d f/s' % cores:>15s} {'ours f/s':>9s} {'ratio':>6s} "
          f"{'1 chunk f/s':>11s} {'chunked/1':>9s} {'serial f/s':>10s} {'chunked/s':>9s}")
    for label, paths in files.items():
        if not paths:
            print(f"{label:12s} (absent)")
            continue
        n_frames = sum(probe_video(str(p)).n_frames for p in paths)
        if len(paths) == 1:
            ff = median_of(lambda: ffmpeg_fps(paths[0], n_frames, cores), args.runs)
        else:
            ff = median_of(lambda: _ffmpeg_many(paths, cores), args.runs)
        ours = median_of(lambda: ours_fps(paths, args.chunk_s)[0], args.runs)
        single = median_of(lambda: ours_fps(paths, float("inf"))[0], args.runs) if len(paths) == 1 else None
        serial = median_of(lambda: serial_fps(paths[0]), args.runs) if len(paths) == 1 else None
        row = {"input": label, "frames": n_frames, "ffmpeg_fps": ff, "ours_fps": ours, "ratio": ours / ff,
               "single_chunk_fps": single, "chunked_over_single": (ours / single) if single else None,
               "serial_fps": serial, "chunked_over_serial": (ours / serial) if serial else None}
        results.append(row)
        print(f"{label:12s} {n_frames:7d} {ff:15.1f} {ours:9.1f} {ours / ff:6.2f} "
              f"{(f'{single:11.1f}' if single else '          -')} "
              f"{(f'{ours / single:9.2f}' if single else '        -')} "
              f"{(f'{serial:10.1f} {ours / serial:9.2f}' if serial else '         -         -')}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps({"cores": cores, "runs": args.runs, "results": results}, indent=2))
    return 0


def _quiet_ray_data() -> None:
    """Keep the figures readable: no progress logging from Ray Data."""
    import logging

    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def _ffmpeg_many(paths: list[Path], procs: int) -> float:
    """Many short files: a pool of `procs` ffmpeg processes works through them."""
    from balltrack.video.probe import probe_video

    cmd = lambda p: [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(p),  # noqa: E731
                     "-vf", "scale=512:288", "-pix_fmt", "rgb24", "-f", "null", "-"]
    total = sum(probe_video(str(p)).n_frames for p in paths)
    queue = list(paths)
    running: list[subprocess.Popen] = []
    t0 = time.perf_counter()
    while queue or running:
        while queue and len(running) < procs:
            running.append(subprocess.Popen(cmd(queue.pop(0)), stdin=subprocess.DEVNULL))
        running[0].wait()
        running = [p for p in running if p.poll() is None]
    return total / (time.perf_counter() - t0)


if __name__ == "__main__":
    sys.exit(main())
