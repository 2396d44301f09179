"""Turn the benchmarks' measured rates into cluster sizes, hours and cost for a season
archive (docs/scaling.md prints this script's output). It measures nothing itself except
what is asked with --measure-paper-cpu; everything else comes from

- bench/out/ingest.json        (bench/ingest.py: decode frames/s at 720p, on this machine's cores)
- bench/out/ingest_1080p.json  (bench/ingest.py's functions on its 1080p input)
- bench/out/track.json         (bench/track.py: tiny TrackNet, model alone and the whole job, CPU)
- bench/out/paper_cpu.json     (--measure-paper-cpu: the paper TrackNet's forward pass on CPU)

and from the ASSUMED constants below (prices, GPU throughput, bitrate), which are labelled
as such in the output.

    python bench/scaling.py [--measure-paper-cpu] [--gpus 8]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._media import OUT  # noqa: E402

# ---------------------------------------------------------------- the archive
MATCHES, MINUTES, FPS = 380, 90, 25
FRAMES = MATCHES * MINUTES * 60 * FPS

# ---------------------------------------------------------------- ASSUMED (not measured here)
BITRATE_MBPS = 8.0  # a 1080p25 H.264 broadcast file
PRICE = {  # USD per hour, AWS us-west-2 on-demand list prices (check current ones)
    "m7i.xlarge": 0.2016,   # head: 4 vCPU
    "g5.2xlarge": 1.212,    # 1 A10G, 8 vCPU
    "c7i.4xlarge": 0.714,   # 16 vCPU
}
SPOT_SHARE = 0.35  # spot price as a share of on-demand (varies by zone and hour)
GPU_PEAK_TFLOPS = 125.0  # A10-class dense BF16 tensor peak (NVIDIA's A10 datasheet)
GPU_UTILIZATION = {"low": 0.15, "mid": 0.25, "high": 0.40}  # share of peak a conv U-Net sustains in bf16
TINY_GPU_UTILIZATION = 0.03  # 1/8-width convs (8..64 channels) leave tensor cores mostly idle
S3_GET_USD_PER_1000 = 0.0004
RANGE_BYTES = 8 * 2**20  # balltrack.io.storage.open_binary's read-ahead block
FRAME_BYTES = 512 * 288 * 3  # one decoded frame at the model's input size (uint8 RGB)
GPU_NODE = {"type": "g5.2xlarge", "vcpus": 8, "decoders": 6}
DECODE_NODE = {"type": "c7i.4xlarge", "vcpus": 16}
HEAD = "m7i.xlarge"


def _read(name: str) -> dict | None:
    path = OUT / name
    return json.loads(path.read_text()) if path.exists() else None


def model_flops() -> dict[str, float]:
    """FLOPs of one forward pass (one window = one frame's prediction) per preset."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from balltrack.models.tracknet import build_tracknet, config_from_name

    out = {}
    for name in ("tiny", "paper"):
        config = config_from_name(name)
        spec = config.input_spec()
        model = build_tracknet(config).eval()
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(torch.zeros(1, 3 * spec.in_frames, spec.height, spec.width))
        out[name] = counter.get_total_flops()
    return out


def measure_paper_cpu(windows: int = 4, batch: int = 2) -> dict:
    """Frames/s of the paper TrackNet's forward pass with every core of this machine."""
    import os

    import torch

    from balltrack.models.tracknet import build_tracknet, config_from_name

    torch.set_num_threads(os.cpu_count() or 1)
    config = config_from_name("paper")
    spec = config.input_spec()
    model = build_tracknet(config).eval()
    x = torch.rand(batch, 3 * spec.in_frames, spec.height, spec.width).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        model(x)  # warm-up
        t0 = time.perf_counter()
        for _ in range(windows // batch):
            model(x)
        dt = time.perf_counter() - t0
    result = {"cores": os.cpu_count(), "windows": windows, "fps": windows / dt,
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (OUT / "paper_cpu.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure-paper-cpu", action="store_true", help="time the paper model on this CPU first")
    parser.add_argument("--gpus", type=int, default=8, help="GPU nodes in the main scenario (default 8)")
    args = parser.parse_args(argv)
    if args.measure_paper_cpu:
        measure_paper_cpu()

    ingest, i1080, track, paper_cpu = _read("ingest.json"), _read("ingest_1080p.json"), _read("track.json"), \
        _read("paper_cpu.json")
    if not ingest or not track:
        print("run bench/ingest.py and bench/track.py first", file=sys.stderr)
        return 2
    cores = ingest["cores"]
    r720 = next(r for r in ingest["results"] if r["input"] == "720p")
    dec720 = r720["ours_fps"] / cores
    if i1080:
        dec1080, dec1080_src = i1080["ours_fps"] / i1080["cores"], "measured (bench/out/ingest_1080p.json)"
    else:
        dec1080, dec1080_src = dec720 * (1280 * 720) / (1920 * 1080), "DERIVED from 720p by pixel count"
    tiny_alone = track["model_alone_fps"] / cores
    tiny_job = track["track_steady_fps"] / cores
    # The whole job on CPU at 1080p: the 720p job's time per frame with 720p decode swapped for 1080p.
    tiny_job_1080 = 1 / (1 / tiny_job - 1 / dec720 + 1 / dec1080)
    flops = model_flops()
    gpu = {k: GPU_PEAK_TFLOPS * 1e12 * u / flops["paper"] for k, u in GPU_UTILIZATION.items()}
    tiny_gpu = GPU_PEAK_TFLOPS * 1e12 * TINY_GPU_UTILIZATION / flops["tiny"]

    def h(x: float) -> str:
        return f"{x:,.1f}"

    p = print
    p(f"## Inputs\n\nSeason: {MATCHES} matches x {MINUTES} min x {FPS} fps = {FRAMES:,} frames (1080p25).\n")
    p("| quantity | value | source |\n|---|---|---|")
    p(f"| decode 720p -> 512x288 RGB, per vCPU | {h(dec720)} frames/s | measured: bench/out/ingest.json "
      f"({h(r720['ours_fps'])} frames/s on {cores} vCPUs; ffmpeg CLI {h(r720['ffmpeg_fps'])}, ratio {r720['ratio']:.2f}) |")
    extra = (f" ({h(i1080['ours_fps'])} frames/s on {i1080['cores']} vCPUs; ffmpeg CLI {h(i1080['ffmpeg_fps'])}, "
             f"ratio {i1080['ratio']:.2f})") if i1080 else ""
    p(f"| decode 1080p -> 512x288 RGB, per vCPU | {h(dec1080)} frames/s | {dec1080_src}{extra} |")
    p(f"| tiny TrackNet alone (pre-decoded), per vCPU | {h(tiny_alone)} frames/s | measured: bench/out/track.json "
      f"({h(track['model_alone_fps'])} on {cores}) |")
    p(f"| `balltrack track`, tiny, CPU, 720p, per vCPU | {h(tiny_job)} frames/s | measured: bench/out/track.json "
      f"(steady {h(track['track_steady_fps'])} on {cores}; {track['ratio_track_to_model_alone']:.2f} of the model alone) |")
    p(f"| `balltrack track`, tiny, CPU, 1080p, per vCPU | {h(tiny_job_1080)} frames/s | derived: the 720p job with "
      f"1080p decode time per frame |")
    if paper_cpu:
        p(f"| paper TrackNet forward, CPU, per vCPU | {paper_cpu['fps'] / paper_cpu['cores']:.2f} frames/s | measured: "
          f"bench/out/paper_cpu.json ({paper_cpu['fps']:.2f} on {paper_cpu['cores']}) |")
    p(f"| FLOPs per frame (one window) | tiny {flops['tiny'] / 1e9:.2f} G, paper {flops['paper'] / 1e9:.1f} G | "
      f"counted: torch FlopCounterMode at 288x512 |")
    p(f"| paper TrackNet on one A10G, bf16 | {h(gpu['low'])} / **{h(gpu['mid'])}** / {h(gpu['high'])} frames/s | "
      f"ASSUMED: {GPU_PEAK_TFLOPS:g} TFLOPS peak x {GPU_UTILIZATION['low']:.0%}/{GPU_UTILIZATION['mid']:.0%}/"
      f"{GPU_UTILIZATION['high']:.0%} utilization / FLOPs per frame |")
    p(f"| tiny TrackNet on one A10G | {h(tiny_gpu)} frames/s | ASSUMED: {TINY_GPU_UTILIZATION:.0%} utilization |")
    p(f"| archive size | {FRAMES / FPS * BITRATE_MBPS / 8 / 1e6:,.2f} TB | ASSUMED {BITRATE_MBPS:g} Mbit/s |")

    # ------------------------------------------------ scenario A: paper model, GPU nodes
    own_decode = GPU_NODE["decoders"] * dec1080
    p(f"\n## A. Paper TrackNet on g5.2xlarge GPU nodes\n")
    p(f"Per node: GPU {h(gpu['mid'])} frames/s (mid estimate) vs its own {GPU_NODE['decoders']} decoders "
      f"{h(own_decode)} frames/s -> {'GPU' if gpu['mid'] < own_decode else 'decode'}-bound; no decode nodes needed "
      f"while GPU < decoders.\n" if gpu["mid"] < own_decode else
      f"Per node: GPU {h(gpu['mid'])} frames/s vs own decoders {h(own_decode)}: decode-bound, add decode nodes.\n")
    p("| GPU nodes | GPU estimate | node rate (frames/s) | wall hours | GPU-hours | cost on-demand (USD) |")
    p("|---|---|---|---|---|---|")
    for n in (4, args.gpus, 16):
        for k in ("low", "mid", "high"):
            if n != args.gpus and k != "mid":
                continue
            rate = min(gpu[k], own_decode)
            hours = FRAMES / (rate * n) / 3600
            cost = hours * (n * PRICE[GPU_NODE["type"]] + PRICE[HEAD])
            p(f"| {n} | {k} | {h(rate)} | {h(hours)} | {h(hours * n)} | {cost:,.0f} |")

    # ------------------------------------------------ scenario B: tiny model, CPU only
    p(f"\n## B. Tiny TrackNet, CPU only (decode + inference on the same cores), c7i.4xlarge nodes\n")
    vcpu_hours = FRAMES / tiny_job_1080 / 3600
    p(f"{h(vcpu_hours)} vCPU-hours ({h(vcpu_hours / DECODE_NODE['vcpus'])} node-hours).\n")
    p("| nodes | wall hours | cost on-demand (USD) | cost spot (USD) |\n|---|---|---|---|")
    for n in (8, 16, 32):
        hours = vcpu_hours / (n * DECODE_NODE["vcpus"])
        node_cost = hours * n * PRICE[DECODE_NODE["type"]]
        p(f"| {n} | {h(hours)} | {node_cost + hours * PRICE[HEAD]:,.0f} | "
          f"{node_cost * SPOT_SHARE + hours * PRICE[HEAD]:,.0f} |")

    # ------------------------------------------------ scenario C: tiny model on GPUs: decode-bound
    decoders = tiny_gpu / dec1080
    extra_vcpus = max(0.0, decoders - GPU_NODE["decoders"])
    net_gbps = tiny_gpu * FRAME_BYTES * 8 / 1e9 * (extra_vcpus / decoders)
    p(f"\n## C. Tiny TrackNet on GPUs: the bottleneck moves to decode\n")
    p(f"One A10G would infer ~{h(tiny_gpu)} frames/s (assumed); feeding it takes {decoders:.0f} decoder vCPUs at "
      f"{h(dec1080)} frames/s each: {extra_vcpus:.0f} beyond the GPU node's own {GPU_NODE['decoders']}, i.e. "
      f"{extra_vcpus / DECODE_NODE['vcpus']:.1f} c7i.4xlarge decode nodes per GPU, whose decoded frames "
      f"({FRAME_BYTES / 1e3:.0f} kB each) cross the network at {net_gbps:.1f} Gbit/s into each GPU node.")

    # ------------------------------------------------ S3
    gets = FRAMES / FPS * BITRATE_MBPS / 8 * 1e6 / RANGE_BYTES
    p(f"\n## S3\n\nReads: {gets:,.0f} ranged GETs of {RANGE_BYTES // 2**20} MiB (${gets / 1000 * S3_GET_USD_PER_1000:,.2f}); "
      f"per decoder {dec1080 / FPS * BITRATE_MBPS / 8:.2f} MB/s. Writes: ~6 PUTs per video.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
