"""Model input preprocessing: the one place frames become a tensor and pixels change units.

Training, batch inference and serving all call :func:`frames_to_input` with the
:class:`InputSpec` stored next to the model's weights, so the input size, channel order
and normalisation cannot drift apart between them.

Coordinates
-----------
Frames are resized (plainly, no letterbox or crop) from the source size ``(src_w, src_h)``
to the model size ``(spec.width, spec.height)``. Both images use the **pixel-centre
convention**: pixel ``(col, row)`` covers ``[col - 0.5, col + 0.5) x [row - 0.5, row + 0.5)``
and its centre sits at the integer coordinate. The resize maps the outer edges onto each
other (``-0.5 -> -0.5`` and ``src_w - 0.5 -> W - 0.5``), which is what swscale, OpenCV's
``INTER_LINEAR`` and ``torch.nn.functional.interpolate(align_corners=False)`` do, so::

    x_src   = (x_model + 0.5) * src_w / W - 0.5
    x_model = (x_src + 0.5) * W / src_w - 0.5

and the same for ``y`` with heights. :func:`to_source_pixels` and :func:`to_model_pixels`
are exact inverses (up to float rounding). Differences of coordinates only scale, by
:func:`resize_scale`, so distances do not depend on the convention.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np
import torch

__all__ = [
    "InputSpec",
    "frames_to_input",
    "resize_scale",
    "to_model_pixels",
    "to_source_pixels",
]


@dataclass(frozen=True)
class InputSpec:
    """What a model expects as input.

    Attributes:
        width, height: model input size in pixels (frames must already be this size).
        in_frames: consecutive frames stacked per sample.
        mean, std: per-RGB-channel normalisation on the 0..1 scale:
            ``(pixel / 255 - mean) / std``. The defaults leave values in 0..1
            (what TrackNetV2/V3 train with).
        background: a median background frame (TrackNetV3) is appended as 3 extra
            channels after the frames.
    """

    width: int
    height: int
    in_frames: int
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    background: bool = False

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"InputSpec size must be positive, got {self.width}x{self.height}")
        if self.in_frames < 1:
            raise ValueError(f"InputSpec in_frames must be >= 1, got {self.in_frames}")
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError(f"InputSpec mean and std need 3 values (RGB), got {self.mean}, {self.std}")
        if any(s <= 0 for s in self.std):
            raise ValueError(f"InputSpec std must be positive, got {self.std}")

    @property
    def channels(self) -> int:
        """Channels of the model input: 3 per frame, plus 3 for the background."""
        return 3 * self.in_frames + (3 if self.background else 0)

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``, the order the CLI's ``WxH`` and ``read_video_frames`` use."""
        return (self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (stored with a checkpoint)."""
        d = asdict(self)
        d["mean"] = list(self.mean)
        d["std"] = list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "InputSpec":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(d) - {"width", "height", "in_frames", "mean", "std", "background"}
        if unknown:
            raise ValueError(f"unknown InputSpec fields: {sorted(unknown)}")
        return cls(**{k: (tuple(v) if k in ("mean", "std") else v) for k, v in d.items()})


def frames_to_input(
    frames_uint8: np.ndarray,
    spec: InputSpec,
    background: np.ndarray | None = None,
) -> torch.Tensor:
    """Stack uint8 RGB frames into a model input tensor.

    Args:
        frames_uint8: ``(T, H, W, 3)`` or ``(B, T, H, W, 3)`` uint8 RGB, ``T == spec.in_frames``,
            ``H, W == spec.height, spec.width`` (resize in the decoder, not here).
        spec: the model's input spec.
        background: when ``spec.background``: the median background frame, ``(H, W, 3)``
            (shared by the batch) or ``(B, H, W, 3)``, uint8 RGB. Must be None otherwise.

    Returns:
        float32 tensor ``(B, C, H, W)`` with ``C == spec.channels``; channels are frame-major
        (frame 0 R, G, B, frame 1 R, G, B, ..., then background R, G, B), each value
        ``(v / 255 - mean[c]) / std[c]``.
    """
    frames = np.asarray(frames_uint8)
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    if frames.ndim == 4:
        frames = frames[None]
    expected = (spec.in_frames, spec.height, spec.width, 3)
    if frames.ndim != 5 or frames.shape[1:] != expected:
        raise ValueError(
            f"frames must be (T, H, W, 3) or (B, T, H, W, 3) with T, H, W = "
            f"{spec.in_frames}, {spec.height}, {spec.width}; got shape {np.asarray(frames_uint8).shape}"
        )
    b = frames.shape[0]
    if spec.background:
        if background is None:
            raise ValueError("spec.background is True: pass the median background frame")
        bg = np.asarray(background)
        if bg.dtype != np.uint8:
            raise ValueError(f"background must be uint8, got {bg.dtype}")
        if bg.ndim == 3:
            bg = np.broadcast_to(bg[None], (b, *bg.shape))
        if bg.shape != (b, spec.height, spec.width, 3):
            raise ValueError(
                f"background must be (H, W, 3) or (B, H, W, 3) with H, W = {spec.height}, "
                f"{spec.width} and B = {b}; got shape {np.asarray(background).shape}"
            )
        bg_tensor = torch.from_numpy(np.ascontiguousarray(bg))
    elif background is not None:
        raise ValueError("a background frame was passed but spec.background is False")
    else:
        bg_tensor = None
    # One normalisation for numpy and tensor inputs: tensor_to_input does the arithmetic.
    return tensor_to_input(torch.from_numpy(np.ascontiguousarray(frames)), spec, bg_tensor)


def resize_scale(src_w: float, src_h: float, spec: InputSpec) -> tuple[float, float]:
    """Model pixels per source pixel, ``(spec.width / src_w, spec.height / src_h)``.

    A distance of ``d`` source pixels along x is ``d * sx`` model pixels.
    """
    if src_w <= 0 or src_h <= 0:
        raise ValueError(f"source size must be positive, got {src_w}x{src_h}")
    return spec.width / src_w, spec.height / src_h


def _plain(v: Any) -> Any:
    """A 0-d numpy result back to a Python float; arrays unchanged."""
    return float(v) if np.ndim(v) == 0 else v


def to_source_pixels(x: Any, y: Any, src_w: float, src_h: float, spec: InputSpec) -> tuple[Any, Any]:
    """Model-pixel coordinates to source-pixel coordinates (pixel-centre convention).

    ``x_src = (x_model + 0.5) * src_w / W - 0.5`` (and the same for y with heights).
    Floats in, floats out; numpy arrays in, arrays out; NaN stays NaN.
    """
    resize_scale(src_w, src_h, spec)  # validates the size
    xs = (np.asarray(x, dtype=np.float64) + 0.5) * src_w / spec.width - 0.5
    ys = (np.asarray(y, dtype=np.float64) + 0.5) * src_h / spec.height - 0.5
    return _plain(xs), _plain(ys)


def to_model_pixels(x: Any, y: Any, src_w: float, src_h: float, spec: InputSpec) -> tuple[Any, Any]:
    """Source-pixel coordinates to model-pixel coordinates; inverse of :func:`to_source_pixels`.

    ``x_model = (x_src + 0.5) * W / src_w - 0.5`` (and the same for y with heights).
    """
    resize_scale(src_w, src_h, spec)
    xm = (np.asarray(x, dtype=np.float64) + 0.5) * spec.width / src_w - 0.5
    ym = (np.asarray(y, dtype=np.float64) + 0.5) * spec.height / src_h - 0.5
    return _plain(xm), _plain(ym)


def tensor_to_input(frames: torch.Tensor, spec: InputSpec, background: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`frames_to_input` for frames already in a tensor (training, after
    augmentation): ``frames`` (B, T, H, W, 3) float or uint8 on the 0..255
    scale; ``background`` (B, H, W, 3) when ``spec.background``. Same channel
    order and normalisation."""
    if frames.ndim != 5 or tuple(frames.shape[1:]) != (spec.in_frames, spec.height, spec.width, 3):
        raise ValueError(
            f"frames must be (B, T, H, W, 3) with T, H, W = {spec.in_frames}, {spec.height}, {spec.width}; "
            f"got {tuple(frames.shape)}"
        )
    if spec.background:
        if background is None:
            raise ValueError("spec.background is True: pass the median background frame")
        frames = torch.cat([frames, background[:, None].to(frames.dtype)], dim=1)
    b = frames.shape[0]
    x = frames.permute(0, 1, 4, 2, 3).to(torch.float32)
    mean = torch.tensor(spec.mean, dtype=torch.float32, device=x.device).view(1, 1, 3, 1, 1) * 255.0
    std = torch.tensor(spec.std, dtype=torch.float32, device=x.device).view(1, 1, 3, 1, 1) * 255.0
    return ((x - mean) / std).reshape(b, -1, spec.height, spec.width).contiguous()
