"""Ray Job: train TrackNet on Ray Train (`balltrack train tracknet` on a cluster).

    ray job submit --address http://HEAD:8265 --runtime-env jobs/runtime_env.yaml -- \\
        python jobs/train_tracknet.py --data /mnt/shared/labelled/ --out /mnt/shared/runs/tn-paper \\
        --config paper --workers 4 --gpus-per-worker 1 --epochs 30 --max-failures 3

A thin wrapper over `balltrack.training.tracknet.train_tracknet`. What a cluster
adds: workers fail (a node is reclaimed, an OOM): `--max-failures` restarts the
worker group from the last checkpoint (Ray Train's FailureConfig), and a re-submitted
job continues the run in OUT (`--resume auto`, the default: resume if OUT holds a run,
else start one). OUT must be storage every node sees at the same path (EFS/NFS/a
shared volume): Ray Train writes checkpoints there from the workers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train_tracknet.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="directories of labelled videos")
    p.add_argument("--val-data", nargs="+", metavar="DIR", help="held-out videos (default: the last 20%% of --data)")
    p.add_argument("--out", required=True, help="run directory on storage shared by every node")
    p.add_argument("--config", default="tiny", help="preset (tiny, paper) or a JSON/YAML file of TrackNetConfig fields")
    p.add_argument("--workers", type=int, default=1, help="training workers (DDP)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per worker (0: CPU with gloo)")
    p.add_argument("--cpus-per-worker", type=float, default=1.0, help="CPUs per worker (and torch threads)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--max-steps", type=int, help="cap on steps per epoch")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--loss", choices=["wbce", "focal", "bce"], default="wbce")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-failures", type=int, default=3,
                   help="worker failures to survive by restoring the last checkpoint (default 3; -1: always)")
    p.add_argument("--resume", choices=["auto", "yes", "no"], default="auto",
                   help="continue the run in OUT: auto (if there is one, default), yes (it must exist), no")
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default sqlite:///OUT/mlflow.db)")
    p.add_argument("--register-as", default="balltrack-tracknet", help="registered model name ('' to skip)")
    p.add_argument("--time-budget-s", type=float, help="stop training after this many seconds")
    p.add_argument("--address", help="Ray address (default: RAY_ADDRESS, set by `ray job submit`)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import ray

    from balltrack.errors import BalltrackError
    from balltrack.training.tracknet import RUN_NAME, TrainOptions, train_tracknet

    t0 = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - t0:7.1f} s] {message}", flush=True)

    exists = (Path(args.out) / "ray" / RUN_NAME).exists()
    resume = exists if args.resume == "auto" else args.resume == "yes"
    if exists and resume:
        say(f"resuming the run in {args.out}")
    ray.init(address=args.address, log_to_driver=False, configure_logging=False)
    opts = TrainOptions(
        data=args.data, out=args.out, config=args.config, val_data=args.val_data or (), workers=args.workers,
        gpus_per_worker=args.gpus_per_worker, cpus_per_worker=args.cpus_per_worker, epochs=args.epochs,
        max_steps_per_epoch=args.max_steps, batch_size=args.batch_size, lr=args.lr, loss=args.loss, seed=args.seed,
        resume=resume, tracking_uri=args.tracking_uri, register_as=args.register_as or None,
        max_failures=args.max_failures, time_budget_s=args.time_budget_s,
    )
    try:
        result = train_tracknet(opts, progress=say)
    except BalltrackError as exc:
        print(f"train_tracknet: error: {exc}", file=sys.stderr)
        return 2
    m = result.metrics
    say(f"epoch {m.get('epoch')} step {m.get('step')}: val F1 {m.get('val_f1', 0):.3f} (best {m.get('best_val_f1', 0):.3f})")
    say(f"best checkpoint {result.best_checkpoint}; MLflow run {result.mlflow_run_id}; model {result.model_uri}"
        + (f" (registered version {result.registered_version})" if result.registered_version else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
