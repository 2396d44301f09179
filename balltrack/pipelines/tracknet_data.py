"""Ray Data for TrackNet training: decoded frame windows joined with labels."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import ray

from balltrack.errors import InputError, VideoError
from balltrack.io.storage import resolve_inputs
from balltrack.labels import read_labels
from balltrack.models.preprocess import InputSpec, to_model_pixels
from balltrack.pipelines.frames import read_video_frames
from balltrack.pipelines.planning import probe_many
from balltrack.tracking.samples import LabelArrays, find_labelled_videos, label_arrays, windows_from_block

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledSet:
    """Videos with their labels, ready to become a training dataset."""

    paths: list[str]
    labels: dict[str, LabelArrays]  # by video_id, model pixels
    n_frames: int

    def __len__(self) -> int:
        return len(self.paths)


def load_labelled_set(dirs: Sequence[str], spec: InputSpec) -> LabelledSet:
    """Find videos with labels under ``dirs``, probe them in Ray tasks and read
    their labels (checked against each video: a frame past the end or a bad
    coordinate is an error naming the file and row)."""
    pairs = find_labelled_videos(list(dirs))
    if not pairs:
        raise InputError(f"no labelled videos under {', '.join(dirs)} (a video needs a label CSV beside it, "
                         "in labels/ or in csvs/)")
    sources = resolve_inputs([p.video_path for p in pairs])
    infos = probe_many(sources)
    labels: dict[str, LabelArrays] = {}
    paths, total = [], 0
    for pair, source, info in zip(pairs, sources, infos):
        if isinstance(info, VideoError):
            raise info
        table = read_labels(
            pair.labels_path, video_id=source.video_id, width=info.width, height=info.height, n_frames=info.n_frames
        )
        labels[source.video_id] = label_arrays(
            table, info.n_frames, lambda x, y, w=info.width, h=info.height: to_model_pixels(x, y, w, h, spec)
        )
        paths.append(source.uri)
        total += info.n_frames
    return LabelledSet(paths=paths, labels=labels, n_frames=total)


def window_dataset(
    data: LabelledSet, spec: InputSpec, *, empty_share: float = 1.0, seed: int = 0, chunk_s: float = 10.0
) -> "ray.data.Dataset":
    """Rows ``frames`` (T, H, W, 3) uint8, ``xy`` (T, 2), ``visible`` (T,),
    ``video_id``, ``frame_index``: one window ending at every labelled frame
    (windows without a visible ball kept with probability ``empty_share``)."""
    ds = read_video_frames(data.paths, size=spec.size, chunk_s=chunk_s, context_frames=spec.in_frames - 1)
    return ds.map_batches(
        windows_from_block,
        fn_args=(data.labels,),  # small: two bytes and eight floats per frame
        fn_kwargs={"in_frames": spec.in_frames, "empty_share": empty_share, "seed": seed},
        batch_size=None,  # whole blocks: context rows and their windows stay together
        batch_format="numpy",
    )
