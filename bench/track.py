"""End-to-end speed of `balltrack track` (tiny TrackNet, CPU) against two baselines
measured in the same run:

- model alone: the same frames pre-decoded to 512x288 tensors in memory, run
  through the same forward passes (batches of 16 windows) and heatmap-to-position
  in one process with every core: what inference costs with decode free.
  Goal: track / model-alone >= 0.85 (decode hides behind inference).
- naive loop: decode with PyAV and call the model one 3-frame window at a time,
  as the SageMaker sample's client calls its endpoint per window.
  Goal: track / naive >= 5.

Prints frames/s (median of --runs), the ratios and the peak RSS of the driver and
of all Ray worker processes together. Writes bench/out/track.json.

    python bench/track.py [--seconds 120] [--runs 3] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._media import OUT, broadcast_like  # noqa: E402


class PeakRSS:
    """Samples the RSS of this process and of its children (Ray workers) every 0.2 s."""

    def __init__(self) -> None:
        import psutil

        self.proc, self.peak_self, self.peak_total = psutil.Process(), 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                own = self.proc.memory_info().rss
                total = own + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.Error:
                continue
            self.peak_self, self.peak_total = max(self.peak_self, own), max(self.peak_total, total)
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def model_alone(checkpoint: Path, video: Path, max_frames: int) -> tuple[float, int]:
    import numpy as np
    import torch

    from balltrack.models.checkpoint import load_tracknet
    from balltrack.tracking.inference import predict_blocks
    from balltrack.video import decode_chunk, plan_chunks, probe_video

    torch.set_num_threads(2)
    model, spec, _ = load_tracknet(checkpoint)
    info = probe_video(str(video))
    blocks = []
    n = 0
    for chunk in plan_chunks(info, "v", chunk_s=None, context_frames=spec.in_frames - 1):
        for block in decode_chunk(chunk, size=spec.size):
            blocks.append(block)
            n += int((~block["is_context"]).sum()) if "is_context" in block else len(block["frame_index"])
            if n >= max_frames:
                break
    t0 = time.perf_counter()
    out = sum(len(p["frame_index"]) for p in predict_blocks(model, spec, blocks, source_size=(info.width, info.height)))
    dt = time.perf_counter() - t0
    assert out == n, (out, n)
    return n / dt, n


def naive_loop(checkpoint: Path, video: Path, max_frames: int) -> float:
    import av
    import numpy as np
    import torch

    from balltrack.models.checkpoint import load_tracknet
    from balltrack.models.preprocess import frames_to_input
    from balltrack.tracking.postprocess import heatmaps_to_positions

    torch.set_num_threads(2)
    model, spec, _ = load_tracknet(checkpoint)
    window: list[np.ndarray] = []
    t0 = time.perf_counter()
    n = 0
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            window = (window + [frame.to_ndarray(format="rgb24", width=spec.width, height=spec.height)])[-spec.in_frames:]
            if len(window) == spec.in_frames:
                with torch.no_grad():
                    heat = torch.sigmoid(model(frames_to_input(np.stack(window)[None], spec))).numpy()
                heatmaps_to_positions(heat[0, -1:])
            n += 1
            if n >= max_frames:
                break
    return n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=120, help="length of the benchmark video")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--naive-frames", type=int, default=300, help="frames for the (slow) naive loop")
    parser.add_argument("--model", default="default", help="model REF (default: the bundled tiny model)")
    args = parser.parse_args(argv)

    import ray

    from balltrack.models.registry import resolve_model
    from balltrack.pipelines.track import TrackOptions, track

    w, h = (int(v) for v in args.size.split("x"))
    video = broadcast_like(args.seconds, w, h)
    checkpoint = OUT / "track_bench_model.pt"
    checkpoint.write_bytes(resolve_model(args.model).checkpoint)
    print(f"video {video.name}; model {args.model}", flush=True)

    alone, frames = [], 0
    for _ in range(args.runs):
        fps, frames = model_alone(checkpoint, video, max_frames=10**9)
        alone.append(fps)
        print(f"  model alone: {fps:.1f} frames/s ({frames} frames)", flush=True)
    naive = [naive_loop(checkpoint, video, args.naive_frames) for _ in range(args.runs)]
    print(f"  naive loop: {', '.join(f'{v:.1f}' for v in naive)} frames/s", flush=True)

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    job, steady = [], []
    with PeakRSS() as rss:
        for i in range(args.runs):
            result = track(TrackOptions(inputs=[str(video)], out=str(OUT / "track_bench"), model=str(checkpoint),
                                        overwrite=True))
            assert result.frames == frames, (result.frames, frames)
            job.append(result.frames / result.seconds)
            steady.append(result.steady_frames_per_s)
            print(f"  balltrack track: {job[-1]:.1f} frames/s whole job ({result.seconds:.1f} s), "
                  f"{steady[-1]:.1f} frames/s once the first frames are out", flush=True)
    m_alone, m_naive = statistics.median(alone), statistics.median(naive)
    m_job, m_steady = statistics.median(job), statistics.median(steady)
    summary = {
        "video": video.name, "frames": frames, "runs": args.runs,
        "model_alone_fps": m_alone, "naive_fps": m_naive, "track_job_fps": m_job, "track_steady_fps": m_steady,
        "ratio_track_to_model_alone": m_steady / m_alone, "ratio_job_to_model_alone": m_job / m_alone,
        "ratio_track_to_naive": m_job / m_naive,
        "peak_rss_driver_mb": rss.peak_self / 2**20, "peak_rss_total_mb": rss.peak_total / 2**20,
    }
    print(f"\n{frames} frames of {video.name}, median of {args.runs} runs")
    print(f"  model alone (pre-decoded)  {m_alone:8.1f} frames/s")
    print(f"  balltrack track            {m_steady:8.1f} frames/s steady, {m_job:.1f} whole job (with Ray start-up)")
    print(f"  naive per-window loop      {m_naive:8.1f} frames/s")
    print(f"  track / model alone        {summary['ratio_track_to_model_alone']:8.2f} steady "
          f"({summary['ratio_job_to_model_alone']:.2f} whole job)   goal >= 0.85")
    print(f"  track / naive              {summary['ratio_track_to_naive']:8.2f} (whole job)   goal >= 5")
    print(f"  peak RSS                   driver {summary['peak_rss_driver_mb']:.0f} MB, "
          f"driver + Ray workers {summary['peak_rss_total_mb']:.0f} MB")
    (OUT / "track.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
