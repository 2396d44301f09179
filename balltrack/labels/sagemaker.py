"""Amazon SageMaker Ground Truth video frame object tracking (or detection) output.

The format, as documented by AWS ("Labeling job output data", sections "Video Frame
Object Tracking Output" and "Video Frame Object Detection Output" of the SageMaker
Developer Guide, docs.aws.amazon.com/sagemaker/latest/dg/sms-data-output.html):

* The OUTPUT MANIFEST is JSON Lines, one line per labelled frame sequence::

    {"source-ref": "s3://bucket/path/seq1.json",
     "<label-attribute>-ref": "s3://bucket/out/<job>/annotations/consolidated-annotation/output/0/SeqLabel.json",
     "<label-attribute>-ref-metadata": {"class-map": {"0": "ball"}, "job-name": "...",
                                        "type": "groundtruth/video-object-tracking", ...}}

* The referenced SEQUENCE LABEL file (``SeqLabel.json``) lists the frames a worker
  annotated::

    {"tracking-annotations": [                       # "detection-annotations" for detection jobs
       {"frame-no": "0", "frame": "frame_0001.jpeg",
        "annotations": [{"height": 36, "width": 46, "top": 178, "left": 315,
                         "class-id": "0", "object-id": "480dc450-...", "object-name": "ball:1",
                         "label-category-attributes": {"occluded": "no"}}]},
       ...]}

  Bounding boxes carry ``left``/``top``/``width``/``height`` in pixels; keypoint jobs
  carry ``x``/``y`` in pixels, either in ``annotations`` or (as real keypoint outputs
  do) in a per-frame ``keypoints`` list of ``{"object-name", "x", "y", ...}``.

How we turn it into a label table:

* ``frame_index`` = ``frame-no`` (0-based: AWS's example numbers frame_0001.jpeg as
  frame-no 0) times ``frame_step``: pass ``frame_step=N`` when the sequence was
  extracted from the video keeping every N-th frame.
* The ball is the one annotation per frame of the ball category: ``category=`` names it
  (matched against the class-map name of ``class-id``, else the ``object-name`` before
  ``:``); by default the only category present, or the one called ``ball``. Two ball
  annotations in one frame are an error.
* Position = keypoint ``(x, y)``, or the box centre ``(left + width/2, top + height/2)``.
* A ``label-category-attributes`` key ``occluded``/``occlusion``: "no"/"false"/"" ->
  visible; "partially..." -> visible, class ``'partially_occluded'``; any other value
  ("yes", "fully") -> ``visible=False``, class ``'occluded'``, position kept.
  Otherwise ``'visible'``.
* A frame listed with no ball annotation is an invisible row (class None); frames the
  file does not list get no row.
* ``video_id``: for a one-line manifest, ``video_id=`` or the manifest's stem; for
  several lines, each sequence's ``source-ref`` stem (``seq1``), or the line number.

The referenced file may be an absolute local path, any fsspec URL (``s3://`` with
``storage_options``), or a path relative to the manifest's folder. A ``SeqLabel.json``
itself can also be read directly.
"""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from balltrack.labels._csv import default_video_id, open_text, source_name
from balltrack.labels.table import LabelError, empty_labels, make_labels, sort_labels, validate_labels

SEQUENCE_KEYS: tuple[str, ...] = ("tracking-annotations", "detection-annotations")
_ANNOTATION_KEYS = ("annotations", "keypoints")
_NOT_OCCLUDED = ("", "no", "none", "false", "0", "not occluded", "not_occluded", "visible")


@dataclass(frozen=True)
class _Sequence:
    source: str  # the SeqLabel file, with the manifest line it came from
    video_id: str
    entries: list[dict[str, Any]]
    class_map: Mapping[str, str]


