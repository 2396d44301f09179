"""Load on the Serve application: concurrent clients posting short clips over HTTP.

Starts a local Ray (2 CPUs) and Serve on 127.0.0.1 (one API replica, one TrackNet
replica: fixed, so the two batching runs compare like with like), then:

1. N clients (default 16) post short synthetic clips (multipart uploads) for a bounded
   time with ``@serve.batch`` on (max_batch_size 8): p50/p99 latency, requests/s,
   frames/s, errors (must be 0), and how many blocks the batches held;
2. the same with max_batch_size 1 (set on the running app through its user_config);
3. a mixed run of at least 500 requests, valid and invalid (not a video, truncated,
   too large, too long, URI outside the roots, traversal, unknown model, no token,
   bad JSON): counts per status; any 5xx fails the run (exit 1).

Traffic goes only to 127.0.0.1; every loop is bounded in count and time. Writes
bench/out/serve_load.json.

    python bench/serve_load.py [--clients 16] [--seconds 30] [--mixed 520] [--model REF]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._media import OUT  # noqa: E402

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
APP = "balltrack-bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _model_ref(work: Path, ref: str | None) -> str:
    from balltrack.models.registry import default_checkpoint_path

    if ref:
        return ref
    if default_checkpoint_path().exists():
        return "default"
    import torch

    from balltrack.models.checkpoint import save_checkpoint
    from balltrack.models.tracknet import build_tracknet, config_from_name

    torch.manual_seed(0)  # same network and cost as the bundled tiny model, untrained
    cfg = config_from_name("tiny")
    return str(save_checkpoint(work / "tiny" / "tracknet.pt", build_tracknet(cfg), cfg.input_spec()))


def _settings(root: Path, spool: Path, model: str, max_batch_size: int):
    from balltrack.serve.settings import ServeSettings

    return ServeSettings.model_validate({
        "ingress": {"limits": {"max_upload_mb": 2, "max_duration_s": 4, "max_frames": 100},
                    "allowed_roots": [str(root)], "token": TOKEN, "tmp_dir": str(spool)},
        "tracknet": {"models": {"m": model}, "default_model": "m", "max_batch_size": max_batch_size,
                     "batch_wait_timeout_s": 0.01},
        "ingress_replicas": {"num_cpus": 0.5, "max_ongoing_requests": 32, "num_replicas": 1},
        "tracknet_replicas": {"num_cpus": 1.0, "max_ongoing_requests": 64, "num_replicas": 1},
    })


def _load(url: str, bodies: list[tuple[str, bytes, int]], clients: int, seconds: float) -> dict:
    """``clients`` threads post clips until ``seconds`` pass; latency of each request."""
    import requests

    lat: list[float] = []
    statuses: Counter = Counter()
    frames = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        s = requests.Session()
        k = i
        while time.monotonic() < deadline:
            name, data, n = bodies[k % len(bodies)]
            k += 1
            t = time.monotonic()
            try:
                r = s.post(f"{url}/v1/track", files={"file": (name, data, "video/mp4")}, headers=AUTH, timeout=120)
                code = r.status_code
            except requests.RequestException:
                code = -1
            dt = time.monotonic() - t
            with lock:
                statuses[code] += 1
                if code == 200:
                    lat.append(dt)
                    frames[0] += n

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")  # noqa: E731
    ok = statuses.get(200, 0)
    return {"requests": sum(statuses.values()), "ok": ok, "errors": sum(statuses.values()) - ok,
            "p50_ms": 1000 * q(0.50), "p99_ms": 1000 * q(0.99), "mean_ms": 1000 * statistics.fmean(lat) if lat else 0,
            "requests_per_s": ok / wall, "frames_per_s": frames[0] / wall, "seconds": wall,
            "statuses": {str(k): v for k, v in statuses.items()}}


def _mixed(url: str, root: Path, bodies, bad: dict[str, Path], n: int, clients: int) -> dict:
    import requests

    kinds = ["valid"] * 6 + ["text", "truncated", "too_large", "too_long", "outside", "traversal",
                             "unknown_model", "no_token", "bad_json", "uri_valid"]
    plan = [kinds[i % len(kinds)] for i in range(n)]
    random.Random(0).shuffle(plan)
    by_kind: dict[str, Counter] = {k: Counter() for k in kinds}
    lock = threading.Lock()
    big = os.urandom(int(2.2 * 2**20))

    def one(s, kind: str, i: int) -> int:
        name, data, _ = bodies[i % len(bodies)]
        post = lambda **kw: s.post(f"{url}/v1/track", timeout=120, **kw)  # noqa: E731
        upload = lambda p, **kw: post(files={"file": (p.name, p.read_bytes(), "video/mp4")}, **kw)  # noqa: E731
        if kind == "valid":
            return post(files={"file": (name, data, "video/mp4")}, headers=AUTH).status_code
        if kind in ("text", "truncated", "too_long"):
            return upload(bad[kind], headers=AUTH).status_code
        if kind == "too_large":
            return post(data=big, headers={**AUTH, "Content-Type": "video/mp4"}).status_code
        if kind == "outside":
            return post(json={"uri": str(bad["too_long"])}, headers=AUTH).status_code
        if kind == "traversal":
            return post(json={"uri": f"{root}/../{bad['text'].parent.name}/x.mp4"}, headers=AUTH).status_code
        if kind == "unknown_model":
            return s.post(f"{url}/v1/track?model=nope", files={"file": (name, data, "video/mp4")}, headers=AUTH,
                          timeout=120).status_code
        if kind == "no_token":
            return post(files={"file": (name, data, "video/mp4")}).status_code
        if kind == "bad_json":
            return post(data=b"{oops", headers={**AUTH, "Content-Type": "application/json"}).status_code
        if kind == "uri_valid":
            return post(json={"uri": str(root / name)}, headers=AUTH).status_code
        raise ValueError(kind)

    queue = list(enumerate(plan))

    def client() -> None:
        s = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                i, kind = queue.pop()
            try:
                code = one(s, kind, i)
            except requests.RequestException as exc:
                code = f"conn:{type(exc).__name__}"
                s = requests.Session()
            with lock:
                by_kind[kind][code] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    total = Counter()
    for c in by_kind.values():
        total.update(c)
    return {"requests": n, "seconds": time.monotonic() - t0,
            "by_kind": {k: {str(s): v for s, v in c.items()} for k, c in by_kind.items()},
            "by_status": {str(s): v for s, v in sorted(total.items(), key=str)},
            "server_errors": sum(v for s, v in total.items() if isinstance(s, int) and s >= 500),
            "connection_errors": sum(v for s, v in total.items() if not isinstance(s, int))}


def _row(label: str, r: dict, batches: dict) -> str:
    blocks = sum(int(k) * v for k, v in batches.items())
    mean = blocks / max(1, sum(batches.values()))
    return (f"{label:<22} {r['requests']:>5} req  p50 {r['p50_ms']:7.0f} ms  p99 {r['p99_ms']:7.0f} ms  "
            f"{r['requests_per_s']:6.2f} req/s  {r['frames_per_s']:7.1f} frames/s  errors {r['errors']}  "
            f"(blocks per batch: mean {mean:.2f}, max {max((int(k) for k in batches), default=0)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=30, help="per load run")
    ap.add_argument("--mixed", type=int, default=520, help="requests in the mixed run (>= 500)")
    ap.add_argument("--clip-seconds", type=float, default=1.0)
    ap.add_argument("--size", default="320x180", help="clip size WxH")
    ap.add_argument("--model", help="model REF (default: the bundled model, else an untrained tiny one)")
    args = ap.parse_args()

    import ray
    from ray import serve

    from balltrack.serve.app import build_app, wait_healthy
    from balltrack.synth import generate_clips
    from tests._videos import make_video

    work = Path(tempfile.mkdtemp(prefix="balltrack-serve-bench-"))
    root, spool, badd = work / "clips", work / "spool", work / "bad"
    for d in (root, spool, badd):
        d.mkdir()
    w, h = (int(v) for v in args.size.split("x"))
    clips = generate_clips(root, clips=4, seed=11, size=(w, h), fps=25, seconds=args.clip_seconds)
    from balltrack.video import probe_video

    bodies = [(p.name, p.read_bytes(), probe_video(str(p)).n_frames) for p in clips]
    bad = {"text": badd / "text.mp4", "truncated": badd / "truncated.mp4",
           "too_long": make_video(badd / "long.mp4", n=130, size=(160, 96))}
    bad["text"].write_bytes(b"not a video\n" * 100)
    bad["truncated"].write_bytes(bodies[0][1][: len(bodies[0][1]) // 2])
    model = _model_ref(work, args.model)

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    port = _free_port()
    results: dict = {"clients": args.clients, "seconds": args.seconds, "clip_frames": bodies[0][2],
                     "clip_size": args.size, "model": model}
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        url = f"http://127.0.0.1:{port}"
        handle = None
        print(f"serve on {url}; {args.clients} clients, {args.seconds:.0f} s per run, clips of "
              f"{bodies[0][2]} frames at {args.size}, model {model}", flush=True)
        for batch in (8, 1):
            serve.run(build_app(_settings(root, spool, model, batch)), name=APP, route_prefix="/")
            wait_healthy(url, timeout_s=180)
            handle = serve.get_deployment_handle("TrackNet", app_name=APP)
            _load(url, bodies, 4, 5)  # warm-up: model loaded, threads started
            handle.reset_stats.remote().result()
            r = _load(url, bodies, args.clients, args.seconds)
            stats = handle.stats.remote().result()
            results[f"max_batch_size_{batch}"] = {**r, "batches": stats["batches"]}
            print(_row(f"@serve.batch max {batch}:", r, stats["batches"]), flush=True)
        b, one = results["max_batch_size_8"], results["max_batch_size_1"]
        gain = b["frames_per_s"] / one["frames_per_s"] if one["frames_per_s"] else float("nan")
        results["batch_speedup"] = gain
        print(f"throughput @serve.batch (max 8) / batch size 1: {gain:.2f}x", flush=True)

        serve.run(build_app(_settings(root, spool, model, 8)), name=APP, route_prefix="/")
        wait_healthy(url, timeout_s=180)
        m = _mixed(url, root, bodies, bad, max(500, args.mixed), args.clients)
        results["mixed"] = m
        print(f"mixed run: {m['requests']} requests in {m['seconds']:.1f} s; by status {m['by_status']}; "
              f"5xx: {m['server_errors']}; connection errors: {m['connection_errors']}", flush=True)
        for kind, counts in m["by_kind"].items():
            print(f"  {kind:<14} {counts}", flush=True)
        leftover = list(spool.iterdir())
        results["temporary_files_left"] = len(leftover)
        print(f"temporary upload files left: {len(leftover)}", flush=True)
    finally:
        serve.shutdown()
        ray.shutdown()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "serve_load.json").write_text(json.dumps(results, indent=1))
    failed = (results["mixed"]["server_errors"] or results["mixed"]["connection_errors"]
              or b["errors"] or one["errors"] or results["temporary_files_left"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
