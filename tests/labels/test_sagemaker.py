"""SageMaker Ground Truth video object tracking output, on fixtures written here.

The fixture writer follows AWS's documented layout (Labeling job output data ->
"Video Frame Object Tracking Output"): a JSON Lines output manifest whose
``<attribute>-ref`` points at a ``SeqLabel.json`` with a ``tracking-annotations`` list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pytest

from balltrack.labels import LABEL_COLUMNS, LabelError, detect_format, make_labels, read_labels, read_sagemaker_manifest

ATTRIBUTE = "BallTracking"
CLASS_MAP = {"0": "ball", "1": "player"}


def seq_label(truth: pd.DataFrame, *, kind: str = "box", frame_no_as_str: bool = True, distractor: bool = True) -> dict[str, Any]:
    """A SeqLabel.json document for one video of a label table.

    Visible balls become a box centred on (x, y) (``kind="box"``) or a keypoint in the
    frame's ``keypoints`` list (``kind="keypoint"``); an invisible row with a position
    becomes a fully occluded annotation, one without a frame with no ball. A player box
    is added to every frame when ``distractor``.
    """
    entries = []
    for row in truth.itertuples():
        anns: list[dict[str, Any]] = []
        points: list[dict[str, Any]] = []
        if distractor:
            anns.append(
                {"height": 200, "width": 80, "top": 100, "left": 40, "class-id": "1",
                 "label-category-attributes": {}, "object-id": "p-1", "object-name": "player:1"}
            )
        if not np.isnan(row.x):
            occluded = {"occluded": "yes" if not row.visible else ("partially" if row.visibility_class == "partially_occluded" else "no")}
            if kind == "box":
                anns.append(
                    {"height": 10, "width": 12, "top": row.y - 5, "left": row.x - 6, "class-id": "0",
                     "label-category-attributes": occluded, "object-id": "b-1", "object-name": "ball:1"}
                )
            else:
                points.append({"x": row.x, "y": row.y, "class-id": "0", "object-id": "b-1",
                               "object-name": "ball:1", "label-category-attributes": occluded})
        entry: dict[str, Any] = {
            "annotations": anns,
            "frame-no": str(row.frame_index) if frame_no_as_str else int(row.frame_index),
            "frame": f"frame_{row.frame_index + 1:04d}.jpeg",
        }
        if kind == "keypoint":
            entry["keypoints"] = points
        entries.append(entry)
    return {"tracking-annotations": entries}


def write_fixture(
    folder: Path | str,
    truths: dict[str, pd.DataFrame],
    *,
    kind: str = "box",
    relative: bool = False,
    manifest_name: str = "output.manifest",
) -> str:
    """Write an output manifest with one line per video of ``truths`` and a SeqLabel.json
    per sequence under ``annotations/consolidated-annotation/output/<i>/``. ``folder``
    may be a local directory or an fsspec URL. Returns the manifest's path or URL."""
    base = str(folder).rstrip("/")
    lines = []
    for i, (name, truth) in enumerate(truths.items()):
        rel = f"annotations/consolidated-annotation/output/{i}/SeqLabel.json"
        with fsspec.open(f"{base}/{rel}", "wt", auto_mkdir=True) as f:
            json.dump(seq_label(truth, kind=kind), f, indent=2)
        lines.append(
            {
                "source-ref": f"s3://bucket/inputs/{name}.json",
                f"{ATTRIBUTE}-ref": rel if relative else f"{base}/{rel}",
                f"{ATTRIBUTE}-ref-metadata": {
                    "class-map": CLASS_MAP,
                    "job-name": "labeling-job/balls",
                    "human-annotated": "yes",
                    "creation-date": "2020-05-15T08:01:16+0000",
                    "type": "groundtruth/video-object-tracking",
                },
            }
        )
    manifest = f"{base}/{manifest_name}"
    with fsspec.open(manifest, "wt", auto_mkdir=True) as f:
        f.write("".join(json.dumps(line) + "\n" for line in lines))
    return manifest


def truth_table(video_id: str = "rally") -> pd.DataFrame:
    return make_labels(
        video_id,
        [0, 1, 2, 3, 4],
        [True, True, False, False, True],
        [100.0, 110.5, 120.0, np.nan, 140.0],
        [50.0, 48.0, 46.0, np.nan, 42.25],
        ["visible", "partially_occluded", "occluded", None, "visible"],
    )


@pytest.mark.parametrize("kind", ["box", "keypoint"])
def test_round_trip(tmp_path: Path, kind: str) -> None:
    truth = truth_table("out")  # one-line manifest: video_id defaults to the manifest stem
    manifest = write_fixture(tmp_path, {"rally": truth}, kind=kind, manifest_name="out.manifest")
    assert detect_format(manifest) == "sagemaker"
    df = read_sagemaker_manifest(manifest, width=1280, height=720, n_frames=5)
    assert tuple(df.columns) == LABEL_COLUMNS
    pd.testing.assert_frame_equal(df, truth)
    pd.testing.assert_frame_equal(read_labels(manifest, video_id="out"), truth)


