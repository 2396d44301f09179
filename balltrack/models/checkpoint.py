"""Self-describing TrackNet checkpoints: one file holds config, input spec,
weights and the metrics that chose it, so loading needs nothing else."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import torch

from balltrack.models.preprocess import InputSpec
from balltrack.models.tracknet import TrackNet, build_tracknet, config_from_dict, config_to_dict

FORMAT = "balltrack.tracknet/1"
FILENAME = "tracknet.pt"


def save_checkpoint(
    path: str | Path,
    model: torch.nn.Module,
    spec: InputSpec,
    *,
    extra: Mapping[str, Any] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """Write atomically (temp file, then rename)."""
    model = getattr(model, "module", model)  # unwrap DDP
    state = {
        "format": FORMAT,
        "config": config_to_dict(model.config),
        "input_spec": spec.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        **dict(extra or {}),
    }
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_checkpoint(path: str | Path | bytes) -> dict[str, Any]:
    """A checkpoint from a file, a directory holding ``tracknet.pt``, or its bytes."""
    if isinstance(path, (bytes, bytearray, memoryview)):
        source, path = io.BytesIO(path), Path("<checkpoint bytes>")
    else:
        path = Path(path)
        if path.is_dir():
            path = path / FILENAME
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such checkpoint")
        source = path
    try:
        state = torch.load(source, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path}: not a balltrack TrackNet checkpoint (format {state.get('format') if isinstance(state, dict) else type(state).__name__})")
    return state


def load_tracknet(path: str | Path | bytes) -> tuple[TrackNet, InputSpec, dict[str, Any]]:
    """(model in eval mode, its input spec, the checkpoint's other fields)."""
    state = read_checkpoint(path)
    model = build_tracknet(config_from_dict(state["config"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    spec = InputSpec.from_dict(state["input_spec"])
    info = {k: v for k, v in state.items() if k not in ("state_dict", "optimizer")}
    return model, spec, info
