"""Bad label files: every error names the file, the 1-based data row and the column."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from balltrack.errors import BalltrackError
from balltrack.labels import LABEL_COLUMNS, LabelError, empty_labels, make_labels, read_tracknet_csv, validate_labels
from tests._shared import REQUIRE_ENV, require_dir


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_label_error_is_a_value_error() -> None:
    assert issubclass(LabelError, ValueError) and issubclass(LabelError, BalltrackError)


def test_missing_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "nocol.csv", "Frame,Visibility,X\n0,1,5\n")
    with pytest.raises(LabelError, match=r"nocol\.csv: missing column\(s\) 'Y' in header 'Frame,Visibility,X'"):
        read_tracknet_csv(path)


def test_nan_x_on_visible_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "nanx.csv", "Frame,Visibility,X,Y\n0,1,5,6\n1,0,0,0\n2,1,nan,7\n3,1,,8\n")
    with pytest.raises(
        LabelError, match=r"nanx\.csv: data row 3, column 'X': visible row has no coordinate.*\(and 1 more data rows\)"
    ):
        read_tracknet_csv(path)


def test_non_numeric_coordinate(tmp_path: Path) -> None:
    path = _csv(tmp_path, "text.csv", "Frame,Visibility,X,Y\n0,1,5,6\n1,1,7,abc\n")
    with pytest.raises(LabelError, match=r"text\.csv: data row 2, column 'Y': 'abc' is not a number"):
        read_tracknet_csv(path)


def test_frame_past_end_of_video(tmp_path: Path) -> None:
    path = _csv(tmp_path, "past.csv", "Frame,Visibility,X,Y\n0,1,5,6\n1,1,5,6\n2,1,5,6\n3,1,5,6\n")
    read_tracknet_csv(path, n_frames=4)
    with pytest.raises(
        LabelError, match=r"past\.csv: data row 4, column 'Frame': frame index 3 is past the end of the video \(3 frames"
    ):
        read_tracknet_csv(path, n_frames=3)


def test_negative_and_fractional_frame(tmp_path: Path) -> None:
    path = _csv(tmp_path, "neg.csv", "Frame,Visibility,X,Y\n0,1,5,6\n-1,1,5,6\n")
    with pytest.raises(LabelError, match=r"neg\.csv: data row 2, column 'Frame': negative frame index -1"):
        read_tracknet_csv(path)
    path = _csv(tmp_path, "frac.csv", "Frame,Visibility,X,Y\n0.5,1,5,6\n")
    with pytest.raises(LabelError, match=r"frac\.csv: data row 1, column 'Frame': 0.5 is not an integer"):
        read_tracknet_csv(path)


def test_duplicate_frame(tmp_path: Path) -> None:
    path = _csv(tmp_path, "dup.csv", "Frame,Visibility,X,Y\n0,1,5,6\n1,1,5,6\n2,0,0,0\n1,1,9,9\n")
    with pytest.raises(LabelError, match=r"dup\.csv: data row 4, column 'Frame': frame 1 repeated \(first at data row 2\)"):
        read_tracknet_csv(path)


def test_coordinates_outside_frame(tmp_path: Path) -> None:
    path = _csv(tmp_path, "out.csv", "Frame,Visibility,X,Y\n0,1,1280,720\n1,1,1285,0\n2,1,1400,10\n")
    read_tracknet_csv(path)  # no size, no check
    with pytest.raises(LabelError, match=r"out\.csv: data row 3, column 'X': coordinate 1400 is outside the frame \(0..1280"):
        read_tracknet_csv(path, width=1280, height=720)  # 1285 is within the margin
    path = _csv(tmp_path, "neg_y.csv", "Frame,Visibility,X,Y\n0,1,10,-50\n")
    with pytest.raises(LabelError, match=r"neg_y\.csv: data row 1, column 'Y'"):
        read_tracknet_csv(path, width=1280, height=720)


def test_bad_visibility_value(tmp_path: Path) -> None:
    path = _csv(tmp_path, "vis.csv", "Frame,Visibility,X,Y\n0,1,5,6\n1,2,5,6\n")
    with pytest.raises(LabelError, match=r"vis\.csv: data row 2, column 'Visibility': visibility 2 is not 0"):
        read_tracknet_csv(path)


def test_blank_lines_keep_row_numbers_honest(tmp_path: Path) -> None:
    path = _csv(tmp_path, "blank.csv", "Frame,Visibility,X,Y\n0,1,5,6\n\n2,1,x,6\n")
    with pytest.raises(LabelError, match=r"blank\.csv: data row 3, column 'X': 'x' is not a number"):
        read_tracknet_csv(path)
    ok = _csv(tmp_path, "blank_ok.csv", "Frame,Visibility,X,Y\n0,1,5,6\n\n2,1,7,6\n\n")
    assert read_tracknet_csv(ok)["frame_index"].tolist() == [0, 2]


def test_empty_files(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match=r"nothing\.csv: empty file"):
        read_tracknet_csv(_csv(tmp_path, "nothing.csv", ""))
    df = read_tracknet_csv(_csv(tmp_path, "header.csv", "Frame,Visibility,X,Y\n"))
    assert len(df) == 0 and tuple(df.columns) == LABEL_COLUMNS
    assert df.dtypes.to_dict() == empty_labels().dtypes.to_dict()
    with pytest.raises(LabelError, match=r"gone\.csv: no such file"):
        read_tracknet_csv(tmp_path / "gone.csv")


# --- validate_labels on tables -----------------------------------------------------


def _table() -> pd.DataFrame:
    return make_labels("v", [0, 1, 2], [True, False, True], [1.0, np.nan, 3.0], [4.0, np.nan, 6.0], ["visible", None, "visible"])


def test_validate_returns_canonical_table() -> None:
    raw = pd.DataFrame(
        {
            "visibility_class": ["visible", None],
            "y": ["4", ""],
            "x": ["1.5", None],
            "visible": [1, 0],
            "frame_index": ["0", "1"],
            "video_id": ["v", "v"],
            "extra": [1, 2],
        }
    )
    df = validate_labels(raw, source="mem")
    assert tuple(df.columns) == LABEL_COLUMNS
    assert df["frame_index"].dtype == np.int64 and df["visible"].tolist() == [True, False]
    assert df["x"].tolist()[0] == 1.5 and np.isnan(df["x"].iloc[1])
    assert df["visibility_class"].tolist() == ["visible", None]
    pd.testing.assert_frame_equal(validate_labels(_table(), source="t"), _table())


def test_validate_names_source_row_and_column() -> None:
    df = _table().drop(columns=["y"])
    with pytest.raises(LabelError, match=r"t\.csv: missing column\(s\) 'y'"):
        validate_labels(df, source="t.csv")
    df = _table()
    df.loc[2, "x"] = np.nan
    with pytest.raises(LabelError, match=r"t\.csv: data row 3, column 'x': visible row has no coordinate"):
        validate_labels(df, source="t.csv")
    with pytest.raises(LabelError, match=r"t\.csv: line 12, column 'X'"):
        validate_labels(df, source="t.csv", rows=[10, 11, 12], file_columns={"x": "X"}, row_name="line")
    with pytest.raises(LabelError, match=r"data row 3, column 'frame_index': frame index 2 is past the end"):
        validate_labels(_table(), source="t", n_frames=2)
    dup = _table()
    dup.loc[2, "frame_index"] = 0
    with pytest.raises(LabelError, match=r"data row 3, column 'frame_index': frame 0 repeated \(first at data row 1\)"):
        validate_labels(dup, source="t")
    with pytest.raises(LabelError, match=r"data row 3, column 'y': coordinate 6 is outside"):
        validate_labels(_table(), source="t", width=10, height=3)


def test_same_frame_in_two_videos_is_not_a_duplicate() -> None:
    df = make_labels(["a", "b"], [0, 0], [True, True], [1.0, 2.0], [1.0, 2.0], ["visible", "visible"])
    assert len(validate_labels(df, source="t")) == 2


# --- tests/_shared.py --------------------------------------------------------------


def test_require_dir_skips_or_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert require_dir(tmp_path) == tmp_path.resolve()
    missing = tmp_path / "nope"
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="not found"):
        require_dir(missing)
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_ENV}=1"):
        require_dir(missing)
    assert os.environ[REQUIRE_ENV] == "1"
