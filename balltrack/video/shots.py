"""Camera cuts: where one shot ends and the next begins (numpy only, no Ray).

The score is PySceneDetect's ContentDetector: the mean absolute difference of the
hue, saturation and value channels between a frame and the one before it,
weighted (plus an optional edge-map term). ``detect_cuts`` then applies a fixed
threshold and, optionally, AdaptiveDetector's test: the score must also stand
out against the scores of the frames around it, which keeps fast pans (many
large scores in a row) from firing.

Streaming: ``block_change_scores`` scores the owned rows of one decoded block
(``decode_chunk`` with ``context_frames >= 1``), so blocks score independently
and in parallel; ``detect_cuts`` runs once per video on the gathered scores (one
float per frame). A cut at frame ``f`` means ``f`` is the first frame of a new
shot. Shots are ``[start_frame, end_frame)``: end exclusive, like
``balltrack.synth.timeline.Shot`` and PySceneDetect.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa

from balltrack.schema import SHOTS, with_version

SHOTS_SCHEMA = with_version(SHOTS)

# Defaults, measured (scores at SCORE_WIDTH 128): synthetic cuts score 30-75 and
# stand 15-150x above their neighbours; within synthetic shots and on the real
# clips of ../shared/realdata (no cuts; tennis, badminton, pickleball, soccer and
# indoor volleyball pans) scores stay below 12, and below 23 when those pans are
# sped up 6x (as fps resampling does), but there never reach 1.5x their
# neighbours. A floor of 20 keeps room below the weakest cut; the ratio of 3
# (AdaptiveDetector's) ignores pans and a dropped frame (one score doubled, a
# ratio of about 2). Without the ratio, use threshold ~27 (ContentDetector's).
DEFAULT_THRESHOLD = 20.0
DEFAULT_ADAPTIVE = 3.0
DEFAULT_WINDOW = 2
DEFAULT_MIN_SHOT_FRAMES = 10  # 0.4 s at 25 fps; the shortest synthetic shot is 14 frames
SCORE_WIDTH = 128  # frames are block-averaged to about this width: 4x cheaper than 256 and steadier (measured)
_SCORE_BATCH = 8  # frames converted at a time: a small float32 working set stays in cache


@dataclass(frozen=True)
class ContentWeights:
    """Weights of the score's components; the score is their weighted mean.

    Each component is a mean absolute difference on a 0-255 scale, except hue,
    which is in OpenCV's 0-180 units and wraps around (so it is at most 90).
    """

    hue: float = 1.0
    sat: float = 1.0
    lum: float = 1.0
    edges: float = 0.0

    def __post_init__(self) -> None:
        values = (self.hue, self.sat, self.lum, self.edges)
        if min(values) < 0 or sum(values) <= 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {values}")


DEFAULT_WEIGHTS = ContentWeights()


def frame_change_scores(
    images: np.ndarray,
    *,
    weights: ContentWeights = DEFAULT_WEIGHTS,
    previous: np.ndarray | None = None,
) -> np.ndarray:
    """Score of each frame against the frame before it, shape (N,) float64.

    ``images`` is (N, H, W, 3) uint8 RGB. ``score[0]`` is NaN (nothing to
    compare with) unless ``previous`` (H, W, 3), the frame shown just before
    ``images[0]``, is given. Scores are in 0-255 units (see ``ContentWeights``):
    a still camera scores about 0-3, a panning one up to ~12, a cut 30-75.
    """
    images = _check_images(images)
    n = len(images)
    scores = np.full(n, np.nan)
    prev = None if previous is None else _features(_check_images(previous[None])[0:1], weights)[0]
    for start in range(0, n, _SCORE_BATCH):
        feats = _features(images[start : start + _SCORE_BATCH], weights)
        for k, cur in enumerate(feats):
            if prev is not None:
                scores[start + k] = _distance(prev, cur, weights)
            prev = cur
    return scores


def block_change_scores(
    block: Mapping[str, np.ndarray], *, weights: ContentWeights = DEFAULT_WEIGHTS
) -> tuple[np.ndarray, np.ndarray]:
    """``(frame_index, score)`` of the owned rows of a decoded block.

    ``block`` is what ``decode_chunk`` yields: ``frame_index`` and ``image``,
    and ``is_context`` when the chunk asked for context frames. Each owned row
    is scored against the row before it, a context row for the first owned
    row, so a cut on a block edge is seen. A row with nothing before it (the
    video's first frame, or any block decoded without context) scores NaN,
    which ``detect_cuts`` never takes as a cut: decode with
    ``context_frames >= 1`` to see cuts on block edges.
    """
    index = np.asarray(block["frame_index"], dtype=np.int64)
    images = np.asarray(block["image"])
    owned = ~np.asarray(block["is_context"], dtype=bool) if "is_context" in block else np.ones(len(index), bool)
    if not owned.any():
        return index[:0], np.zeros(0)
    # Only the last context row matters: the frame just before the first owned row.
    first = int(np.argmax(owned))
    rows = slice(max(0, first - 1), len(index))
    scores = frame_change_scores(images[rows], weights=weights)
    keep = owned[rows]
    return index[rows][keep], scores[keep]


def detect_cuts(
    frame_index: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_shot_frames: int = DEFAULT_MIN_SHOT_FRAMES,
    adaptive: float | None = DEFAULT_ADAPTIVE,
    window: int = DEFAULT_WINDOW,
) -> np.ndarray:
    """Frame indices where a new shot starts, sorted int64.

    ``frame_index``/``scores`` are one video's rows in any order (as gathered
    from blocks); NaN scores are never cuts. A frame is a candidate when its
    score is at least ``threshold`` and, unless ``adaptive`` is None, at least
    ``adaptive`` times the mean score of the ``window`` frames on each side of
    it (AdaptiveDetector's ratio: a pan raises its neighbours too, a cut does
    not). Candidates closer than ``min_shot_frames`` (in ``frame_index`` units)
    to a stronger candidate are dropped, so a flash or a shaky transition
    gives one cut. The first and last shots may be shorter: a video can start
    or end in the middle of a shot.
    """
    index = np.asarray(frame_index, dtype=np.int64)
    score = np.asarray(scores, dtype=np.float64)
    if index.shape != score.shape or index.ndim != 1:
        raise ValueError(f"frame_index and scores must be equal 1-D arrays, got {index.shape} and {score.shape}")
    if min_shot_frames < 1:
        raise ValueError(f"min_shot_frames must be >= 1, got {min_shot_frames}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    order = np.argsort(index, kind="stable")
    index, score = index[order], score[order]
    if len(np.unique(index)) != len(index):
        raise ValueError("frame_index has duplicates (context rows left in?)")

    valid = np.isfinite(score)
    candidate = valid & (score >= threshold)
    if adaptive is not None:
        candidate &= score >= adaptive * _neighbour_mean(score, window)
    picks = np.flatnonzero(candidate)
    # Strongest first, so a weak echo next to a cut never displaces the cut itself.
    picks = picks[np.argsort(-score[picks], kind="stable")]
    cuts: list[int] = []  # kept sorted: only the nearest kept cut on each side can be too close
    for p in picks:
        f = int(index[p])
        at = bisect.bisect(cuts, f)
        if (at == 0 or f - cuts[at - 1] >= min_shot_frames) and (at == len(cuts) or cuts[at] - f >= min_shot_frames):
            cuts.insert(at, f)
    return np.array(cuts, dtype=np.int64)


def shots_from_cuts(cuts: Sequence[int] | np.ndarray, n_frames: int) -> list[tuple[int, int, int]]:
    """``(shot_index, start_frame, end_frame)`` covering ``[0, n_frames)``, end exclusive.

    Cuts outside ``(0, n_frames)`` are ignored (frame 0 always starts shot 0).
    """
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    if n_frames == 0:
        return []
    inner = sorted({int(c) for c in np.asarray(cuts, dtype=np.int64).ravel() if 0 < c < n_frames})
    edges = [0, *inner, n_frames]
    return [(i, a, b) for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]


def shots_table(video_id: str, cuts: Sequence[int] | np.ndarray, n_frames: int) -> pa.Table:
    """The ``shots/`` rows of one video (``SHOTS_SCHEMA``, end_frame exclusive)."""
    shots = shots_from_cuts(cuts, n_frames)
    return pa.table(
        {
            "video_id": [video_id] * len(shots),
            "shot_index": [s[0] for s in shots],
            "start_frame": [s[1] for s in shots],
            "end_frame": [s[2] for s in shots],
        },
        schema=SHOTS_SCHEMA,
    )


def _check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be (N, H, W, 3) uint8 RGB, got {images.shape} {images.dtype}")
    return images


def _features(images: np.ndarray, weights: ContentWeights) -> np.ndarray:
    """(n, C, h, w) float32: hue, sat, value (and edges) of downscaled frames."""
    n, h, w, _ = images.shape
    f = max(1, round(w / SCORE_WIDTH))
    h2, w2 = max(1, h // f), max(1, w // f)
    f = min(f, h // h2, w // w2)
    # Block means, not subsampling: averaging also damps sensor noise and grain.
    # Summing f*f strided views in integers is several times faster than .mean().
    acc = np.zeros((n, h2, w2, 3), np.uint16 if f * f * 255 <= 0xFFFF else np.uint32)
    for dy in range(f):
        for dx in range(f):
            acc += images[:, dy : h2 * f : f, dx : w2 * f : f]
    rgb = acc.transpose(3, 0, 1, 2).astype(np.float32) * (1 / (f * f))  # planar: (3, n, h2, w2)
    hue, sat, val = _rgb_to_hsv(rgb[0], rgb[1], rgb[2])
    channels = [hue, sat, val]
    if weights.edges > 0:
        channels.append(_edges(val))
    return np.stack(channels, axis=1)


def _rgb_to_hsv(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV's 8-bit convention, in float: H in [0, 180), S and V in [0, 255]."""
    v = np.maximum(np.maximum(r, g), b)
    c = v - np.minimum(np.minimum(r, g), b)
    s = 255 * c / np.maximum(v, 1e-6)
    inv_c = 30 / np.maximum(c, 1e-6)  # 60 degrees per sextant, halved to OpenCV's units
    h = np.where(v == r, (g - b) * inv_c, np.where(v == g, 60 + (b - r) * inv_c, 120 + (r - g) * inv_c))
    h = np.where(c > 0, h % 180, 0)
    return h, s, v


