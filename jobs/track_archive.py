"""Ray Job: track the ball in every frame of an archive (`balltrack track` on a cluster).

    ray job submit --address http://HEAD:8265 --runtime-env jobs/runtime_env.yaml -- \\
        python jobs/track_archive.py s3://archive/season-2026/ --out s3://results/season-2026 \\
        --model models:/balltrack-tracknet/3 --gpus 8 --request-gpus 8 \\
        --decode-resources '{"decode": 1}' --inference-resources '{"inference": 1}'

A thin wrapper over `balltrack.pipelines.track.track`: the same job as the CLI, with
the options a cluster needs: place decoding and inference on node groups by custom
resources, ask the autoscaler for the GPU nodes before the job decides between GPU
and CPU inference, and write a JSON summary. Re-submitting the same command resumes:
videos whose `OUT/_done/ID.json` marker exists are skipped.

Exit codes (as the CLI): 0 all done; 1 the job failed; 2 bad arguments or input;
3 the job finished but some videos failed (each is in OUT/_runs/RUN.json with its reason).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def resources(text: str) -> dict[str, float]:
    """A JSON object of Ray resource amounts, e.g. '{"decode": 1}'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"decode\": 1}}': {exc}") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and v > 0 for k, v in value.items()
    ):
        raise argparse.ArgumentTypeError(f"expected a JSON object of positive amounts, got {text!r}")
    return {k: float(v) for k, v in value.items()}


def json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"expected a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="track_archive.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="files, directories, globs, s3:// URIs or prefixes, .parquet manifests")
    p.add_argument("--out", required=True, help="output directory or s3:// prefix (shared by every node)")
    p.add_argument("--model", default="default", metavar="REF",
                   help="checkpoint path or s3:// URI, MLflow URI (models:/NAME/VERSION) or 'default'")
    p.add_argument("--tracking-uri", help="MLflow tracking URI for models:/ and runs:/ references")
    p.add_argument("--gpus", type=float, default=0, help="GPUs in total for inference actors (0: CPU actors)")
    p.add_argument("--actors", type=int, help="inference actors (default: one per GPU, or fill the CPUs)")
    p.add_argument("--cpus-per-actor", type=float,
                   help="CPUs per inference actor (set it when actors are placed by --inference-resources)")
    p.add_argument("--batch-size", type=int, default=16, help="frame windows per forward pass (default 16)")
    p.add_argument("--chunk-s", type=float, default=30.0, help="seconds per parallel decode task (default 30)")
    p.add_argument("--decode-resources", type=resources, metavar="JSON",
                   help='custom resources each decode task asks, e.g. \'{"decode": 1}\' (nodes offering them)')
    p.add_argument("--inference-resources", type=resources, metavar="JSON",
                   help='custom resources each inference actor asks, e.g. \'{"inference": 1}\'')
    p.add_argument("--request-gpus", type=int, default=0, metavar="N",
                   help="ask the autoscaler for N GPUs and wait for them before starting (an autoscaling GPU "
                        "group starts at 0 nodes, and the job picks GPU or CPU inference from what it sees)")
    p.add_argument("--wait-timeout", type=float, default=900, help="seconds to wait for --request-gpus (default 900)")
    p.add_argument("--storage-options", type=json_object, metavar="JSON",
                   help="s3fs options (default: the standard AWS variables and the node's IAM role)")
    p.add_argument("--render", action="store_true", help="also write overlay videos")
    p.add_argument("--overwrite", action="store_true", help="recompute videos whose outputs are complete")
    p.add_argument("--summary", metavar="PATH", help="also write the per-video outcome as JSON here (local path)")
    p.add_argument("--address", help="Ray address (default: RAY_ADDRESS, set by `ray job submit`)")
    return p


def wait_for_gpus(n: int, timeout: float, say) -> None:
    """Ask the autoscaler for ``n`` GPUs and wait until the cluster has them."""
    import ray
    from ray.autoscaler.sdk import request_resources

    request_resources(bundles=[{"GPU": 1}] * n)
    deadline = time.monotonic() + timeout
    while (have := ray.cluster_resources().get("GPU", 0)) < n:
        if time.monotonic() > deadline:
            say(f"only {have:g} of {n} GPUs after {timeout:g} s: continuing with what there is")
            return
        say(f"waiting for GPU nodes: {have:g}/{n}")
        time.sleep(10)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import ray

    from balltrack.errors import BalltrackError
    from balltrack.pipelines.track import TrackOptions, track

    t0 = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - t0:7.1f} s] {message}", flush=True)

    ray.init(address=args.address, log_to_driver=False, configure_logging=False)
    say(f"cluster: {json.dumps({k: v for k, v in sorted(ray.cluster_resources().items()) if not k.startswith('node:')})}")
    if args.request_gpus:
        wait_for_gpus(args.request_gpus, args.wait_timeout, say)
    opts = TrackOptions(
        inputs=args.inputs, out=args.out, model=args.model, render=args.render, gpus=args.gpus,
        batch_size=args.batch_size, actors=args.actors, cpus_per_actor=args.cpus_per_actor, chunk_s=args.chunk_s,
        overwrite=args.overwrite, tracking_uri=args.tracking_uri, storage_options=args.storage_options,
        decode_resources=args.decode_resources, inference_resources=args.inference_resources,
    )
    try:
        result = track(opts, progress=say)
    except BalltrackError as exc:
        print(f"track_archive: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if args.request_gpus:
            from ray.autoscaler.sdk import request_resources

            request_resources(bundles=[])  # let the autoscaler scale the GPU nodes down again
    counts = {s: sum(v.status == s for v in result.videos) for s in ("done", "skipped", "error")}
    for v in result.videos:
        if v.status == "error":
            print(f"error: {v.uri}: {v.error}", file=sys.stderr)
    rate = result.frames / result.seconds if result.seconds else 0.0
    say(f"{counts['done']} tracked, {counts['skipped']} already complete, {counts['error']} failed; "
        f"{result.frames} frames in {result.seconds:.1f} s ({rate:.1f} frames/s); "
        f"run report {args.out.rstrip('/')}/_runs/{result.run_id}.json")
    if args.summary:
        summary = {"run_id": result.run_id, "model": result.model, "seconds": result.seconds, "frames": result.frames,
                   "videos": [{k: v for k, v in o.__dict__.items() if k != "outputs"} for o in result.videos]}
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    return EXIT_PARTIAL if counts["error"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