def test_multi_sequence_relative_refs_and_frame_step(tmp_path: Path) -> None:
    a, b = truth_table("seqA"), truth_table("seqB").iloc[:2]
    manifest = write_fixture(tmp_path, {"seqA": a, "seqB": b}, relative=True)
    df = read_sagemaker_manifest(manifest)
    assert df["video_id"].unique().tolist() == ["seqA", "seqB"]  # named after source-ref
    pd.testing.assert_frame_equal(df[df.video_id == "seqA"].reset_index(drop=True), a)
    stepped = read_sagemaker_manifest(manifest, frame_step=3)
    assert stepped[stepped.video_id == "seqB"]["frame_index"].tolist() == [0, 3]
    with pytest.raises(LabelError, match="2 sequences"):
        read_sagemaker_manifest(manifest, video_id="one")


def test_fsspec_urls(tmp_path: Path) -> None:
    manifest = write_fixture("memory://gt-job", {"rally": truth_table("output")})
    assert manifest.startswith("memory://")
    pd.testing.assert_frame_equal(read_labels(manifest), truth_table("output"))


def test_seqlabel_read_directly(tmp_path: Path) -> None:
    path = tmp_path / "SeqLabel.json"
    path.write_text(json.dumps(seq_label(truth_table(), frame_no_as_str=False), indent=2))
    assert detect_format(path) == "sagemaker"
    pd.testing.assert_frame_equal(read_sagemaker_manifest(path, video_id="rally"), truth_table())


def test_category_choice(tmp_path: Path) -> None:
    # Two categories without one called "ball": the reader must be told.
    doc = seq_label(truth_table())
    for entry in doc["tracking-annotations"]:
        for ann in entry["annotations"]:
            ann["object-name"] = ann["object-name"].replace("ball", "shuttle")
    path = tmp_path / "SeqLabel.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LabelError, match=r"several label categories \['player', 'shuttle'\]; pass category="):
        read_sagemaker_manifest(path)
    df = read_sagemaker_manifest(path, category="shuttle", video_id="rally")
    pd.testing.assert_frame_equal(df, truth_table())
    with pytest.raises(LabelError, match="no annotation of category 'tennis'"):
        read_sagemaker_manifest(path, category="tennis")


def test_errors_name_file_and_entry(tmp_path: Path) -> None:
    doc = seq_label(truth_table())
    doc["tracking-annotations"][2]["annotations"].append(dict(doc["tracking-annotations"][1]["annotations"][1]))
    path = tmp_path / "SeqLabel.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LabelError, match=r"SeqLabel\.json: tracking-annotations entry 3: 2 ball annotations"):
        read_sagemaker_manifest(path)

    doc = seq_label(truth_table())
    doc["tracking-annotations"][4]["frame-no"] = "1"
    path.write_text(json.dumps(doc))
    with pytest.raises(
        LabelError, match=r"SeqLabel\.json: tracking-annotations entry 5, column 'frame-no': frame 1 repeated \(first at tracking-annotations entry 2\)"
    ):
        read_sagemaker_manifest(path)

    doc = seq_label(truth_table())
    doc["tracking-annotations"][0]["frame-no"] = "first"
    path.write_text(json.dumps(doc))
    with pytest.raises(LabelError, match=r"entry 1, column 'frame-no': 'first' is not a frame number"):
        read_sagemaker_manifest(path)

    path.write_text(json.dumps(seq_label(truth_table())))
    with pytest.raises(LabelError, match=r"entry 5, column 'frame-no': frame index 4 is past the end"):
        read_sagemaker_manifest(path, n_frames=4)


def test_manifest_errors(tmp_path: Path) -> None:
    manifest = tmp_path / "out.manifest"
    manifest.write_text('{"source-ref": "s3://b/seq.json", "Balls-ref": "missing/SeqLabel.json"}\n')
    with pytest.raises(LabelError, match=r"out\.manifest: line 1: 'Balls-ref' refers to 'missing/SeqLabel.json', which does not exist"):
        read_sagemaker_manifest(manifest)
    manifest.write_text('{"source-ref": "s3://b/seq.json"}\n')
    with pytest.raises(LabelError, match=r"out\.manifest: line 1: no '<label-attribute>-ref' key"):
        read_sagemaker_manifest(manifest)
    manifest.write_text('{"source-ref": "s3://b/seq.json", "A-ref": "a.json", "B-ref": "b.json"}\n')
    with pytest.raises(LabelError, match=r"several labels \['A-ref', 'B-ref'\]; pass label_attribute="):
        read_sagemaker_manifest(manifest)
    (tmp_path / "b.json").write_text(json.dumps(seq_label(truth_table())))
    pd.testing.assert_frame_equal(read_sagemaker_manifest(manifest, label_attribute="B", video_id="rally"), truth_table())
    manifest.write_text("\n{oops\n")
    with pytest.raises(LabelError, match=r"out\.manifest: line 2: not a JSON object"):
        read_sagemaker_manifest(manifest)
