"""Train TrackNet on Ray Train (V2 API), tracked in MLflow.

The driver (:func:`train_tracknet`) builds the datasets, opens the MLflow run
and starts a TorchTrainer; each worker runs :func:`train_loop_per_worker`
(DDP; gloo on CPU, nccl on GPU; bf16 autocast on GPU). Every epoch ends with a
validation pass whose outcome counts are summed across workers, a
self-describing checkpoint from rank 0, and ``ray.train.report`` (a barrier
all workers call). Re-running with ``resume=True`` continues from the latest
checkpoint: Ray Train V2 restores a run with the same name and storage path.
"""

from __future__ import annotations

import dataclasses
import json
import math
import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from balltrack.errors import InputError

log = logging.getLogger(__name__)

RUN_NAME = "tracknet"


@dataclass(frozen=True)
class TrainOptions:
    data: Sequence[str]
    out: str
    config: str | dict = "tiny"  # preset name, JSON/YAML file path, or a dict of TrackNetConfig fields
    val_data: Sequence[str] = ()
    val_share: float = 0.2  # of the videos, when no val_data
    workers: int = 1
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0
    epochs: int = 10
    max_steps_per_epoch: int | None = None
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-4
    loss: str = "wbce"
    target: str = "disk"
    radius: float = 2.5
    empty_share: float = 0.3
    tolerance: float = 4.0
    threshold: float = 0.5
    seed: int = 0
    resume: bool = False
    overwrite: bool = False
    tracking_uri: str | None = None
    experiment: str = "balltrack-tracknet"
    register_as: str | None = "balltrack-tracknet"
    max_failures: int = 0
    augment: bool = True
    crop: tuple[int, int] | None = None  # (height, width) training crops; None trains on whole frames
    # Share of crops placed on the ball; the rest fall anywhere, so the model also
    # sees players, lines and logos away from the ball (distractors it must ignore).
    crop_ball_share: float = 0.8
    time_budget_s: float | None = None  # stop training (at a step all workers agree on) after this long
    lr_schedule: str = "constant"  # or "cosine": decays to 2% over the time budget / max steps / epochs
    cache: bool = True
    extra_tags: dict = field(default_factory=dict)
    report: bool = True  # at the end, build the validation set's evaluation report and log it to MLflow


def resolve_config(config: str | dict):
    from balltrack.models.tracknet import PRESETS, config_from_dict, config_from_name

    if isinstance(config, dict):
        return config_from_dict(config)
    if config in PRESETS:
        return config_from_name(config)
    path = Path(config)
    if not path.is_file():
        raise InputError(f"--config {config!r}: not a preset ({', '.join(sorted(PRESETS))}) nor a file")
    text = path.read_text()
    try:
        d = json.loads(text)
    except json.JSONDecodeError:
        import yaml

        d = yaml.safe_load(text)
    if not isinstance(d, dict):
        raise InputError(f"{path}: expected a mapping of TrackNetConfig fields")
    preset = d.pop("preset", None)
    try:
        return config_from_name(preset, **d) if preset else config_from_dict(d)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: {exc}") from None


def default_tracking_uri(out: str) -> str:
    return f"sqlite:///{Path(out).resolve() / 'mlflow.db'}"


def _use_experiment(name: str, out: Path | None) -> None:
    """Select (creating if needed) the experiment. With the default SQLite store
    under OUT, artifacts go to OUT/mlruns too (MLflow's default would be ./mlruns
    in whatever directory the command runs from)."""
    import mlflow

    if mlflow.get_experiment_by_name(name) is None and out is not None:
        mlflow.create_experiment(name, artifact_location=(Path(out).resolve() / "mlruns").as_uri())
    mlflow.set_experiment(name)


# ---------------------------------------------------------------- worker side


def _outcome_counts(heatmaps: np.ndarray, xy: np.ndarray, visible: np.ndarray, cfg: dict) -> np.ndarray:
    """TP, FP1, FP2, FN, TN of the last frame of each window (each frame is the
    last of exactly one window), TrackNetV2 protocol in 512x288 units."""
    from balltrack.tracking.postprocess import heatmaps_to_positions

    pos = heatmaps_to_positions(heatmaps, threshold=cfg["threshold"])
    h, w = heatmaps.shape[-2:]
    pv, lv = pos["visible"], visible
    d = np.hypot((pos["x"] - xy[:, 0]) * 512 / w, (pos["y"] - xy[:, 1]) * 288 / h)
    near = np.where(pv & lv, d, np.inf) <= cfg["tolerance"]
    return np.array(
        [np.sum(pv & lv & near), np.sum(pv & lv & ~near), np.sum(pv & ~lv), np.sum(~pv & lv), np.sum(~pv & ~lv)],
        dtype=np.float64,
    )