def _edges(val: np.ndarray) -> np.ndarray:
    """0/255 edge map: strong luma gradients, dilated so small shifts still overlap."""
    gx = np.zeros_like(val)
    gy = np.zeros_like(val)
    gx[..., :, 1:-1] = val[..., :, 2:] - val[..., :, :-2]
    gy[..., 1:-1, :] = val[..., 2:, :] - val[..., :-2, :]
    mag = np.hypot(gx, gy)
    # Relative to each frame's own gradient level, like Canny thresholds set from the median.
    level = np.percentile(mag.reshape(len(mag), -1), 90, axis=1)[:, None, None]
    e = mag > np.maximum(level, 8.0)
    d = e.copy()  # 3x3 dilation, written out to stay in numpy
    d[..., 1:, :] |= e[..., :-1, :]
    d[..., :-1, :] |= e[..., 1:, :]
    e = d.copy()
    d[..., :, 1:] |= e[..., :, :-1]
    d[..., :, :-1] |= e[..., :, 1:]
    return 255 * d.astype(np.float32)


def _distance(a: np.ndarray, b: np.ndarray, weights: ContentWeights) -> float:
    diff = np.abs(a - b)
    hue = np.minimum(diff[0], 180 - diff[0]).mean()  # hue is an angle: 179 and 1 are close
    parts = [hue, diff[1].mean(), diff[2].mean()]
    w = [weights.hue, weights.sat, weights.lum]
    if weights.edges > 0:
        parts.append(diff[3].mean())
        w.append(weights.edges)
    return float(np.dot(parts, w) / sum(w))


def _neighbour_mean(score: np.ndarray, window: int) -> np.ndarray:
    """Mean of the finite scores within ``window`` rows on each side, excluding the row itself."""
    n = len(score)
    finite = np.where(np.isfinite(score), score, 0.0)
    count = np.isfinite(score).astype(np.float64)
    cs, cc = (np.cumsum(np.concatenate([np.zeros(window + 1), a, np.zeros(window)])) for a in (finite, count))
    i = np.arange(n) + window + 1  # position of row i in the padded cumsum
    total = cs[i + window] - cs[i - window - 1] - finite
    k = cc[i + window] - cc[i - window - 1] - count
    return np.where(k > 0, total / np.maximum(k, 1), 0.0)
