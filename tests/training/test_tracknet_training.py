"""TrackNet on Ray Train: a 2-worker CPU run of a few steps, resume, exact
reload, MLflow logging and registration, tuning, label errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from balltrack.labels import LabelError
from balltrack.models.checkpoint import load_tracknet
from balltrack.training.tracknet import TrainOptions, train_tracknet

SMALL = {"preset": "tiny", "height": 96, "width": 160}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from balltrack.synth import generate_clips

    d = tmp_path_factory.mktemp("synth")
    generate_clips(d, clips=3, seed=3, size=(320, 192), fps=25, seconds=1.6)
    cfg = d.parent / "small.json"
    cfg.write_text(json.dumps(SMALL))
    return d, cfg


@pytest.fixture(scope="module")
def run(ray_local, data, tmp_path_factory):
    d, cfg = data
    out = tmp_path_factory.mktemp("run")
    opts = TrainOptions(data=[str(d)], out=str(out), config=str(cfg), workers=2, epochs=1, max_steps_per_epoch=3,
                        batch_size=4, seed=1)
    return opts, train_tracknet(opts, progress=lambda m: None)


def test_two_worker_run_writes_checkpoint_mlflow_run_and_registered_model(run):
    import mlflow

    opts, result = run
    model, spec, info = load_tracknet(result.best_checkpoint)
    assert (spec.width, spec.height, spec.in_frames) == (160, 96, 3)
    assert info["config"]["base_channels"] == 8 and info["step"] == 3 and info["epoch"] == 0
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{Path(opts.out).resolve() / 'mlflow.db'}")
    history = client.get_metric_history(result.mlflow_run_id, "val_f1")
    assert [m.step for m in history] == [0]
    assert client.get_metric_history(result.mlflow_run_id, "train_loss")[0].value > 0
    params = client.get_run(result.mlflow_run_id).data.params
    assert params["workers"] == "2" and params["model.base_channels"] == "8"
    versions = client.search_model_versions("name='balltrack-tracknet'")
    assert [str(v.version) for v in versions] == ["1"] and versions[0].run_id == result.mlflow_run_id
    loaded = mlflow.pytorch.load_model(f"models:/balltrack-tracknet/1")
    x = torch.rand(1, 9, 96, 160)
    assert torch.equal(loaded.eval()(x), model(x))


def test_reloaded_checkpoint_reproduces_validation_metrics(run, data):
    """Recompute the validation counts in this process from the checkpoint file alone."""
    from balltrack.io.storage import resolve_inputs
    from balltrack.pipelines.tracknet_data import load_labelled_set
    from balltrack.training.tracknet import _split, validation_counts

    opts, result = run
    model, spec, info = load_tracknet(result.best_checkpoint)
    _, val = _split(load_labelled_set([str(data[0])], spec), 0.2)
    videos = [(s.uri, s.video_id) for s in resolve_inputs(val.paths)]
    cfg = {"threshold": opts.threshold, "tolerance": opts.tolerance}
    counts = validation_counts(model, spec, {"videos": videos, "labels": val.labels}, cfg)
    m = info["metrics"]
    assert list(counts) == [m["val_TP"], m["val_FP1"], m["val_FP2"], m["val_FN"], m["val_TN"]]
    # every frame of the held-out video but the first two ends one window
    assert counts.sum() == sum(len(val.labels[v].visible) - 2 for _, v in videos)


def test_resume_continues_the_step_count(run):
    import mlflow

    opts, first = run
    from dataclasses import replace

    second = train_tracknet(replace(opts, epochs=2, resume=True), progress=lambda m: None)
    _, _, info = load_tracknet(Path(opts.out) / "ray" / "tracknet" / _latest(opts.out) / "tracknet.pt")
    assert info["epoch"] == 1 and info["step"] == 6
    assert second.mlflow_run_id == first.mlflow_run_id
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{Path(opts.out).resolve() / 'mlflow.db'}")
    assert [m.step for m in client.get_metric_history(first.mlflow_run_id, "step")] == [0, 1]
    assert [m.value for m in client.get_metric_history(first.mlflow_run_id, "step")] == [3, 6]


def _latest(out: str) -> str:
    ckpts = sorted(p for p in (Path(out) / "ray" / "tracknet").glob("checkpoint_*") if p.is_dir())
    return ckpts[-1].name


def test_a_second_run_in_the_same_directory_needs_resume_or_overwrite(run):
    from balltrack.errors import InputError

    opts, _ = run
    with pytest.raises(InputError, match="--resume"):
        train_tracknet(opts, progress=lambda m: None)


def test_labels_that_do_not_fit_their_video_name_file_and_row(ray_local, data, tmp_path):
    import shutil

    from balltrack.pipelines.tracknet_data import load_labelled_set
    from balltrack.models.tracknet import config_from_name

    d, _ = data
    spec = config_from_name("tiny", height=96, width=160).input_spec()
    src = sorted(d.glob("*.mp4"))[0]
    cases = {
        "past_end": lambda rows: rows + ["999,1,10.0,10.0"],
        "nan": lambda rows: [rows[0], "1,1,nan,12.0", *rows[2:]],
        "missing_column": None,
    }
    for name, edit in cases.items():
        case = tmp_path / name
        case.mkdir()
        shutil.copy(src, case / "clip.mp4")
        lines = (src.with_suffix(".csv")).read_text().splitlines()
        if edit is None:
            text = "Frame,X,Y\n" + "\n".join(",".join(l.split(",")[i] for i in (0, 2, 3)) for l in lines[1:])
        else:
            text = "\n".join([lines[0], *edit(lines[1:])])
        (case / "clip.csv").write_text(text + "\n")
        with pytest.raises(LabelError) as err:
            load_labelled_set([str(case)], spec)
        msg = str(err.value)
        assert "clip.csv" in msg, msg
        if name == "past_end":
            assert "999" in msg and "row" in msg
        if name == "nan":
            assert "row 2" in msg
        if name == "missing_column":
            assert "Visibility" in msg


def test_tune_runs_two_trials_and_reports_the_best(ray_local, data, tmp_path):
    from balltrack.training.tune import tune_tracknet

    d, cfg = data
    best = tune_tracknet([str(d)], str(tmp_path), samples=2, epochs=1, max_steps_per_epoch=2, config=str(cfg),
                         batch_size=4)
    assert len(best["trials"]) == 2
    assert best["val_f1"] == max(t["val_f1"] for t in best["trials"])
    assert json.loads((tmp_path / "best.json").read_text())["params"] == best["params"]
