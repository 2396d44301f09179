"""The demo job: synthesize a rally clip, track the ball with the bundled default
model on a local Ray, render the overlay, and score it against the clip's exact
labels. `make demo` runs it; it needs no data and no network (about 2 minutes on 2 cores).

    python jobs/demo.py --out demo_out
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="demo_out", help="output directory (default demo_out)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the synthetic clip (default 8)")
    parser.add_argument("--seed", type=int, default=1000, help="synthetic seed (default 1000: not a training seed)")
    parser.add_argument("--model", default="default", help="model REF (default: the bundled tiny TrackNet)")
    args = parser.parse_args(argv)

    import ray

    from balltrack.cli import main as cli
    from balltrack.pipelines.track import TrackOptions, track
    from balltrack.tracking.evaluation import evaluate_files

    out = Path(args.out)
    clips = out / "clips"
    t0 = time.monotonic()
    print(f"[1/3] synthesizing a {args.seconds:g} s rally clip (seed {args.seed}) into {clips}", flush=True)
    if not any(clips.glob("*.mp4")):
        cli(["synth", "--out", str(clips), "--clips", "1", "--seed", str(args.seed), "--seconds", str(args.seconds), "-q"])
    print(f"[2/3] balltrack track {clips} --out {out} --model {args.model} --render", flush=True)
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    result = track(TrackOptions(inputs=[str(clips)], out=str(out), model=args.model, render=True, overwrite=True),
                   progress=lambda m: print(f"      {m}", flush=True))
    print("[3/3] balltrack eval tracks (TrackNetV2 protocol, tolerance 4)", flush=True)
    report = evaluate_files([str(out)], [str(clips)], protocol="tracknetv2", tolerance=4, videos=[str(clips)])
    total = report["total"]
    frames = sum(v.frames for v in result.videos)
    detected = sum(v.detected for v in result.videos)
    print()
    print(f"frames tracked   {frames} in {result.seconds:.1f} s ({frames / result.seconds:.1f} frames/s, model {result.model})")
    print(f"detection rate   {detected / max(frames, 1):.1%} of frames "
          f"(+{sum(v.interpolated for v in result.videos)} filled by interpolation)")
    print(f"vs exact labels  F1 {total['f1']:.3f}  precision {total['precision']:.3f}  recall {total['recall']:.3f}"
          f"  accuracy {total['accuracy']:.3f}")
    print(f"outputs          {out / 'tracks'}/ (Parquet), {out / 'csv'}/, {out / 'shots'}/, {out / 'render'}/ (overlay MP4)")
    print(f"explore          BALLTRACK_OUT={out} jupyter lab notebooks/explore_tracks.ipynb")
    print(f"total            {time.monotonic() - t0:.1f} s")
    return 0 if result.n_failed == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