def metrics_from_counts(c: np.ndarray) -> dict[str, float]:
    tp, fp1, fp2, fn, tn = (float(v) for v in c)
    precision = tp / (tp + fp1 + fp2) if tp + fp1 + fp2 else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = tp + fp1 + fp2 + fn + tn
    return {
        "val_TP": tp, "val_FP1": fp1, "val_FP2": fp2, "val_FN": fn, "val_TN": tn,
        "val_precision": precision, "val_recall": recall, "val_f1": f1,
        "val_accuracy": (tp + tn) / total if total else 0.0,
    }


def train_loop_per_worker(cfg: dict) -> None:
    import ray.train
    import ray.train.torch
    import torch

    from balltrack.models.checkpoint import FILENAME, read_checkpoint, save_checkpoint
    from balltrack.models.preprocess import InputSpec, tensor_to_input
    from balltrack.models.tracknet import build_tracknet, config_from_dict
    from balltrack.tracking.augment import AugmentConfig, augment, random_crop
    from balltrack.tracking.heatmaps import get_loss, heatmap_targets

    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    torch.manual_seed(cfg["seed"] + rank)
    torch.set_num_threads(max(1, int(cfg["cpus_per_worker"])))
    model_cfg = config_from_dict(cfg["model"])
    spec = InputSpec.from_dict(cfg["input_spec"])
    model = build_tracknet(model_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    start_epoch, step, best_f1 = 0, 0, -1.0
    resumed = ray.train.get_checkpoint()
    if resumed:
        with resumed.as_directory() as d:
            state = read_checkpoint(Path(d) / FILENAME)
        model.load_state_dict(state["state_dict"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, step, best_f1 = state["epoch"] + 1, state["step"], state.get("best_val_f1", -1.0)
    model = ray.train.torch.prepare_model(model)
    device = ray.train.torch.get_device()
    use_amp = device.type == "cuda"
    loss_fn = get_loss(cfg["loss"])
    aug_cfg = AugmentConfig() if cfg["augment"] else None
    gen = torch.Generator().manual_seed(cfg["seed"] * 1000 + rank)
    train_shard = ray.train.get_dataset_shard("train")
    val = cfg["val"]
    mlflow = _mlflow_for_rank0(cfg) if rank == 0 else None
    crop = tuple(cfg["crop"]) if cfg.get("crop") else None
    train_spec = dataclasses.replace(spec, height=crop[0], width=crop[1]) if crop else spec
    started = time.monotonic()
    out_of_time = False

    for epoch in range(start_epoch, cfg["epochs"]):
        if out_of_time:
            break
        model.train()
        t0, seen, loss_sum, n_batches = time.perf_counter(), 0, 0.0, 0
        elapsed = time.monotonic() - started if cfg.get("time_budget_s") else 0.0
        for batch in train_shard.iter_torch_batches(
            batch_size=cfg["batch_size"], local_shuffle_buffer_size=cfg["batch_size"] * 16,
            local_shuffle_seed=cfg["seed"] + epoch * 7919 + rank,
        ):
            frames = batch["frames"]
            xy, vis = batch["xy"].to(torch.float32), batch["visible"].to(torch.bool)
            # Crop first (on uint8), then augment the crop: the warp then touches
            # 5x fewer pixels, which made it 40% of a step's time on a CPU.
            if crop:
                frames, xy, vis = random_crop(frames, xy, vis, crop, gen, ball_p=cfg.get("crop_ball_share", 0.8))
            frames = frames.to(torch.float32)
            if aug_cfg is not None:
                frames, xy, vis = augment(frames, xy, vis, aug_cfg, gen)
            x = tensor_to_input(frames, train_spec).to(device)
            target = heatmap_targets(
                torch.nan_to_num(xy), vis, train_spec.height, train_spec.width, radius=cfg["radius"],
                kind=cfg["target"],
            ).to(device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                logits = model(x)
            loss = loss_fn(logits.float(), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.get("lr_schedule") == "cosine":
                for group in opt.param_groups:
                    group["lr"] = cosine_lr(cfg["lr"], _progress(cfg, epoch, n_batches, elapsed))
            opt.step()
            step += 1
            seen += len(frames)
            loss_sum += float(loss.detach())
            n_batches += 1
            if cfg["max_steps_per_epoch"] and n_batches >= cfg["max_steps_per_epoch"]:
                break
            if cfg.get("time_budget_s"):
                # Every worker uses the slowest clock: the same stop step and the same LR.
                elapsed = _agreed_max(time.monotonic() - started, world)
                out_of_time = elapsed > cfg["time_budget_s"]
                if out_of_time:
                    break
        train_seconds = time.perf_counter() - t0
        # Rank 0 validates on the whole validation set (it is not split: an equal
        # split would drop windows); the others add zeros in the all-reduce.
        # The unwrapped module: a DDP forward broadcasts buffers, a collective
        # the other workers (not validating) would never join.
        counts = validation_counts(getattr(model, "module", model), spec, val, cfg, device) if rank == 0 else np.zeros(5)
        sums = torch.tensor(np.concatenate([counts, [loss_sum, n_batches, seen, train_seconds]]), dtype=torch.float64)
        if world > 1:
            import torch.distributed as dist

            dist.all_reduce(sums)  # every worker's counts, loss and samples
        counts = sums[:5].numpy()
        loss_total, batches_total, seen_total, seconds_total = (float(v) for v in sums[5:])
        metrics = metrics_from_counts(counts)
        metrics.update(
            epoch=epoch,
            step=step,
            train_loss=loss_total / max(batches_total, 1),
            train_samples=seen_total,
            samples_per_s=seen_total / max(seconds_total / world, 1e-9),
        )
        best_f1 = max(best_f1, metrics["val_f1"])
        metrics["best_val_f1"] = best_f1
        checkpoint = None
        tmp = None
        if rank == 0:
            tmp = tempfile.mkdtemp(prefix="tracknet-ckpt-")
            save_checkpoint(
                Path(tmp) / FILENAME, model, spec, optimizer=opt,
                extra={"epoch": epoch, "step": step, "metrics": metrics, "best_val_f1": best_f1,
                       "mlflow_run_id": cfg.get("mlflow_run_id"), "train_config": _public(cfg)},
            )
            checkpoint = ray.train.Checkpoint.from_directory(tmp)
            if mlflow is not None:
                mlflow.log_metrics({k: float(v) for k, v in metrics.items() if k not in ("epoch",)}, step=epoch)
        ray.train.report(metrics, checkpoint=checkpoint)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _agreed_max(value: float, world: int) -> float:
    """The largest ``value`` over all workers (DDP needs equal step counts and LRs)."""
    if world == 1:
        return value
    import torch
    import torch.distributed as dist

    t = torch.tensor([float(value)], dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def cosine_lr(base: float, progress: float, floor: float = 0.02) -> float:
    """Cosine decay from ``base`` to ``floor * base`` as progress goes 0 -> 1."""
    p = min(max(progress, 0.0), 1.0)
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * p)))


def _progress(cfg: dict, epoch: int, batch: int, elapsed: float) -> float:
    """How far training is, 0..1: by the time budget and/or the step cap, else by epochs."""
    parts = []
    if cfg.get("time_budget_s"):
        parts.append(elapsed / cfg["time_budget_s"])
    if cfg.get("max_steps_per_epoch"):
        parts.append((epoch * cfg["max_steps_per_epoch"] + batch) / (cfg["epochs"] * cfg["max_steps_per_epoch"]))
    return max(parts) if parts else epoch / cfg["epochs"]


def validation_counts(model, spec, val: dict, cfg: dict, device=None) -> np.ndarray:
    """TP, FP1, FP2, FN, TN over every window of the validation videos,
    decoded in this process (the same code reproduces them from a checkpoint)."""
    import torch

    from balltrack.models.preprocess import tensor_to_input
    from balltrack.tracking.samples import windows_from_block
    from balltrack.video import decode_chunk, plan_chunks, probe_video

    model.eval()
    counts = np.zeros(5)
    for path, video_id in val["videos"]:
        info = probe_video(path)
        for chunk in plan_chunks(info, video_id, chunk_s=None, context_frames=spec.in_frames - 1):
            for block in decode_chunk(chunk, size=spec.size):
                w = windows_from_block(block, val["labels"], in_frames=spec.in_frames)
                for i in range(0, len(w["frame_index"]), 16):
                    x = tensor_to_input(torch.from_numpy(w["frames"][i : i + 16]), spec)
                    with torch.no_grad():
                        heat = torch.sigmoid(model(x.to(device) if device else x).float())[:, -1].cpu().numpy()
                    counts += _outcome_counts(heat, w["xy"][i : i + 16, -1], w["visible"][i : i + 16, -1], cfg)
    return counts


def _mlflow_for_rank0(cfg: dict):
    if not cfg.get("mlflow_run_id"):
        return None
    import mlflow

    mlflow.set_tracking_uri(cfg["tracking_uri"])
    mlflow.start_run(run_id=cfg["mlflow_run_id"])
    return mlflow


def _public(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in ("model", "input_spec", "val")}


# ---------------------------------------------------------------- driver side


@dataclass
class TrainResult:
    run_dir: str
    best_checkpoint: str
    metrics: dict[str, Any]
    mlflow_run_id: str | None
    model_uri: str | None
    registered_version: str | None


def train_tracknet(opts: TrainOptions, *, progress=print) -> TrainResult:
    """Train, checkpoint each epoch (keeping the best by validation F1), log to
    MLflow and register the final model. Returns where everything went."""
    import mlflow
    import ray
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    from balltrack.models.tracknet import config_to_dict
    from balltrack.pipelines.tracknet_data import load_labelled_set, window_dataset

    out = Path(opts.out).resolve()
    storage = out / "ray"
    run_exists = (storage / RUN_NAME).exists()
    if run_exists and not opts.resume:
        if not opts.overwrite:
            raise InputError(f"{out} already holds a training run: pass --resume to continue it or --overwrite")
        shutil.rmtree(storage)
        (out / "mlflow_run_id").unlink(missing_ok=True)
    if opts.resume and not run_exists:
        raise InputError(f"--resume: {out} holds no training run to continue")
    out.mkdir(parents=True, exist_ok=True)

    model_cfg = resolve_config(opts.config)
    spec = model_cfg.input_spec()
    if not ray.is_initialized():
        ray.init(log_to_driver=False, include_dashboard=False, configure_logging=False)

    train_dirs, val_dirs = list(opts.data), list(opts.val_data)
    progress(f"reading labelled videos from {', '.join(train_dirs)}")
    train_set = load_labelled_set(train_dirs, spec)
    if val_dirs:
        val_set = load_labelled_set(val_dirs, spec)
    else:
        train_set, val_set = _split(train_set, opts.val_share)
    progress(f"{len(train_set)} training videos ({train_set.n_frames} frames), {len(val_set)} validation videos")
    columns = ["frames", "xy", "visible"]  # tensors only: iter_torch_batches cannot carry strings
    train_ds = window_dataset(train_set, spec, empty_share=opts.empty_share, seed=opts.seed).select_columns(columns)
    if opts.cache:
        # Decode once: epochs then read decoded, resized windows from the object store.
        train_ds = train_ds.materialize()
    # Validation: every window of the held-out videos, decoded by rank 0 itself
    # (an equal split across workers would drop windows).
    from balltrack.io.storage import resolve_inputs

    val = {"videos": [(s.uri, s.video_id) for s in resolve_inputs(val_set.paths)], "labels": val_set.labels}

    tracking_uri = opts.tracking_uri or default_tracking_uri(str(out))
    mlflow.set_tracking_uri(tracking_uri)
    _use_experiment(opts.experiment, out if not opts.tracking_uri else None)
    run_id_file = out / "mlflow_run_id"
    run_id = run_id_file.read_text().strip() if opts.resume and run_id_file.exists() else None
    run = mlflow.start_run(run_id=run_id, run_name=None if run_id else f"tracknet-{int(time.time())}")
    run_id = run.info.run_id
    run_id_file.write_text(run_id)
    if not opts.resume:
        mlflow.log_params({**{f"model.{k}": v for k, v in config_to_dict(model_cfg).items()},
                           **{k: v for k, v in asdict(opts).items() if k not in ("data", "val_data", "extra_tags")},
                           "train_videos": len(train_set), "val_videos": len(val_set)})
        mlflow.set_tags({"balltrack.kind": "tracknet", **opts.extra_tags})

    cfg = {
        **{k: v for k, v in asdict(opts).items() if k not in ("data", "val_data", "extra_tags")},
        "model": config_to_dict(model_cfg),
        "input_spec": spec.to_dict(),
        "mlflow_run_id": run_id,
        "tracking_uri": tracking_uri,
        "val": val,
    }
    use_gpu = opts.gpus_per_worker > 0
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config=cfg,
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=opts.workers,
            use_gpu=use_gpu,
            resources_per_worker={"CPU": opts.cpus_per_worker, **({"GPU": opts.gpus_per_worker} if use_gpu else {})},
        ),
        run_config=RunConfig(
            name=RUN_NAME,
            storage_path=str(storage),
            checkpoint_config=CheckpointConfig(
                num_to_keep=2, checkpoint_score_attribute="val_f1", checkpoint_score_order="max"
            ),
            failure_config=FailureConfig(max_failures=opts.max_failures),
        ),
        datasets={"train": train_ds},
    )
    progress(f"training on {opts.workers} worker(s), {'GPU' if use_gpu else 'CPU'}; MLflow {tracking_uri} run {run_id}")
    result = trainer.fit()
    best = _best_checkpoint(result)
    final = out / "model" / "tracknet.pt"
    final.parent.mkdir(parents=True, exist_ok=True)
    with best.as_directory() as d:
        shutil.copy(Path(d) / "tracknet.pt", final.with_suffix(".tmp"))
    final.with_suffix(".tmp").replace(final)
    model_uri, version = _log_model(final, opts.register_as)
    if opts.report:  # never fails the run: errors are reported and skipped
        from balltrack.report.training import log_validation_report

        log_validation_report(final, val_set.paths, out / "report", tolerance=opts.tolerance,
                              threshold=opts.threshold, progress=progress)
    mlflow.end_run()
    metrics = dict(result.metrics or {})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    return TrainResult(str(out), str(final), metrics, run_id, model_uri, version)


def _best_checkpoint(result):
    best = getattr(result, "best_checkpoints", None)
    if best:
        return max(best, key=lambda cm: cm[1].get("val_f1", -1))[0]
    if result.checkpoint is None:
        raise RuntimeError("training produced no checkpoint")
    return result.checkpoint


def _log_model(checkpoint_path: Path, register_as: str | None):
    """Log the best checkpoint as an MLflow pytorch model (its config and input
    spec in the model's metadata) and register it."""
    import mlflow

    from balltrack.models.checkpoint import load_tracknet

    model, spec, info = load_tracknet(checkpoint_path)
    metadata = {"balltrack_config": json.dumps(info["config"]), "balltrack_input_spec": json.dumps(spec.to_dict())}
    logged = mlflow.pytorch.log_model(
        model, name="model", registered_model_name=register_as, metadata=metadata,
        serialization_format="pickle",  # the class is importable from balltrack; pt2 would need tracing
        extra_files=[str(checkpoint_path)],
    )
    mlflow.log_artifact(str(checkpoint_path), artifact_path="checkpoint")
    version = str(logged.registered_model_version) if register_as else None
    return logged.model_uri, version


def _split(data, share: float):
    from balltrack.pipelines.tracknet_data import LabelledSet

    n_val = max(1, int(round(len(data.paths) * share))) if len(data.paths) > 1 else 0
    if n_val == 0:
        raise InputError("need at least 2 labelled videos to hold one out for validation (or pass --val-data)")
    val_paths = data.paths[-n_val:]
    train_paths = data.paths[:-n_val]
    from balltrack.io.storage import resolve_inputs

    ids = {s.uri: s.video_id for s in resolve_inputs(data.paths)}
    pick = lambda paths: LabelledSet(paths, {ids[p]: data.labels[ids[p]] for p in paths},  # noqa: E731
                                     sum(len(data.labels[ids[p]].visible) for p in paths))
    return pick(train_paths), pick(val_paths)
