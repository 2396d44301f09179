"""Quality and speed of the tiny TrackNet trained on this machine's CPUs.

1. Synthesizes training clips (seed 0) and held-out clips of another seed.
2. Measures training samples/s with 1 and with 2 Ray Train workers (short
   runs of the same config) and prints their ratio.
3. Trains the tiny config for at most --minutes (2 workers, DDP on gloo),
   then tracks every held-out clip with the best checkpoint and scores it
   with the TrackNetV2 protocol (tolerance 4 in 512x288 heatmap pixels).
Prints precision, recall, F1, accuracy; writes bench/out/train_tracknet.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._media import OUT  # noqa: E402
from jobs.train_default_model import RECIPE  # noqa: E402  (the default model's recipe)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=19.0, help="training time budget (the LR decays over it)")
    parser.add_argument("--train-clips", type=int, default=24)
    parser.add_argument("--val-clips", type=int, default=4)
    parser.add_argument("--test-clips", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--speed-s", type=float, default=45.0, help="length of each samples/s measurement")
    parser.add_argument("--out", default=str(OUT / "train_tracknet"))
    args = parser.parse_args(argv)

    import ray

    from balltrack.models.checkpoint import load_tracknet
    from balltrack.pipelines.track import TrackOptions, track
    from balltrack.synth import generate_clips
    from balltrack.tracking.evaluation import evaluate_files
    from balltrack.training.tracknet import TrainOptions, train_tracknet

    out = Path(args.out)
    data = {name: out / "data" / name for name in ("train", "val", "test")}
    for name, seed, n in (("train", 0, args.train_clips), ("val", 500, args.val_clips), ("test", 1000, args.test_clips)):
        if not any(data[name].glob("*.mp4")):
            t0 = time.perf_counter()
            generate_clips(data[name], clips=n, seed=seed, seconds=args.seconds)
            print(f"synthesized {n} {name} clips (seed {seed}) in {time.perf_counter() - t0:.0f} s", flush=True)
    ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False)

    def opts(**kw):
        base = dict(data=[str(data["train"])], val_data=[str(data["val"])], overwrite=True, register_as=None,
                    **{k: v for k, v in RECIPE.items() if k != "workers"})
        return TrainOptions(**{**base, **kw})

    speed = {}
    for workers in (1, 2):
        r = train_tracknet(opts(out=str(out / f"speed_{workers}w"), workers=workers, epochs=1,
                                time_budget_s=args.speed_s), progress=lambda m: None)
        speed[workers] = r.metrics["samples_per_s"]
        print(f"{workers} worker(s): {speed[workers]:.2f} training samples/s", flush=True)

    t0 = time.perf_counter()
    result = train_tracknet(opts(out=str(out / "run"), workers=2, epochs=1000, time_budget_s=args.minutes * 60),
                            progress=lambda m: print(m, flush=True))
    train_minutes = (time.perf_counter() - t0) / 60
    model, spec, info = load_tracknet(result.best_checkpoint)
    # Scored as users get it: `balltrack track` (chunked, trajectory repair) then `balltrack eval tracks`.
    tracked = track(TrackOptions(inputs=[str(data["test"])], out=str(out / "tracked"), model=str(result.best_checkpoint),
                                 overwrite=True))
    report = evaluate_files([str(out / "tracked")], [str(data["test"])], protocol="tracknetv2", tolerance=4,
                            videos=[str(data["test"])])
    preds = [v for v in tracked.videos if v.status == "done"]
    t = report["total"]
    summary = {
        "train_minutes": train_minutes, "epochs": info["epoch"] + 1, "steps": info["step"],
        "best_val_f1": info["best_val_f1"], "test": t,
        "samples_per_s_1_worker": speed[1], "samples_per_s_2_workers": speed[2],
        "ratio_2_to_1": speed[2] / speed[1], "recipe": RECIPE,
    }
    print(f"training budget {args.minutes:g} min (wall time incl. decoding the windows {train_minutes:.1f} min), "
          f"{summary['epochs']} epochs, {summary['steps']} steps; "
          f"best validation F1 {info['best_val_f1']:.3f}")
    print(f"held-out (seed 1000, {len(preds)} clips, {t['n_frames']} frames), TrackNetV2 protocol, tolerance 4:")
    print(f"  precision {t['precision']:.3f}  recall {t['recall']:.3f}  F1 {t['f1']:.3f}  accuracy {t['accuracy']:.3f}"
          f"  (TP {t['TP']} FP1 {t['FP1']} FP2 {t['FP2']} FN {t['FN']} TN {t['TN']})")
    print(f"training samples/s: {result.metrics.get('samples_per_s', 0):.2f} in the last epoch of the quality run; "
          f"short runs: 1 worker {speed[1]:.2f}, 2 workers {speed[2]:.2f}, ratio 2:1 {speed[2] / speed[1]:.2f}")
    (OUT / "train_tracknet.json").write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
