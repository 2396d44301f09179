"""Label readers on the real label files in ../shared/realdata, and on small CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from balltrack.labels import (
    LABEL_COLUMNS,
    LabelError,
    detect_format,
    read_chgyglin_csv,
    read_labels,
    read_mareksubocz_csv,
    read_tracknet_csv,
    write_tracknet_csv,
)
from tests._shared import shared_realdata

TRACKNETV3_DIR = "qaz812345__TrackNetV3/corrected_test_label/match1/corrected_csv"
CHGYGLIN_CSV = "ChgygLin__TrackNetV2-pytorch/example_dataset/match/labels/1_10_12.csv"
MAREKSUBOCZ_CSV = "mareksubocz__TrackNet/example_datasets/video_dataset/csvs/VolleyballShortClip.csv"

# rally -> (data rows, rows with Visibility 1), counted with `wc -l` and awk.
TRACKNETV3_COUNTS = {
    "1_05_02": (517, 490),
    "1_05_03": (395, 315),
    "1_06_03": (349, 329),
    "1_07_03": (687, 611),
    "1_07_04": (215, 105),
    "1_07_06": (343, 309),
    "1_09_06": (133, 133),
    "1_09_07": (681, 580),
    "2_02_07": (155, 155),
    "2_03_08": (146, 111),
    "2_03_10": (601, 480),
}


def _assert_table_shape(df: pd.DataFrame) -> None:
    assert tuple(df.columns) == LABEL_COLUMNS
    assert df["frame_index"].dtype == np.int64
    assert df["visible"].dtype == bool
    assert df["x"].dtype == np.float64 and df["y"].dtype == np.float64
    assert pd.api.types.is_string_dtype(df["video_id"].dtype)
    assert df["visibility_class"].dtype == object


# --- TrackNetV2/V3 `Frame,Visibility,X,Y`, real files -------------------------------


def test_tracknetv3_folder_holds_the_eleven_rallies() -> None:
    files = sorted((shared_realdata() / TRACKNETV3_DIR).glob("*_ball.csv"))
    assert [f.name.removesuffix("_ball.csv") for f in files] == sorted(TRACKNETV3_COUNTS)


@pytest.mark.parametrize("rally", sorted(TRACKNETV3_COUNTS))
def test_tracknetv3_rally(rally: str) -> None:
    path = shared_realdata() / TRACKNETV3_DIR / f"{rally}_ball.csv"
    df = read_tracknet_csv(path, width=1280, height=720)
    rows, n_visible = TRACKNETV3_COUNTS[rally]
    _assert_table_shape(df)
    assert len(df) == rows
    assert int(df["visible"].sum()) == n_visible
    assert (df["video_id"] == f"{rally}_ball").all()
    # Every frame of the rally is listed, in order, from 0.
    np.testing.assert_array_equal(df["frame_index"].to_numpy(), np.arange(rows))
    vis = df["visible"].to_numpy()
    assert np.isfinite(df.loc[vis, ["x", "y"]].to_numpy()).all()
    assert df.loc[~vis, ["x", "y"]].isna().all().all()  # the 0,0,0 placeholder is not a position
    assert (df.loc[vis, "visibility_class"] == "visible").all()
    assert df.loc[~vis, "visibility_class"].map(lambda v: v is None).all()
    # Independent count with the csv module.
    with path.open(newline="") as f:
        raw = list(csv.DictReader(f))
    assert sum(r["Visibility"] == "1" for r in raw) == n_visible


def test_tracknetv3_specific_rows() -> None:
    folder = shared_realdata() / TRACKNETV3_DIR
    df = read_tracknet_csv(folder / "1_05_02_ball.csv", video_id="match1/1_05_02")
    assert (df["video_id"] == "match1/1_05_02").all()
    first = df.iloc[0]  # file line 2: 0,1,492,446
    assert (first.frame_index, first.visible, first.x, first.y) == (0, True, 492.0, 446.0)
    hidden = df.iloc[29]  # file line 31: 29,0,0,0
    assert hidden.frame_index == 29 and not hidden.visible and np.isnan(hidden.x) and np.isnan(hidden.y)
    last = df.iloc[-1]  # last line: 516,1,652,698
    assert (last.frame_index, last.visible, last.x, last.y) == (516, True, 652.0, 698.0)

    df = read_tracknet_csv(folder / "1_07_04_ball.csv")
    assert not df["visible"].iloc[:54].any()  # the shuttle first shows at frame 54
    row = df.iloc[54]
    assert (row.frame_index, row.visible, row.x, row.y) == (54, True, 503.0, 361.0)


def test_tracknetv3_all_coordinates_inside_1280x720() -> None:
    for path in sorted((shared_realdata() / TRACKNETV3_DIR).glob("*_ball.csv")):
        df = read_tracknet_csv(path, width=1280, height=720, n_frames=TRACKNETV3_COUNTS[path.name[:7]][0])
        assert df["x"].max() <= 1280 and df["y"].max() <= 720


def test_tracknetv3_round_trip_through_writer(tmp_path: Path) -> None:
    src = shared_realdata() / TRACKNETV3_DIR / "2_03_08_ball.csv"
    df = read_tracknet_csv(src)
    out = write_tracknet_csv(df, tmp_path / "sub" / "2_03_08_ball.csv")
    assert out == tmp_path / "sub" / "2_03_08_ball.csv"
    assert sorted(p.name for p in out.parent.iterdir()) == ["2_03_08_ball.csv"]  # no temp file left
    pd.testing.assert_frame_equal(read_tracknet_csv(out), df)
    # Same rows as the source: written floats parse to the same numbers.
    original = pd.read_csv(src)
    written = pd.read_csv(out)
    assert list(written.columns) == ["Frame", "Visibility", "X", "Y"]
    np.testing.assert_array_equal(written.to_numpy(dtype=float), original.to_numpy(dtype=float))


# --- ChgygLin TrackNetV2-pytorch `frame_num,visible,x,y` fractions -------------------


def test_chgyglin_real_file() -> None:
    path = shared_realdata() / CHGYGLIN_CSV
    df = read_chgyglin_csv(path, width=1920, height=1080, n_frames=6)  # the clip has 6 frames
    _assert_table_shape(df)
    assert len(df) == 6 and df["visible"].all()
    assert (df["video_id"] == "1_10_12").all()
    np.testing.assert_array_equal(df["frame_index"], np.arange(6))
    # First data row, read by hand: 0,1,0.6442708333333333,0.424074074074074
    assert df["x"].iloc[0] == pytest.approx(0.6442708333333333 * 1920)
    assert df["y"].iloc[0] == pytest.approx(0.424074074074074 * 1080)
    assert df["x"].iloc[0] == pytest.approx(1237.0)
    # Last: 5,1,0.6401041666666667,0.3944444444444444
    assert df["x"].iloc[5] == pytest.approx(0.6401041666666667 * 1920)
    assert df["y"].iloc[5] == pytest.approx(0.3944444444444444 * 1080)


def test_chgyglin_needs_width_and_height() -> None:
    path = shared_realdata() / CHGYGLIN_CSV
    with pytest.raises(LabelError, match=r"1_10_12\.csv.*width= and height="):
        read_chgyglin_csv(path)
    with pytest.raises(LabelError, match="width= and height="):
        read_labels(path, width=1920)


def test_chgyglin_frame_past_end_of_video() -> None:
    with pytest.raises(LabelError, match=r"1_10_12\.csv: data row 6, column 'frame_num': frame index 5 is past the end"):
        read_chgyglin_csv(shared_realdata() / CHGYGLIN_CSV, width=1920, height=1080, n_frames=5)


def test_chgyglin_invisible_row_and_pixel_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.csv"
    path.write_text("frame_num,visible,x,y\n0,1,0.5,0.25\n1,0,0,0\n")
    df = read_chgyglin_csv(path, width=640, height=480)
    assert df[["x", "y"]].iloc[0].tolist() == [320.0, 120.0]
    assert not df["visible"].iloc[1] and np.isnan(df["x"].iloc[1])
    pixels = tmp_path / "pixels.csv"
    pixels.write_text("frame_num,visible,x,y\n0,1,0.5,0.25\n1,1,621,305\n")
    with pytest.raises(LabelError, match=r"pixels\.csv: data row 2, column 'x': 621 is not a fraction.*pixel"):
        read_chgyglin_csv(pixels, width=640, height=480)


# --- mareksubocz TrackNet `frame_num,x,y,visible` fractions + state enum -------------


def test_mareksubocz_real_file() -> None:
    path = shared_realdata() / MAREKSUBOCZ_CSV
    df = read_mareksubocz_csv(path, width=1280, height=720, n_frames=21)  # the clip has 21 frames
    _assert_table_shape(df)
    assert len(df) == 21
    assert (df["video_id"] == "VolleyballShortClip").all()
    # Every row of the file has state 0 (VISIBLE).
    assert df["visible"].all() and (df["visibility_class"] == "visible").all()
    # First data row, by hand: 0,0.43828125,0.6361111111111111,0
    assert df["x"].iloc[0] == pytest.approx(0.43828125 * 1280)
    assert df["y"].iloc[0] == pytest.approx(0.6361111111111111 * 720)
    # Row 11: 10,0.44296875,0.39166666666666666,0
    assert df["x"].iloc[10] == pytest.approx(0.44296875 * 1280)
    assert df["y"].iloc[10] == pytest.approx(0.39166666666666666 * 720)


def test_mareksubocz_state_enum(tmp_path: Path) -> None:
    path = tmp_path / "states.csv"
    path.write_text(
        "frame_num,x,y,visible,w,h\n"
        "10,0.5,0.5,0,0.01,0.01\n"
        "11,0.25,0.75,1,0.01,0.01\n"
        "12,0.75,0.25,2,0.01,0.01\n"
        "40,0.1,0.1,3,0.01,0.01\n"
    )
    df = read_mareksubocz_csv(path, width=1000, height=100)
    assert df["frame_index"].tolist() == [10, 11, 12, 40]  # sparse: only the clicked frames
    assert df["visibility_class"].tolist() == ["visible", "occluded", "motion", "not_in_play"]
    assert df["visible"].tolist() == [True, False, False, False]
    # Positions are kept for every state: the tool records a click each time.
    assert df["x"].tolist() == pytest.approx([500.0, 250.0, 750.0, 100.0])
    assert df["y"].tolist() == pytest.approx([50.0, 75.0, 25.0, 10.0])

    bad = tmp_path / "bad_state.csv"
    bad.write_text("frame_num,x,y,visible\n0,0.5,0.5,0\n1,0.5,0.5,4\n")
    with pytest.raises(LabelError, match=r"bad_state\.csv: data row 2, column 'visible': state 4 is not one of 0 \(visible\)"):
        read_mareksubocz_csv(bad, width=1000, height=100)
    with pytest.raises(LabelError, match="width= and height="):
        read_mareksubocz_csv(path)


# --- detect_format / read_labels -------------------------------------------------------


def test_detect_format_on_real_files() -> None:
    root = shared_realdata()
    for path in sorted((root / TRACKNETV3_DIR).glob("*_ball.csv")):
        assert detect_format(path) == "tracknet"
    assert detect_format(root / CHGYGLIN_CSV) == "chgyglin"
    assert detect_format(root / MAREKSUBOCZ_CSV) == "mareksubocz"


def test_read_labels_dispatches_like_the_readers() -> None:
    root = shared_realdata()
    rally = root / TRACKNETV3_DIR / "1_09_06_ball.csv"
    pd.testing.assert_frame_equal(read_labels(rally), read_tracknet_csv(rally))
    pd.testing.assert_frame_equal(read_labels(rally, fmt="tracknet", video_id="v"), read_tracknet_csv(rally, video_id="v"))
    chg = root / CHGYGLIN_CSV
    pd.testing.assert_frame_equal(read_labels(chg, width=1920, height=1080), read_chgyglin_csv(chg, width=1920, height=1080))
    mar = root / MAREKSUBOCZ_CSV
    pd.testing.assert_frame_equal(
        read_labels(mar, width=1280, height=720, n_frames=21), read_mareksubocz_csv(mar, width=1280, height=720)
    )


def test_detect_format_small_files(tmp_path: Path) -> None:
    cases = {
        "Frame,Visibility,X,Y\n0,0,0,0\n": "tracknet",
        "Frame,Visibility,X,Y,Time\n0,0,0,0,0.0\n": "tracknet",
        "\ufeff frame , visibility,x,y\n": "tracknet",  # BOM, spaces, case
        "frame_num,visible,x,y\n": "chgyglin",
        "frame_num,x,y,visible\n": "mareksubocz",
        "frame_num,x,y,visible,w,h\n": "mareksubocz",
        '\n{"source-ref": "s3://b/seq.json"}\n': "sagemaker",
    }
    for i, (text, fmt) in enumerate(cases.items()):
        path = tmp_path / f"f{i}.csv"
        path.write_text(text, encoding="utf-8")
        assert detect_format(path) == fmt, text
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(LabelError, match=r"unknown\.csv: unknown label format.*Frame,Visibility,X,Y"):
        detect_format(unknown)
    with pytest.raises(LabelError, match="unknown label format 'yolo'"):
        read_labels(unknown, fmt="yolo")
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(LabelError, match=r"empty\.csv: empty file"):
        detect_format(empty)


# --- TrackNet CSV variants and writer ------------------------------------------------


def test_tracknet_float_coordinates_and_time_column(tmp_path: Path) -> None:
    synth = tmp_path / "synth.csv"  # what our synthetic generator writes
    synth.write_text("Frame,Visibility,X,Y\n0,1,12.5,300.25\n1,0,0,0\n2,1,13.75,299.0\n")
    df = read_tracknet_csv(synth, width=512, height=288 * 2)
    assert df["x"].tolist()[::2] == [12.5, 13.75] and df["y"].tolist()[::2] == [300.25, 299.0]
    timed = tmp_path / "timed.csv"
    timed.write_text("Frame,Visibility,X,Y,Time\n0,1,10,20,0.0\n1,0,0,0,0.04\n")
    df = read_tracknet_csv(timed)
    assert tuple(df.columns) == LABEL_COLUMNS and df["visible"].tolist() == [True, False]


def test_tracknet_unsorted_file_comes_out_sorted(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.csv"
    path.write_text("Frame,Visibility,X,Y\n2,1,3,3\n0,1,1,1\n1,0,0,0\n")
    df = read_tracknet_csv(path)
    assert df["frame_index"].tolist() == [0, 1, 2] and df["x"].tolist()[0] == 1.0
    assert df.index.tolist() == [0, 1, 2]


def test_write_tracknet_csv_format(tmp_path: Path) -> None:
    from balltrack.labels import make_labels

    df = make_labels("v", [1, 0, 2], [True, False, False], [1.5, np.nan, 7.0], [2.25, np.nan, 8.0], ["visible", None, "occluded"])
    out = write_tracknet_csv(df, tmp_path / "v.csv")
    assert out.read_text().splitlines() == ["Frame,Visibility,X,Y", "0,0,0,0", "1,1,1.5,2.25", "2,0,0,0"]
    two = make_labels(["a", "b"], [0, 0], [False, False], [np.nan] * 2, [np.nan] * 2, [None, None])
    with pytest.raises(LabelError, match="one video"):
        write_tracknet_csv(two, tmp_path / "two.csv")
    assert not (tmp_path / "two.csv").exists()


def test_reader_accepts_fsspec_url(tmp_path: Path) -> None:
    import fsspec

    with fsspec.open("memory://labels/rally.csv", "wt") as f:
        f.write("Frame,Visibility,X,Y\n0,1,5,6\n")
    df = read_labels("memory://labels/rally.csv")
    assert df["video_id"].tolist() == ["rally"] and df["x"].tolist() == [5.0]
