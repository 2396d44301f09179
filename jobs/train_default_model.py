"""Train the default model shipped in the package, reproducibly, and write its model card.

    python jobs/train_default_model.py                  # train, evaluate, install into the package
    python jobs/train_default_model.py --evaluate-only  # re-measure the installed model

1. Synthesizes training clips (seed 0), validation clips (seed 500) and held-out
   clips (seed 1000) with `balltrack synth` defaults (8 s, 512x288, 25 fps).
2. Trains the tiny TrackNet on 2 CPU workers with fixed seeds for a time budget
   (default 19 minutes; the learning rate follows a cosine over the budget), on
   128x224 crops of the frames (half of them on the ball, half anywhere). The data
   and seeds are fixed; the number of steps depends on the machine's speed, and the
   model card records it.
3. Runs `balltrack track` with the trained checkpoint over the held-out clips and
   over the labelled real clips in ../shared/realdata, scores them with
   `balltrack eval tracks` (TrackNetV2 protocol, tolerance 4), and writes
   balltrack/models/default/tracknet.pt and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PACKAGE_DIR = ROOT / "balltrack" / "models" / "default"
# Labelled real clips (paths under ../shared/realdata): video, labels.
REAL_LABELLED = [
    ("ChgygLin__TrackNetV2-pytorch/example_dataset/match/videos/1_10_12.mp4",
     "ChgygLin__TrackNetV2-pytorch/example_dataset/match/labels/1_10_12.csv"),
    ("mareksubocz__TrackNet/example_datasets/video_dataset/videos/VolleyballShortClip.mp4",
     "mareksubocz__TrackNet/example_datasets/video_dataset/csvs/VolleyballShortClip.csv"),
]
RECIPE = dict(config="tiny", workers=2, batch_size=8, lr=3e-3, lr_schedule="cosine", empty_share=0.2,
              crop=(128, 224), crop_ball_share=0.5, seed=0, loss="wbce")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=str(ROOT / "build" / "default_model"), help="scratch directory")
    parser.add_argument("--train-clips", type=int, default=24)
    parser.add_argument("--minutes", type=float, default=19.0, help="training time budget (the LR decays over it)")
    parser.add_argument("--evaluate-only", action="store_true", help="measure the installed model, train nothing")
    parser.add_argument("--from-run", metavar="RUN", help="take the best checkpoint of a finished training run "
                        "(RUN/model/tracknet.pt) instead of training")
    parser.add_argument("--no-install", action="store_true", help="leave the package's model as it is")
    args = parser.parse_args(argv)

    import ray

    from balltrack.synth import generate_clips
    from balltrack.training.tracknet import TrainOptions, train_tracknet

    work = Path(args.work)
    data = {"train": (0, args.train_clips), "val": (500, 4), "test": (1000, 6)}
    for name, (seed, n) in data.items():
        d = work / "data" / name
        if not any(d.glob("*.mp4")):
            generate_clips(d, clips=n, seed=seed, seconds=8.0)
            print(f"synthesized {n} {name} clips (seed {seed})", flush=True)
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)

    info: dict = {}
    if args.evaluate_only:
        checkpoint = PACKAGE_DIR / "tracknet.pt"
    elif args.from_run:
        checkpoint = Path(args.from_run) / "model" / "tracknet.pt"
        info["train_minutes"] = args.minutes
    else:
        t0 = time.monotonic()
        result = train_tracknet(
            TrainOptions(data=[str(work / "data" / "train")], val_data=[str(work / "data" / "val")],
                         out=str(work / "run"), epochs=1000, time_budget_s=args.minutes * 60,
                         overwrite=True, register_as=None, **RECIPE),
            progress=lambda m: print(m, flush=True),
        )
        info["train_minutes"] = round((time.monotonic() - t0) / 60, 1)
        checkpoint = Path(result.best_checkpoint)
    from balltrack.models.checkpoint import read_checkpoint

    state = read_checkpoint(checkpoint)
    info.update(epoch=state.get("epoch"), step=state.get("step"), best_val_f1=state.get("best_val_f1"))

    metrics = {"synthetic (seed 1000, 6 clips)": _score([str(work / "data" / "test")], [str(work / "data" / "test")],
                                                        checkpoint, work / "eval_synthetic")}
    real = _real_root()
    if real is not None:
        for video, labels in REAL_LABELLED:
            metrics[f"real: {Path(video).name}"] = _score([str(real / video)], [str(real / labels)], checkpoint,
                                                          work / f"eval_{Path(video).stem}")
    print(json.dumps(metrics, indent=1))
    if not args.evaluate_only and not args.no_install:
        _install(checkpoint, PACKAGE_DIR / "tracknet.pt")
    if not args.no_install:
        _write_card(PACKAGE_DIR / "MODEL_CARD.md", state, info, metrics, args)
        print(f"installed {PACKAGE_DIR / 'tracknet.pt'} and MODEL_CARD.md")
    return 0


def _install(checkpoint: Path, target: Path) -> None:
    """Copy without the optimizer state (a third of the size; inference never needs it)."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state.pop("optimizer", None)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, target)


