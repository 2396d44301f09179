"""Read predicted ball tracks: `tracks/` Parquet datasets or seed-format CSVs
(``Frame,Visibility,X,Y[,Time]``), into one table keyed by video."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from balltrack.errors import InputError
from balltrack.io.storage import VIDEO_EXTENSIONS

PRED_COLUMNS = ["video_id", "frame_index", "visible", "x", "y", "score"]


def video_key(video_id: str) -> str:
    """Ids compared without a video extension: 'rally_0_000.mp4' ~ 'rally_0_000'
    (label files are named after the video's stem)."""
    for ext in VIDEO_EXTENSIONS:
        if video_id.lower().endswith(ext):
            return video_id[: -len(ext)]
    return video_id[: -len("_ball")] if video_id.endswith("_ball") else video_id


def read_predictions(paths: Sequence[str]) -> pd.DataFrame:
    frames = []
    for p in map(Path, paths):
        if p.is_dir() and (p / "tracks").is_dir():
            p = p / "tracks"
        if p.is_dir() and any(p.glob("video_id=*")) or p.suffix == ".parquet":
            frames.append(_read_parquet(p))
        elif p.is_dir():
            csvs = sorted(p.glob("*.csv"))
            if not csvs:
                raise InputError(f"{p}: no tracks/ dataset and no CSV files")
            frames.extend(_read_csv(c) for c in csvs)
        elif p.suffix.lower() == ".csv":
            frames.append(_read_csv(p))
        elif not p.exists():
            raise InputError(f"{p}: no such file or directory")
        else:
            raise InputError(f"{p}: predictions must be a tracks/ Parquet dataset or CSV files")
    out = pd.concat(frames, ignore_index=True)
    out["video_id"] = out["video_id"].map(video_key)
    return out[PRED_COLUMNS]


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.dataset as ds

    table = ds.dataset(str(path), format="parquet", partitioning="hive").to_table()
    df = table.to_pandas()
    missing = {"video_id", "frame_index", "visible", "x", "y"} - set(df.columns)
    if missing:
        raise InputError(f"{path}: tracks dataset lacks columns {sorted(missing)}")
    if "score" not in df:
        df["score"] = float("nan")
    df["video_id"] = df["video_id"].astype(str)
    return df


def _read_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    need = {"Frame", "Visibility", "X", "Y"}
    if not need <= set(df.columns):
        raise InputError(f"{path}: expected columns Frame,Visibility,X,Y, found {','.join(df.columns)}")
    vis = df["Visibility"].astype(int) > 0
    return pd.DataFrame(
        {
            "video_id": path.stem,
            "frame_index": df["Frame"].astype("int64"),
            "visible": vis,
            "x": df["X"].where(vis).astype(float),
            "y": df["Y"].where(vis).astype(float),
            "score": df["Score"].astype(float) if "Score" in df else float("nan"),
        }
    )
