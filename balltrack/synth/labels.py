"""Label files of a synthetic clip, each written to a temporary name and renamed.

- ``<stem>.csv``: TrackNet labels ``Frame,Visibility,X,Y`` (source pixels, 2 decimals; 0,0 when invisible).
- ``<stem>.meta.csv``: ``Frame,Radius,VisibilityClass,Shot`` (radius px, class, camera shot index).
- ``<stem>.events.json``: clip facts (video, fps, width, height, n_frames, seed, clip_index), the
  ``events`` - ``{"frame", "time_s", "type"}`` with type ``hit | bounce | cut | rally_start | rally_end``,
  ``time_s`` the exact time of the event and ``frame`` the nearest frame (a cut's first frame) -
  and the camera ``shots`` - ``{"index", "kind", "start_frame", "end_frame"}``, end exclusive,
  kind ``main | crowd | closeup``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

VISIBILITY_CLASSES = ("visible", "occluded", "blurred", "out_of_frame")
EVENT_TYPES = ("hit", "bounce", "cut", "rally_start", "rally_end")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees either nothing or the whole file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def tracknet_csv(visible: np.ndarray, x: np.ndarray, y: np.ndarray) -> str:
    rows = ["Frame,Visibility,X,Y"]
    for i, (v, xi, yi) in enumerate(zip(visible, x, y)):
        rows.append(f"{i},1,{xi:.2f},{yi:.2f}" if v else f"{i},0,0.00,0.00")
    return "\n".join(rows) + "\n"


def meta_csv(radius_px: np.ndarray, classes: Sequence[str], shot: np.ndarray) -> str:
    rows = ["Frame,Radius,VisibilityClass,Shot"]
    for i, (r, c, s) in enumerate(zip(radius_px, classes, shot)):
        rows.append(f"{i},{r:.2f},{c},{int(s)}")
    return "\n".join(rows) + "\n"


def events_json(*, video: str, fps: float, width: int, height: int, n_frames: int, seed: int, clip_index: int,
                events: list[dict], shots: list[dict]) -> str:
    doc = {
        "video": video,
        "fps": fps,
        "width": width,
        "height": height,
        "n_frames": n_frames,
        "seed": seed,
        "clip_index": clip_index,
        "events": events,
        "shots": shots,
    }
    return json.dumps(doc, indent=1) + "\n"