def _score(inputs, labels, checkpoint, out) -> dict:
    """`balltrack track` then `balltrack eval tracks`, as a user would run them."""
    from balltrack.pipelines.track import TrackOptions, track
    from balltrack.tracking.evaluation import evaluate_files

    result = track(TrackOptions(inputs=inputs, out=str(out), model=str(checkpoint), overwrite=True))
    report = evaluate_files([str(out)], labels, protocol="tracknetv2", tolerance=4, videos=inputs)
    total = report["total"]
    total["frames_per_s"] = round(result.frames / result.seconds, 1)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in total.items()}


def _real_root() -> Path | None:
    root = ROOT.parent / "shared" / "realdata"
    return root if root.is_dir() else None


def _write_card(path: Path, state: dict, info: dict, metrics: dict, args) -> None:
    rows = ["| data | frames | precision | recall | F1 | accuracy | TP | FP1 | FP2 | FN | TN |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, m in metrics.items():
        rows.append(f"| {name} | {m['n_frames']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                    f"{m['accuracy']:.3f} | {m['TP']} | {m['FP1']} | {m['FP2']} | {m['FN']} | {m['TN']} |")
    config = state["config"]
    text = f"""# Model card: balltrack default TrackNet (`--model default`)

**What it is.** The `tiny` TrackNetV2-style U-Net ({config.get('base_channels')} base channels, depth
{config.get('depth')}, {config.get('in_frames')} frames in, {config.get('out_frames')} heatmaps out, input
{state['input_spec']['width']}x{state['input_spec']['height']}), trained by `jobs/train_default_model.py` on
synthetic clips only. It exists so that `balltrack track` and `make demo` work out of the box, with no download.

**Training data.** {args.train_clips} synthetic rally clips from `balltrack synth` (seed 0, 8 s each, 512x288,
25 fps: broadcast-like court, two players, a 3-10 px ball with motion blur, occlusions, crowd and close-up
cutaways); validation on 4 clips of seed 500.

**Recipe.** {json.dumps({k: v for k, v in RECIPE.items()})}; a {args.minutes:g}-minute budget on 2 CPU
workers (DDP on gloo), weighted BCE on binary disk targets (r=2.5), augmentation (flip,
brightness/contrast, scale/translate), 20% of samples without a visible ball. Best epoch by validation F1:
epoch {info.get('epoch')}, step {info.get('step')}, validation F1 {info.get('best_val_f1') or 0:.3f}.
{('Training took ' + str(info['train_minutes']) + ' minutes on 2 CPU cores.') if 'train_minutes' in info else ''}

**Measured** through `balltrack track` then `balltrack eval tracks` (TrackNetV2 protocol: tolerance 4 px in
the 512x288 heatmap, FP1 = a visible ball predicted too far, FP2 = a prediction where no ball is visible):

{chr(10).join(rows)}

**Where it fails.** It has never seen real footage, and the real rows above show it: on the labelled real
clips most of its detections are off the ball (FP1) or the ball is missed, so its precision there is far
below the synthetic figure. The real clips here are also tiny (a few to a few dozen labelled frames), so
their figures are anecdotes, not estimates. It also knows only the synthetic ball sizes (3-10 px at
512x288) and one court look. For real footage, fine-tune with `balltrack train tracknet --data
YOUR_LABELLED_VIDEOS` (TrackNet CSV labels), ideally with the `paper` config on a GPU, and pass the result
with `--model`.

**Reproduce.** `python jobs/train_default_model.py` (about {info.get('train_minutes', '20')} minutes on
2 cores); `--evaluate-only` re-measures the installed weights.
"""
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
