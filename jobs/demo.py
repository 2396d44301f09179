"""The demo job: synthesize a rally clip, catalog it, decode it on a local Ray
and print a summary. `make demo` runs it; it needs no data and no network.

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
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the synthetic clip")
    args = parser.parse_args(argv)

    import ray

    import balltrack
    from balltrack.cli import main as cli

    out = Path(args.out)
    t0 = time.monotonic()
    print(f"[1/3] synthesizing a rally clip into {out / 'clips'}")
    cli(["synth", "--out", str(out / "clips"), "--clips", "1", "--seconds", str(args.seconds), "-q"])
    print(f"[2/3] cataloging {out / 'clips'} into {out / 'videos'}")
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    code = cli(["ingest", str(out / "clips"), "--out", str(out), "-q"])
    if code != 0:
        return code
    print("[3/3] decoding with read_video_frames (512x288, keyframe-aligned chunks of 2 s)")
    ds = balltrack.read_video_frames([str(out / "clips")], size=(512, 288), chunk_s=2.0)
    n, videos = 0, set()
    for batch in ds.iter_batches(batch_size=128, batch_format="numpy"):
        n += len(batch["frame_index"])
        videos.update(map(str, batch["video_id"]))
    print(f"decoded {n} frames of {len(videos)} video(s) in {time.monotonic() - t0:.1f} s")
    print(f"outputs: clips and labels in {out / 'clips'}, catalog {out / 'videos' / 'catalog.parquet'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
