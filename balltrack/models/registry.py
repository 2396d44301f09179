"""Turn a model reference into checkpoint bytes: what every job and endpoint loads.

A REF is one of:
- ``default``: the tiny TrackNet shipped inside the package (see its model card);
- a checkpoint path (a ``tracknet.pt`` file or a directory holding one), local or ``s3://``;
- an MLflow model URI: ``models:/name/version``, ``models:/name@alias`` or ``runs:/<run id>/model``,
  resolved against ``tracking_uri`` (default: ``MLFLOW_TRACKING_URI``).

Bytes, not paths, travel to the workers: on a cluster a driver-local path does
not exist on the other nodes, while bytes put in the object store reach them all.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from balltrack.errors import InputError
from balltrack.models.checkpoint import FILENAME, read_checkpoint

DEFAULT_REF = "default"
DEFAULT_NAME = "balltrack-default-tiny"


@dataclass(frozen=True)
class ResolvedModel:
    ref: str  # what the user gave
    name: str  # what outputs record in their ``model`` column
    checkpoint: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.checkpoint).hexdigest()


def default_checkpoint_path() -> Path:
    return Path(str(resources.files("balltrack.models") / "default" / FILENAME))


def resolve_model(ref: str, *, tracking_uri: str | None = None, storage_options=None) -> ResolvedModel:
    """Checkpoint bytes for ``ref``, checked to be a balltrack TrackNet checkpoint."""
    ref = str(ref)
    if ref == DEFAULT_REF:
        path = default_checkpoint_path()
        if not path.exists():
            raise InputError(f"the default model is missing from the package ({path}); run jobs/train_default_model.py")
        data = path.read_bytes()
        name = DEFAULT_NAME
    elif ref.startswith(("models:/", "runs:/")):
        data = _from_mlflow(ref, tracking_uri)
        name = ref
    else:
        data = _from_path(ref, storage_options)
        name = f"{Path(ref.rstrip('/')).name}@{hashlib.sha256(data).hexdigest()[:12]}"
    try:
        read_checkpoint(data)
    except ValueError as exc:
        raise InputError(f"{ref}: {str(exc).split(': ', 1)[-1]}") from None
    return ResolvedModel(ref=ref, name=name, checkpoint=data)


def _from_path(ref: str, storage_options) -> bytes:
    from balltrack.io.storage import filesystem_for, is_remote

    if not is_remote(ref):
        path = Path(ref)
        if path.is_dir():
            path = path / FILENAME
        if not path.exists():
            raise InputError(f"{ref}: no such checkpoint (expected a {FILENAME} file, a directory holding one, "
                             "an MLflow models:/ or runs:/ URI, or 'default')")
        try:
            return path.read_bytes()
        except PermissionError:
            raise InputError(f"{ref}: permission denied") from None
    fs = filesystem_for(ref, storage_options)
    target = ref if not fs.isdir(ref) else f"{ref.rstrip('/')}/{FILENAME}"
    if not fs.exists(target):
        raise InputError(f"{ref}: no such checkpoint")
    with fs.open(target, "rb") as f:
        return f.read()


def _from_mlflow(ref: str, tracking_uri: str | None) -> bytes:
    """Rebuild a checkpoint from a logged model: the module plus the config and
    input spec that training stored in the model's metadata."""
    import mlflow
    import torch

    from balltrack.models.checkpoint import save_checkpoint
    from balltrack.models.preprocess import InputSpec

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(artifact_uri=ref, dst_path=tmp)
            meta = mlflow.models.Model.load(local).metadata or {}
            if "balltrack_input_spec" not in meta:
                raise InputError(f"{ref}: not a balltrack TrackNet model (no balltrack_input_spec in its metadata)")
            module = mlflow.pytorch.load_model(local, map_location=torch.device("cpu"))
            spec = InputSpec.from_dict(json.loads(meta["balltrack_input_spec"]))
            path = save_checkpoint(Path(tmp) / FILENAME, module, spec, extra={"mlflow_uri": ref})
            return path.read_bytes()
    except InputError:
        raise
    except Exception as exc:  # MlflowException, missing registry, bad URI
        raise InputError(f"{ref}: cannot load from MLflow ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None


def load_resolved(model: ResolvedModel):
    """(module in eval mode, input spec, info) from resolved bytes."""
    from balltrack.models.checkpoint import load_tracknet

    return load_tracknet(io.BytesIO(model.checkpoint).getvalue())
