"""``balltrack track``: an archive in, every frame's ball position out.

Composition (no algorithm lives here):
  probe (catalog) -> keyframe chunks overlapping by the model's window
  -> Ray Data read tasks decode at the model's input size
  -> an actor pool runs TrackNet (model loaded once per actor) and scores cuts
  -> the driver gathers each video's rows; when a video is complete it repairs
     the trajectory per shot and writes tracks/, shots/, the CSV (and queues the
     overlay render), then a ``_done`` marker that lets a re-run skip it.

Videos go through in groups bounded by frame count, so the driver holds only one
group's per-frame rows (about 60 bytes a frame), whatever the archive's size.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import ray

from balltrack.catalog import catalog_row, catalog_table, write_catalog
from balltrack.errors import InputError, VideoError
from balltrack.io.atomic import exists, put_file_atomic, remove, write_bytes_atomic, write_parquet_atomic
from balltrack.io.storage import VideoSource, filesystem_for, is_remote, resolve_inputs
from balltrack.models.registry import ResolvedModel, resolve_model
from balltrack.pipelines.frames import VideoFramesDatasource
from balltrack.pipelines.planning import probe_many
from balltrack.tracking.video_track import TRACKS_SCHEMA, finalize_track, seed_csv
from balltrack.video.decode import DEFAULT_BATCH_FRAMES, INTERPOLATION
from balltrack.video.plan import DEFAULT_CHUNK_S, Chunk, plan_chunks
from balltrack.video.probe import VideoInfo

log = logging.getLogger(__name__)

GROUP_MAX_FRAMES = 2_000_000  # ~120 MB of gathered rows in the driver per group
DECODE_CPUS = 0.25  # per read task: decoding at model size is ~10% of the work


@dataclass
class TrackOptions:
    inputs: Sequence[str]
    out: str
    model: str = "default"
    render: bool = False
    gpus: float = 0  # GPUs in total for inference actors (0: CPU)
    batch_size: int = 16  # windows per forward pass
    actors: int | None = None  # inference actors (default: fill the machine)
    cpus_per_actor: float | None = None
    chunk_s: float = DEFAULT_CHUNK_S
    threshold: float = 0.5
    max_gap: int = 5  # frames filled by interpolation between detections
    trail: int = 10  # positions in the overlay's fading trail
    overwrite: bool = False
    tracking_uri: str | None = None
    storage_options: Mapping[str, Any] | None = None
    decode_resources: Mapping[str, float] | None = None  # e.g. {"decode": 0.1}: place decode on such nodes
    inference_resources: Mapping[str, float] | None = None
    group_max_frames: int = GROUP_MAX_FRAMES


@dataclass
class VideoOutcome:
    video_id: str
    uri: str
    status: str  # 'done' | 'skipped' | 'error'
    frames: int = 0
    detected: int = 0
    interpolated: int = 0
    shots: int = 0
    error: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class TrackResult:
    run_id: str
    model: str
    videos: list[VideoOutcome]
    seconds: float
    frames: int
    steady_frames_per_s: float = 0.0  # from the first output rows to the last (start-up excluded)

    @property
    def n_failed(self) -> int:
        return sum(v.status == "error" for v in self.videos)


# ---------------------------------------------------------------- paths under OUT


def output_paths(out: str, video_id: str) -> dict[str, str]:
    root = out.rstrip("/")
    return {
        "tracks": f"{root}/tracks/video_id={video_id}/part-0.parquet",
        "shots": f"{root}/shots/video_id={video_id}/part-0.parquet",
        "csv": f"{root}/csv/{video_id}.csv",
        "render": f"{root}/render/{video_id}.mp4",
        "done": f"{root}/_done/{video_id}.json",
    }


def is_complete(out: str, video_id: str, render: bool, storage_options=None) -> bool:
    """A video is complete when its marker exists (written after every output)
    and, if a render is asked, the render exists too."""
    paths = output_paths(out, video_id)
    if not exists(paths["done"], storage_options):
        return False
    return not render or exists(paths["render"], storage_options)


# ---------------------------------------------------------------- inference actor


class TrackNetPredictor:
    """Ray Data actor: the model is loaded once; each call takes one decoded block
    (one chunk's frames, led by ``in_frames - 1`` context frames) and returns a
    row per owned frame: position, score and the frame's cut score."""

    def __init__(self, checkpoint_ref, source_sizes: Mapping[str, tuple[int, int]], *, threshold: float,
                 batch_size: int, threads: int, use_gpu: bool) -> None:
        import torch

        from balltrack.models.checkpoint import load_tracknet

        checkpoint = ray.get(checkpoint_ref[0]) if isinstance(checkpoint_ref, list) else checkpoint_ref
        torch.set_num_threads(max(1, threads))
        self.device = torch.device("cuda" if use_gpu and torch.cuda.is_available() else "cpu")
        self.model, self.spec, _ = load_tracknet(checkpoint)
        self.model.to(self.device)
        self.sizes = dict(source_sizes)
        self.threshold, self.batch_size = threshold, batch_size

    def __call__(self, block: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from balltrack.tracking.video_track import predict_block_rows

        ids = np.unique(block["video_id"])
        if len(ids) != 1:  # a read task yields blocks of one chunk: never mixed
            raise ValueError(f"a block mixes videos {list(ids)[:3]}")
        video_id = str(ids[0])
        if "error" in block:  # a chunk that failed to decode: pass its reason on
            rows = _empty_rows(1)
            rows.update(video_id=np.array([video_id], dtype=object), frame_index=np.array([-1]),
                        error=np.asarray(block["error"][:1], dtype=object))
            return rows
        rows = predict_block_rows(self.model, self.spec, block, source_size=self.sizes[video_id],
                                  threshold=self.threshold, batch_size=self.batch_size, device=self.device)
        n = len(rows["frame_index"])
        return {"error": np.full(n, None, dtype=object), "video_id": np.full(n, video_id, dtype=object), **rows}


def _empty_rows(n: int = 0) -> dict[str, np.ndarray]:
    return {"error": np.full(n, None, dtype=object), "video_id": np.full(n, "", dtype=object),
            "frame_index": np.zeros(n, np.int64), "pts_s": np.full(n, np.nan), "visible": np.zeros(n, bool),
            "x": np.full(n, np.nan), "y": np.full(n, np.nan), "score": np.zeros(n, np.float32),
            "change": np.full(n, np.nan)}


# ---------------------------------------------------------------- per-video finish


def finish_video(video_id: str, rows: dict[str, np.ndarray], info: VideoInfo, *, out: str, model_name: str,
                 run_id: str, max_gap: int, storage_options=None) -> tuple[VideoOutcome, pa.Table]:
    """Finalize one video's rows (cuts, trajectory repair) and write tracks/,
    shots/ and the CSV. Returns the outcome and the tracks table written."""
    from balltrack.video.shots import shots_table

    table, cuts = finalize_track(rows, width=info.width, height=info.height, max_gap=max_gap, model=model_name,
                                 run_id=run_id)
    n = table.num_rows
    paths = output_paths(out, video_id)
    write_parquet_atomic(table, paths["tracks"], storage_options)
    write_parquet_atomic(shots_table(video_id, cuts, n).drop(["video_id"]), paths["shots"], storage_options)
    write_bytes_atomic(paths["csv"], seed_csv(table).encode(), storage_options)
    src = np.asarray(table.column("source").to_pylist(), dtype=object)
    outcome = VideoOutcome(video_id, info.uri, "done", frames=n, detected=int((src == "detected").sum()),
                           interpolated=int((src == "interpolated").sum()), shots=len(cuts) + (1 if n else 0),
                           outputs={k: v for k, v in paths.items() if k in ("tracks", "shots", "csv")})
    return outcome, table


def write_done(out: str, outcome: VideoOutcome, *, run_id: str, model: ResolvedModel, storage_options=None) -> None:
    marker = {"video_id": outcome.video_id, "uri": outcome.uri, "frames": outcome.frames, "run_id": run_id,
              "model": model.name, "model_sha256": model.sha256, "outputs": outcome.outputs}
    write_bytes_atomic(output_paths(out, outcome.video_id)["done"], json.dumps(marker, indent=1).encode(),
                       storage_options)


@ray.remote(num_cpus=0.5, max_retries=2)
def _render_task(uri: str, target: str, track: dict, trail: int, storage_options) -> str:
    import tempfile
    from pathlib import Path

    from balltrack.video.overlay import render_overlay

    if not is_remote(target):
        return str(render_overlay(uri, target, track, trail=trail, storage_options=storage_options))
    with tempfile.TemporaryDirectory() as tmp:
        local = render_overlay(uri, Path(tmp) / "render.mp4", track, trail=trail, storage_options=storage_options)
        return put_file_atomic(local, target, storage_options)


# ---------------------------------------------------------------- the job


def track(opts: TrackOptions, progress: Callable[[str], None] | None = None) -> TrackResult:
    say = progress or (lambda m: log.info(m))
    t0 = time.monotonic()
    run_id = time.strftime("track-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    model = resolve_model(opts.model, tracking_uri=opts.tracking_uri, storage_options=opts.storage_options)
    from balltrack.models.checkpoint import read_checkpoint
    from balltrack.models.preprocess import InputSpec

    spec = InputSpec.from_dict(read_checkpoint(model.checkpoint)["input_spec"])
    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, log_to_driver=False, configure_logging=False)

    sources = resolve_inputs(list(opts.inputs), storage_options=opts.storage_options)
    if not sources:
        raise InputError("no input videos")
    say(f"probing {len(sources)} video(s)")
    probes = probe_many(sources, opts.storage_options)
    write_catalog(catalog_table(catalog_row(s.video_id, s.uri, r) for s, r in zip(sources, probes)), opts.out,
                  filesystem_for(opts.out, opts.storage_options))

    outcomes: dict[str, VideoOutcome] = {}
    todo: list[tuple[VideoSource, VideoInfo]] = []
    for s, r in zip(sources, probes):
        if isinstance(r, VideoError):
            outcomes[s.video_id] = VideoOutcome(s.video_id, s.uri, "error", error=r.reason)
        elif not opts.overwrite and is_complete(opts.out, s.video_id, opts.render, opts.storage_options):
            outcomes[s.video_id] = VideoOutcome(s.video_id, s.uri, "skipped", frames=r.n_frames)
        else:
            if opts.overwrite:
                remove(output_paths(opts.out, s.video_id)["done"], opts.storage_options)
            _remove_stale_temps(opts.out, s.video_id)
            todo.append((s, r))
    skipped = sum(o.status == "skipped" for o in outcomes.values())
    say(f"{len(todo)} to track, {skipped} already complete, {len(outcomes) - skipped} failed to probe "
        f"(model {model.name}, run {run_id})")

    checkpoint_ref = ray.put(model.checkpoint)
    renders: dict[ray.ObjectRef, str] = {}
    frames_total = sum(i.n_frames for _, i in todo)
    frames_done = 0
    steady = _Steady()
    for group in _groups(todo, opts.group_max_frames):
        chunks: list[Chunk] = []
        expected: dict[str, int] = {}
        infos = {s.video_id: i for s, i in group}
        for s, info in group:
            planned = plan_chunks(info, s.video_id, chunk_s=opts.chunk_s, context_frames=spec.in_frames - 1)
            chunks.extend(planned)
            expected[s.video_id] = sum(c.end_pos - c.start_pos for c in planned)
        gathered: dict[str, list[dict]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        errors: dict[str, str] = {}
        ds = _inference_dataset(chunks, infos, spec, checkpoint_ref, opts)
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=4):
            if not len(batch["frame_index"]):
                continue
            steady.add(len(batch["frame_index"]))
            failed = batch["frame_index"] < 0
            for vid, reason in zip(batch["video_id"][failed], batch["error"][failed]):
                errors.setdefault(str(vid), str(reason))
            batch = {k: v[~failed] for k, v in batch.items() if k != "error"}
            for vid in np.unique(batch["video_id"]):
                sel = batch["video_id"] == vid
                vid = str(vid)
                gathered[vid].append({k: v[sel] for k, v in batch.items() if k != "video_id"})
                counts[vid] += int(sel.sum())
                frames_done += int(sel.sum())
                if counts[vid] == expected[vid]:
                    outcomes[vid] = _finish(vid, gathered.pop(vid), infos[vid], opts, model, run_id, renders)
            _collect_renders(renders, outcomes, opts, model, run_id, wait=False)
            say(f"tracked {frames_done}/{frames_total} frames ({len(outcomes) - skipped} of {len(sources) - skipped} videos)")
        for vid in expected:
            if vid in outcomes:
                continue
            got = counts.get(vid, 0)
            why = errors.get(vid, "the stream ended early")
            outcomes[vid] = VideoOutcome(vid, infos[vid].uri, "error", frames=got,
                                         error=f"decoded {got} of {expected[vid]} frames: {why}; nothing written")
    if renders:
        say(f"waiting for {len(renders)} overlay render(s)")
    _collect_renders(renders, outcomes, opts, model, run_id, wait=True)
    result = TrackResult(run_id, model.name, [outcomes[s.video_id] for s in sources], time.monotonic() - t0,
                         frames_done, steady.rate())
    _write_run_report(opts.out, result, opts.storage_options)
    return result


class _Steady:
    """Frames per second after the first output batch: throughput without start-up."""

    def __init__(self) -> None:
        self.first_t = self.last_t = None
        self.first_n = self.n = 0

    def add(self, n: int) -> None:
        now = time.monotonic()
        if self.first_t is None:
            self.first_t, self.first_n = now, n
        self.last_t, self.n = now, self.n + n

    def rate(self) -> float:
        if self.first_t is None or self.last_t <= self.first_t:
            return 0.0
        return (self.n - self.first_n) / (self.last_t - self.first_t)


def _collect_renders(renders, outcomes, opts, model, run_id, *, wait: bool) -> None:
    """Mark videos complete whose render finished (all of them when ``wait``)."""
    if not renders:
        return
    ready, _ = ray.wait(list(renders), num_returns=len(renders), timeout=None if wait else 0)
    for ref in ready:
        vid = renders.pop(ref)
        try:
            outcomes[vid].outputs["render"] = ray.get(ref)
        except Exception as exc:
            outcomes[vid].status, outcomes[vid].error = "error", f"render failed: {_short(exc)}"
            continue
        write_done(opts.out, outcomes[vid], run_id=run_id, model=model, storage_options=opts.storage_options)


def _finish(vid, parts, info, opts, model, run_id, renders) -> VideoOutcome:
    rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    try:
        outcome, table = finish_video(vid, rows, info, out=opts.out, model_name=model.name, run_id=run_id,
                               max_gap=opts.max_gap, storage_options=opts.storage_options)
    except Exception as exc:
        log.exception("finishing %s failed", vid)
        return VideoOutcome(vid, info.uri, "error", error=f"writing outputs failed: {_short(exc)}")
    if not opts.render:  # the marker goes last: a killed run redoes this video, never half of it
        write_done(opts.out, outcome, run_id=run_id, model=model, storage_options=opts.storage_options)
    else:
        track_cols = {c: table.column(c).to_numpy(zero_copy_only=False) for c in ("frame_index", "visible", "x", "y")}
        ref = _render_task.options(resources=dict(opts.decode_resources or {}) or None).remote(
            info.uri, output_paths(opts.out, vid)["render"], track_cols, opts.trail, opts.storage_options)
        renders[ref] = vid
    return outcome


def _inference_dataset(chunks, infos, spec, checkpoint_ref, opts: TrackOptions):
    cpus = float(ray.cluster_resources().get("CPU", 1))
    gpus_available = float(ray.cluster_resources().get("GPU", 0))
    use_gpu = opts.gpus > 0 and gpus_available > 0
    if opts.gpus > 0 and not use_gpu:
        log.warning("--gpus %s asked but the cluster has no GPU: running inference on CPU", opts.gpus)
    if use_gpu:
        actors = opts.actors or max(1, int(min(opts.gpus, gpus_available)))
        actor_cpus = opts.cpus_per_actor or 1.0
        actor_gpus = min(opts.gpus, gpus_available) / actors
    else:
        # Decode at model size costs ~10% of inference: leave it a quarter-core
        # per read task and give the rest to the actors, one thread per CPU.
        actors = opts.actors or max(1, int(cpus // (opts.cpus_per_actor or 1.0)))
        actor_cpus = opts.cpus_per_actor or max(0.5, (cpus - 2 * DECODE_CPUS) / actors)
        actor_gpus = 0
    actors = max(1, min(actors, len(chunks)))  # more actors than chunks would idle
    source = VideoFramesDatasource(chunks, size=spec.size, fps=None, batch_frames=DEFAULT_BATCH_FRAMES,
                                   storage_options=opts.storage_options, interpolation=INTERPOLATION,
                                   record_errors=True)
    ds = ray.data.read_datasource(source, override_num_blocks=len(chunks), num_cpus=DECODE_CPUS,
                                  resources=dict(opts.decode_resources) if opts.decode_resources else None)
    sizes = {vid: (i.width, i.height) for vid, i in infos.items()}
    return ds.map_batches(
        TrackNetPredictor,
        fn_constructor_args=([checkpoint_ref], sizes),
        fn_constructor_kwargs=dict(threshold=opts.threshold, batch_size=opts.batch_size,
                                   threads=max(1, round(actor_cpus)), use_gpu=use_gpu),
        batch_size=None,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=actor_cpus,
        num_gpus=actor_gpus or None,
        resources=dict(opts.inference_resources) if opts.inference_resources else None,
    )


def _remove_stale_temps(out: str, video_id: str) -> None:
    """Temporary files a killed run left for this video (hidden from readers, but
    garbage). Object stores have none: an upload appears whole or not at all."""
    if is_remote(out):
        return
    from pathlib import Path

    for final in output_paths(out, video_id).values():
        path = Path(final.removeprefix("file://"))
        for tmp in path.parent.glob(f".{path.name}.*"):
            tmp.unlink(missing_ok=True)


def _groups(todo, max_frames):
    group, frames = [], 0
    for item in todo:
        if group and frames + item[1].n_frames > max_frames:
            yield group
            group, frames = [], 0
        group.append(item)
        frames += item[1].n_frames
    if group:
        yield group


def _write_run_report(out: str, result: TrackResult, storage_options) -> None:
    report = {"run_id": result.run_id, "model": result.model, "seconds": round(result.seconds, 2),
              "frames": result.frames,
              "videos": [{k: v for k, v in o.__dict__.items()} for o in result.videos]}
    write_bytes_atomic(f"{out.rstrip('/')}/_runs/{result.run_id}.json", json.dumps(report, indent=1).encode(),
                       storage_options)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]
