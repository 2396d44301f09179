"""The ``balltrack`` command. Each subcommand parses arguments and calls the
library; no logic lives here.

Exit codes: 0 success; 1 the job failed; 2 bad usage or input arguments;
3 the job finished but some inputs failed (each is recorded with its reason).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        size = int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 512x288, got {text!r}") from None
    if size[0] <= 0 or size[1] <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return size


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


class _Progress:
    """One updating line on stderr: 'label 12/40 (30%) 3.1 s'."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label, self.quiet, self.t0 = label, quiet, time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        pct = 100 * done / total if total else 100
        line = f"{self.label} {done}/{total} ({pct:.0f}%) {time.monotonic() - self.t0:.1f} s"
        if self.tty:
            print("\r" + line, end="" if done < total else "\n", file=sys.stderr, flush=True)
        elif done == total or done % max(1, total // 20) == 0:
            print(line, file=sys.stderr, flush=True)


def _cmd_synth(args: argparse.Namespace) -> int:
    from balltrack.synth import generate_clips

    paths = generate_clips(
        args.out,
        clips=args.clips,
        seed=args.seed,
        size=args.size,
        fps=args.fps,
        seconds=args.seconds,
        progress=_Progress("synth", args.quiet),
    )
    for p in paths:
        print(p)
    return EXIT_OK


def _init_ray(args: argparse.Namespace) -> None:
    import ray

    if not ray.is_initialized():
        address = args.address or os.environ.get("RAY_ADDRESS")
        ray.init(address=address, log_to_driver=False, include_dashboard=False, configure_logging=False)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from balltrack.pipelines.ingest import ingest

    _init_ray(args)
    result = ingest(args.inputs, args.out, progress=_Progress("probe", args.quiet))
    for row in result.table.to_pylist():
        if row["status"] != "ok":
            print(f"error: {row['uri']}: {row['error']}", file=sys.stderr)
    print(f"{result.table.num_rows} videos, {result.n_ok} ok, {result.n_failed} failed -> {result.catalog_path}")
    return EXIT_PARTIAL if result.n_failed else EXIT_OK


def _cmd_track(args: argparse.Namespace) -> int:
    from balltrack.pipelines.track import TrackOptions, track

    _init_ray(args)
    opts = TrackOptions(
        inputs=args.inputs, out=args.out, model=args.model, render=args.render, gpus=args.gpus,
        batch_size=args.batch_size, actors=args.actors, cpus_per_actor=args.cpus_per_actor, chunk_s=args.chunk_s,
        threshold=args.threshold, max_gap=args.max_gap, trail=args.trail, overwrite=args.overwrite,
        tracking_uri=args.tracking_uri,
    )
    quiet = args.quiet
    result = track(opts, progress=None if quiet else _LineProgress())
    done = [v for v in result.videos if v.status == "done"]
    for v in result.videos:
        if v.status == "error":
            print(f"error: {v.uri}: {v.error}", file=sys.stderr)
    frames = sum(v.frames for v in done)
    detected = sum(v.detected for v in done)
    rate = f", ball found in {100 * detected / frames:.1f}% of frames" if frames else ""
    fps = f" ({result.frames / result.seconds:.1f} frames/s)" if result.seconds and result.frames else ""
    print(f"{len(done)} tracked, {sum(v.status == 'skipped' for v in result.videos)} already complete, "
          f"{result.n_failed} failed; {frames} frames{rate}; {result.seconds:.1f} s{fps}")
    print(f"outputs: {args.out}/tracks/ (Parquet), {args.out}/shots/, {args.out}/csv/"
          + (f", {args.out}/render/" if args.render else "") + f"; run report {args.out}/_runs/{result.run_id}.json")
    return EXIT_PARTIAL if result.n_failed else EXIT_OK


class _LineProgress:
    """Progress messages on stderr, at most one every 2 s (the last always shown)."""

    def __init__(self) -> None:
        self.t0, self.last = time.monotonic(), 0.0

    def __call__(self, message: str) -> None:
        now = time.monotonic()
        if not message.startswith("tracked") or now - self.last >= 2.0:
            self.last = now
            print(f"[{now - self.t0:6.1f} s] {message}", file=sys.stderr, flush=True)


def _cmd_train_tracknet(args: argparse.Namespace) -> int:
    from balltrack.training.tracknet import TrainOptions, train_tracknet

    _init_ray(args)
    opts = TrainOptions(
        data=args.data, out=args.out, config=args.config, val_data=args.val_data or (), workers=args.workers,
        gpus_per_worker=args.gpus_per_worker, epochs=args.epochs, max_steps_per_epoch=args.max_steps,
        batch_size=args.batch_size, lr=args.lr, loss=args.loss, seed=args.seed, resume=args.resume,
        overwrite=args.overwrite, tracking_uri=args.tracking_uri, register_as=args.register_as or None,
        max_failures=args.max_failures,
    )
    result = train_tracknet(opts, progress=lambda m: print(m, file=sys.stderr))
    m = result.metrics
    print(
        f"epoch {m.get('epoch')} step {m.get('step')}: val F1 {m.get('val_f1', 0):.3f} precision "
        f"{m.get('val_precision', 0):.3f} recall {m.get('val_recall', 0):.3f} (best {m.get('best_val_f1', 0):.3f})"
    )
    print(f"best checkpoint: {result.best_checkpoint}")
    print(f"MLflow run {result.mlflow_run_id}; model {result.model_uri}"
          + (f", registered version {result.registered_version}" if result.registered_version else ""))
    return EXIT_OK


def _cmd_tune_tracknet(args: argparse.Namespace) -> int:
    from balltrack.training.tune import tune_tracknet

    _init_ray(args)
    best = tune_tracknet(
        args.data, args.out, samples=args.samples, epochs=args.epochs, max_steps_per_epoch=args.max_steps,
        config=args.config, val_data=args.val_data or (), seed=args.seed,
    )
    print(f"best trial: val F1 {best['val_f1']:.3f} with {best['params']}")
    return EXIT_OK


def _cmd_eval_tracks(args: argparse.Namespace) -> int:
    import json

    from balltrack.tracking.evaluation import evaluate_files

    if args.slices:  # per-slice metrics need the per-frame table and, for contrast, the videos
        from balltrack.report import evaluate_inputs, load_inputs

        inputs = load_inputs(args.labels, pred=args.pred, videos=args.videos or (), source_size=args.source_size)
        report = evaluate_inputs(inputs, protocol=args.protocol, tolerance=args.tolerance, gallery=0).result
    else:
        report = evaluate_files(
            args.pred, args.labels, protocol=args.protocol, tolerance=args.tolerance,
            source_size=args.source_size, videos=args.videos or (),
        )
    text = json.dumps(report, indent=2)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(text + "\n")
    print(text)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from balltrack.report import build_report

    say = (lambda m: None) if args.quiet else (lambda m: print(f"report: {m}", file=sys.stderr, flush=True))
    report = build_report(
        args.out, labels=args.labels, pred=args.pred, videos=args.videos or (), source_size=args.source_size,
        protocol=args.protocol, tolerance=args.tolerance, gallery=args.gallery, title=args.title, progress=say,
    )
    t = report.result["total"]
    ap = "-" if t["ap"] is None else f"{t['ap']:.3f}"
    print(f"{t['n_frames']} frames of {report.result['n_videos']} videos: precision {t['precision']:.3f} recall "
          f"{t['recall']:.3f} F1 {t['f1']:.3f} AP {ap} -> {report.index}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balltrack",
        description="Find the ball, and the moments worth replaying, in sports broadcast video.",
        epilog="Exit codes: 0 ok; 1 failed; 2 bad arguments; 3 finished but some inputs failed.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("synth", help="make synthetic rally clips with exact ball labels")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--clips", type=_positive(int), default=2, help="number of clips (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--size", type=_size, default=(512, 288), metavar="WxH", help="frame size (default 512x288)")
    p.add_argument("--fps", type=_positive(float), default=25.0, help="frame rate (default 25)")
    p.add_argument("--seconds", type=_positive(float), default=8.0, help="length of each clip (default 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser(
        "ingest",
        help="catalog an archive of videos into OUT/videos/",
        description="Probe every input video (local files, directories, globs, s3:// URIs, .parquet "
        "manifests with a 'uri' column) in parallel and write OUT/videos/catalog.parquet with a row "
        "per input: status 'ok', or 'error' with the reason. Exits 3 when some inputs failed.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--out", required=True, help="output directory or s3:// prefix")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser(
        "track",
        help="track the ball in every frame of an archive (the main batch job)",
        description="Decode every input video in keyframe-aligned chunks on Ray Data, run TrackNet in an actor "
        "pool, repair trajectories per camera shot, and write per video: OUT/tracks/video_id=ID/ (Parquet), "
        "OUT/shots/video_id=ID/, OUT/csv/ID.csv (Frame,Visibility,X,Y,Time) and with --render OUT/render/ID.mp4. "
        "A re-run skips videos whose outputs are complete. Exits 3 when some inputs failed (each is listed "
        "with its reason, and in OUT/_runs/RUN.json).",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories, globs, s3:// URIs, .parquet manifests")
    p.add_argument("--out", required=True, help="output directory or s3:// prefix")
    p.add_argument("--model", default="default", metavar="REF",
                   help="checkpoint path, MLflow URI (models:/NAME/VERSION, runs:/ID/model) or 'default' (the bundled tiny model)")
    p.add_argument("--render", action="store_true", help="also write overlay videos with the ball and its trail")
    p.add_argument("--gpus", type=float, default=0, help="GPUs for inference actors (0: CPU; falls back to CPU if none)")
    p.add_argument("--batch-size", type=_positive(int), default=16, help="frame windows per forward pass (default 16)")
    p.add_argument("--actors", type=_positive(int), help="inference actors (default: fill the machine)")
    p.add_argument("--cpus-per-actor", type=_positive(float), help="CPUs (and torch threads) per inference actor")
    p.add_argument("--chunk-s", type=_positive(float), default=30.0, help="seconds per parallel decode chunk (default 30)")
    p.add_argument("--threshold", type=float, default=0.5, help="heatmap threshold for a detection (default 0.5)")
    p.add_argument("--max-gap", type=int, default=5, help="longest gap in frames filled by interpolation (default 5)")
    p.add_argument("--trail", type=int, default=10, help="positions in the overlay's fading trail (default 10)")
    p.add_argument("--overwrite", action="store_true", help="recompute videos whose outputs are complete")
    p.add_argument("--tracking-uri", help="MLflow tracking URI for models:/ and runs:/ (default MLFLOW_TRACKING_URI)")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_track)

    train = sub.add_parser("train", help="train models on Ray Train (tracked in MLflow)")
    tsub = train.add_subparsers(dest="model", metavar="MODEL", required=True)
    p = tsub.add_parser(
        "tracknet",
        help="train TrackNet ball heatmaps from labelled videos",
        description="Train TrackNet on videos with ball labels (a label CSV beside each video, in labels/ or "
        "csvs/). Checkpoints each epoch under OUT (the best by validation F1 is kept as OUT/model/tracknet.pt), "
        "logs to MLflow (sqlite under OUT by default) and registers the model.",
    )
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="directories of labelled videos")
    p.add_argument("--val-data", nargs="+", metavar="DIR", help="held-out videos (default: the last 20%% of --data)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--config", default="tiny", help="preset (tiny, paper) or a JSON/YAML file of TrackNetConfig fields")
    p.add_argument("--workers", type=_positive(int), default=1, help="training workers (DDP)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per worker (0: CPU with gloo)")
    p.add_argument("--epochs", type=_positive(int), default=10)
    p.add_argument("--max-steps", type=_positive(int), help="cap on steps per epoch")
    p.add_argument("--batch-size", type=_positive(int), default=8)
    p.add_argument("--lr", type=_positive(float), default=2e-3)
    p.add_argument("--loss", choices=["wbce", "focal", "bce"], default="wbce")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the run in OUT from its latest checkpoint")
    p.add_argument("--overwrite", action="store_true", help="start over even if OUT holds a run")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default sqlite:///OUT/mlflow.db)")
    p.add_argument("--register-as", default="balltrack-tracknet", help="registered model name ('' to skip)")
    p.add_argument("--max-failures", type=int, default=0, help="worker failures to survive by restoring")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    p.set_defaults(func=_cmd_train_tracknet)

    tune = sub.add_parser("tune", help="hyperparameter search with Ray Tune")
    usub = tune.add_subparsers(dest="model", metavar="MODEL", required=True)
    p = usub.add_parser("tracknet", help="search learning rate, width and loss for TrackNet")
    p.add_argument("--data", nargs="+", required=True, metavar="DIR")
    p.add_argument("--val-data", nargs="+", metavar="DIR")
    p.add_argument("--out", required=True)
    p.add_argument("--config", default="tiny")
    p.add_argument("--samples", type=_positive(int), default=8, help="trials")
    p.add_argument("--epochs", type=_positive(int), default=2)
    p.add_argument("--max-steps", type=_positive(int), help="cap on steps per epoch in each trial")
    p.add_argument("--seed", type=int, default=0, help="seed of the search and of each trial")
    p.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    p.set_defaults(func=_cmd_tune_tracknet)

    ev = sub.add_parser("eval", help="score outputs against labels (JSON out)")
    esub = ev.add_subparsers(dest="what", metavar="WHAT", required=True)
    p = esub.add_parser(
        "tracks",
        help="ball tracks against ball labels (TrackNet protocols)",
        description="TP, FP1, FP2, FN, TN, accuracy, precision, recall, F1 and RMSE, per video and in total. "
        "tracknetv2: tolerance in 512x288 heatmap pixels, distance <= tol is a TP. wasb: tolerance in source "
        "pixels, distance < tol.",
    )
    p.add_argument("--pred", nargs="+", required=True, help="tracks/ dataset dirs (or OUT) or CSVs Frame,Visibility,X,Y")
    p.add_argument("--labels", nargs="+", required=True, help="label files or directories")
    p.add_argument("--tolerance", type=float, default=4.0)
    p.add_argument("--protocol", choices=["tracknetv2", "wasb"], default="tracknetv2")
    p.add_argument("--videos", nargs="+", metavar="DIR", help="the videos, for their sizes")
    p.add_argument("--source-size", type=_size, metavar="WxH", help="size of every source video")
    p.add_argument("--out", help="also write the JSON here")
    p.add_argument("--slices", action="store_true",
                   help="add every metric per slice (speed, size, visibility, contrast, border, shot, video; "
                   "docs/evaluation.md); decodes the videos found (--videos, OUT's catalog, or beside the labels)")
    p.set_defaults(func=_cmd_eval_tracks)

    p = sub.add_parser(
        "report",
        help="an HTML evaluation report: metrics, PR curve, slices, error heatmap, worst frames, trajectories",
        description="Score predictions against labels and write OUT/index.html (static, opens from disk) with "
        "its figures in OUT/img/, and the numbers as OUT/metrics.json and Parquet (frames, slices, per_video, "
        "pr_curve). Videos are found via --videos, the catalog of a track OUT, or beside the label files.",
    )
    p.add_argument("--pred", nargs="+", required=True,
                   help="a `balltrack track` OUT dir (tracks/, shots/), tracks/ datasets or CSVs Frame,Visibility,X,Y[,Score]")
    p.add_argument("--labels", nargs="+", required=True, help="label files or directories")
    p.add_argument("--out", required=True, help="report directory")
    p.add_argument("--videos", nargs="+", metavar="PATH", help="the videos (files or directories)")
    p.add_argument("--source-size", type=_size, metavar="WxH", help="size of every source video, when not found")
    p.add_argument("--protocol", choices=["tracknetv2", "wasb"], default="tracknetv2")
    p.add_argument("--tolerance", type=float, default=4.0)
    p.add_argument("--gallery", type=int, default=12, help="worst frames to show (default 12)")
    p.add_argument("--title", help="page title")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_report)
    return parser


def _version() -> str:
    from balltrack import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    from balltrack.errors import BalltrackError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except (BalltrackError, ValueError) as exc:
        print(f"balltrack {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"balltrack {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