def read_sagemaker_manifest(
    path: str | os.PathLike[str],
    *,
    video_id: str | None = None,
    width: float | None = None,
    height: float | None = None,
    n_frames: int | None = None,
    label_attribute: str | None = None,
    category: str | None = None,
    frame_step: int = 1,
    storage_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a Ground Truth video object tracking output manifest (or one SeqLabel.json)
    into a label table; see the module docstring for the mapping.

    ``label_attribute`` picks the label when a manifest line holds several (the name
    before ``-ref``); ``category`` names the ball's label category. ``width``/``height``
    (source pixels) and ``n_frames`` only validate. Raises ``LabelError``.
    """
    if not (isinstance(frame_step, int) and frame_step >= 1):
        raise ValueError(f"frame_step must be a positive integer, got {frame_step!r}")
    source = source_name(path)
    with open_text(path, storage_options) as f:
        text = f.read()
    sequences = _load_sequences(path, text, video_id, label_attribute, storage_options)
    if not sequences:
        return empty_labels()
    ball = _ball_category(sequences, category, source)
    tables = [
        _sequence_table(seq, ball, frame_step, n_frames=n_frames, width=width, height=height) for seq in sequences
    ]
    return sort_labels(pd.concat(tables, ignore_index=True))


def _load_sequences(
    path: str | os.PathLike[str],
    text: str,
    video_id: str | None,
    label_attribute: str | None,
    storage_options: Mapping[str, Any] | None,
) -> list[_Sequence]:
    source = source_name(path)
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and any(k in whole for k in SEQUENCE_KEYS):
        vid = video_id if video_id is not None else default_video_id(path)
        return [_Sequence(source, vid, _entries(whole, source), {})]

    records: list[tuple[int, dict[str, Any]]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelError(f"{source}: line {line_no}: not a JSON object ({exc.msg})") from None
        if not isinstance(record, dict):
            raise LabelError(f"{source}: line {line_no}: not a JSON object")
        records.append((line_no, record))
    if len(records) > 1 and video_id is not None:
        raise LabelError(
            f"{source}: {len(records)} sequences in this manifest; video_id= names one video "
            "(leave it out: each sequence is named after its source-ref)"
        )
    sequences: list[_Sequence] = []
    for line_no, record in records:
        where = f"{source}: line {line_no}"
        key = _label_key(record, label_attribute, where)
        ref = record[key]
        if not isinstance(ref, str) or not ref:
            raise LabelError(f"{where}: '{key}' is not a file reference: {ref!r}")
        metadata = record.get(f"{key}-metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        job_type = _job_type(record, key)
        if job_type and not job_type.startswith("groundtruth/video"):
            raise LabelError(f"{where}: '{key}' is a {job_type!r} label, not a video frame tracking/detection label")
        class_map = {str(k): str(v) for k, v in (metadata.get("class-map") or {}).items()}
        seq_path = _resolve(ref, path)
        seq_source = f"{seq_path} (from {source} line {line_no})"
        try:
            with open_text(seq_path, storage_options) as f:
                seq = json.load(f)
        except LabelError:
            raise LabelError(f"{where}: '{key}' refers to {ref!r}, which does not exist") from None
        except json.JSONDecodeError as exc:
            raise LabelError(f"{seq_source}: not JSON ({exc.msg} at line {exc.lineno})") from None
        if len(records) == 1:
            vid = video_id if video_id is not None else default_video_id(path)
        else:
            src = record.get("source-ref")
            vid = default_video_id(src) if isinstance(src, str) and src else f"{default_video_id(path)}-{line_no}"
        sequences.append(_Sequence(seq_source, vid, _entries(seq, seq_source), class_map))
    seen: dict[str, str] = {}
    for seq in sequences:
        if seq.video_id in seen:
            raise LabelError(
                f"{source}: two sequences map to video_id {seq.video_id!r}: {seen[seq.video_id]} and {seq.source}"
            )
        seen[seq.video_id] = seq.source
    return sequences


def _label_key(record: Mapping[str, Any], label_attribute: str | None, where: str) -> str:
    refs = [k for k in record if k.endswith("-ref") and k != "source-ref"]
    if label_attribute is not None:
        for key in (label_attribute, f"{label_attribute}-ref"):
            if key in refs:
                return key
        raise LabelError(f"{where}: no label attribute {label_attribute!r}; found {refs or 'none'}")
    video = [k for k in refs if _job_type(record, k).startswith("groundtruth/video")]
    candidates = video or refs
    if len(candidates) != 1:
        what = "no '<label-attribute>-ref' key" if not candidates else f"several labels {candidates}"
        raise LabelError(f"{where}: {what}; pass label_attribute= to choose")
    return candidates[0]


def _job_type(record: Mapping[str, Any], key: str) -> str:
    metadata = record.get(f"{key}-metadata")
    return str(metadata.get("type", "")) if isinstance(metadata, Mapping) else ""


def _resolve(ref: str, manifest: str | os.PathLike[str]) -> str:
    """An absolute path or URL as is; a relative path against the manifest's folder."""
    if "://" in ref or os.path.isabs(ref):
        return ref
    base = os.fspath(manifest)
    if "://" in base:
        return posixpath.join(posixpath.dirname(base), ref)
    return os.path.join(os.path.dirname(base), ref)


def _entries(seq: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(seq, dict):
        raise LabelError(f"{source}: not a Ground Truth sequence label file (expected a JSON object)")
    for key in SEQUENCE_KEYS:
        if key in seq:
            entries = seq[key]
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise LabelError(f"{source}: '{key}' is not a list of frame objects")
            return entries
    raise LabelError(f"{source}: no {' or '.join(repr(k) for k in SEQUENCE_KEYS)} list")


def _annotations(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for key in _ANNOTATION_KEYS:
        items = entry.get(key) or []
        found.extend(a for a in items if isinstance(a, Mapping))
    return found


def _class_name(ann: Mapping[str, Any], class_map: Mapping[str, str]) -> str:
    cid = ann.get("class-id")
    if cid is not None and str(cid) in class_map:
        return class_map[str(cid)]
    name = ann.get("object-name") or ann.get("label")
    if name:
        return str(name).split(":", 1)[0]
    return "" if cid is None else f"class-id {cid}"


def _ball_category(sequences: Sequence[_Sequence], category: str | None, source: str) -> str | None:
    """The category name (lower case) whose annotations are the ball; None = all."""
    names = {
        _class_name(ann, seq.class_map).lower()
        for seq in sequences
        for entry in seq.entries
        for ann in _annotations(entry)
    }
    if category is not None:
        if names and category.lower() not in names:
            raise LabelError(f"{source}: no annotation of category {category!r}; categories found: {sorted(names)}")
        return category.lower()
    if len(names) <= 1:
        return None
    if "ball" in names:
        return "ball"
    raise LabelError(f"{source}: several label categories {sorted(names)}; pass category= to say which is the ball")


def _sequence_table(
    seq: _Sequence,
    ball: str | None,
    frame_step: int,
    *,
    n_frames: int | None,
    width: float | None,
    height: float | None,
) -> pd.DataFrame:
    frames: list[Any] = []
    visible: list[bool] = []
    xs: list[float] = []
    ys: list[float] = []
    classes: list[str | None] = []
    for number, entry in enumerate(seq.entries, start=1):
        where = f"{seq.source}: tracking-annotations entry {number}"
        frames.append(_frame_no(entry, where))
        balls = [a for a in _annotations(entry) if ball is None or _class_name(a, seq.class_map).lower() == ball]
        if len(balls) > 1:
            names = ", ".join(str(a.get("object-name", "?")) for a in balls)
            raise LabelError(
                f"{where}: {len(balls)} ball annotations in one frame ({names}); pass category= to pick one"
            )
        if not balls:
            visible.append(False)
            xs.append(np.nan)
            ys.append(np.nan)
            classes.append(None)
            continue
        x, y = _position(balls[0], where)
        seen, label = _visibility(balls[0])
        visible.append(seen)
        xs.append(x)
        ys.append(y)
        classes.append(label)
    frame_index = np.asarray(frames, dtype=np.int64) * frame_step
    table = make_labels(seq.video_id, frame_index, visible, xs, ys, classes)
    return validate_labels(
        table,
        source=seq.source,
        n_frames=n_frames,
        width=width,
        height=height,
        rows=np.arange(1, len(table) + 1),
        file_columns={"frame_index": "frame-no"},
        row_name="tracking-annotations entry",
    )


def _frame_no(entry: Mapping[str, Any], where: str) -> int:
    value = entry.get("frame-no", entry.get("frame-number"))
    try:
        number = float(str(value).strip())
    except ValueError:
        number = float("nan")
    if value is None or not number.is_integer() or number < 0:
        raise LabelError(f"{where}, column 'frame-no': {value!r} is not a frame number (a non-negative integer)")
    return int(number)


def _position(ann: Mapping[str, Any], where: str) -> tuple[float, float]:
    """Keypoint (x, y), or the box centre, in pixels."""
    name = ann.get("object-name", "")
    try:
        if "x" in ann and "y" in ann:
            return float(ann["x"]), float(ann["y"])
        points = ann.get("keypoints")
        if isinstance(points, list) and points and isinstance(points[0], Mapping):
            return float(points[0]["x"]), float(points[0]["y"])
        if all(k in ann for k in ("left", "top", "width", "height")):
            return float(ann["left"]) + float(ann["width"]) / 2.0, float(ann["top"]) + float(ann["height"]) / 2.0
    except (TypeError, ValueError, KeyError) as exc:
        raise LabelError(f"{where}: annotation {name!r} has a non-numeric position ({exc})") from None
    raise LabelError(f"{where}: annotation {name!r} has neither a keypoint (x, y) nor a box (left, top, width, height)")


def _visibility(ann: Mapping[str, Any]) -> tuple[bool, str]:
    attributes = ann.get("label-category-attributes") or {}
    for key, value in attributes.items() if isinstance(attributes, Mapping) else ():
        if str(key).strip().lower() in ("occluded", "occlusion"):
            text = str(value).strip().lower()
            if text in _NOT_OCCLUDED:
                return True, "visible"
            if text.startswith("partial") or text == "partly":
                return True, "partially_occluded"
            return False, "occluded"
    return True, "visible"
