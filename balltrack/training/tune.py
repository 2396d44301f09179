"""`balltrack tune tracknet`: Ray Tune over learning rate, width and loss.

Each trial is a whole training run (its own TorchTrainer, MLflow run and
checkpoints under OUT/trials/<trial>); Tune compares trials by validation F1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

SEARCH_SPACE = {
    "lr": ("loguniform", 3e-4, 5e-3),
    "base_channels": ("choice", [8, 12, 16]),
    "loss": ("choice", ["wbce", "focal"]),
}


def _space(seed: int) -> dict[str, Any]:
    from ray import tune

    return {
        "lr": tune.loguniform(*SEARCH_SPACE["lr"][1:]),
        "base_channels": tune.choice(SEARCH_SPACE["base_channels"][1]),
        "loss": tune.choice(SEARCH_SPACE["loss"][1]),
    }


def tune_tracknet(
    data: Sequence[str],
    out: str,
    *,
    samples: int = 8,
    epochs: int = 2,
    max_steps_per_epoch: int | None = None,
    config: str = "tiny",
    val_data: Sequence[str] = (),
    seed: int = 0,
    batch_size: int = 8,
) -> dict[str, Any]:
    """Run ``samples`` trials one after another; return the best trial's
    parameters and metrics (also written to OUT/best.json)."""
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    from balltrack.models.tracknet import config_to_dict
    from balltrack.training.tracknet import TrainOptions, resolve_config, train_tracknet

    out_path = Path(out).resolve()
    base = config_to_dict(resolve_config(config))

    def trial(params: dict) -> None:
        from ray import tune as rt
        from ray.tune import get_context

        name = get_context().get_trial_id()
        opts = TrainOptions(
            data=list(data), val_data=list(val_data), out=str(out_path / "trials" / name),
            config={**base, "base_channels": int(params["base_channels"])},
            epochs=epochs, max_steps_per_epoch=max_steps_per_epoch, batch_size=batch_size,
            lr=float(params["lr"]), loss=params["loss"], seed=seed, overwrite=True,
            experiment="balltrack-tracknet-tune",  # each trial's MLflow store lives in its own directory
            register_as=None, extra_tags={"tune_trial": name},
        )
        result = train_tracknet(opts, progress=lambda m: None)
        rt.report({"val_f1": float(result.metrics.get("best_val_f1", 0.0)), "checkpoint": result.best_checkpoint})

    tuner = tune.Tuner(
        # The trial only drives its TorchTrainer; the trainer's workers hold the CPUs.
        tune.with_resources(trial, {"cpu": 0.01}),
        param_space=_space(seed),
        tune_config=tune.TuneConfig(
            metric="val_f1", mode="max", num_samples=samples, max_concurrent_trials=1,
            search_alg=BasicVariantGenerator(random_state=seed),
        ),
        run_config=tune.RunConfig(name="tune", storage_path=str(out_path / "ray")),
    )
    grid = tuner.fit()
    best = grid.get_best_result()
    summary = {
        "val_f1": best.metrics["val_f1"],
        "params": {k: best.config[k] for k in SEARCH_SPACE},
        "checkpoint": best.metrics.get("checkpoint"),
        "trials": [
            {"params": {k: r.config[k] for k in SEARCH_SPACE}, "val_f1": (r.metrics or {}).get("val_f1")}
            for r in grid
        ],
    }
    out_path.mkdir(parents=True, exist_ok=True)
    (out_path / "best.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary
