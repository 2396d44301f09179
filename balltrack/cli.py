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
