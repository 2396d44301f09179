"""Which label format a file holds, and one call that reads any of them.

Formats (``LABEL_FORMATS``) and how ``detect_format`` tells them apart:

============  ===============================  ===========================  ========================
name          first line                       coordinates                  reader
============  ===============================  ===========================  ========================
tracknet      ``Frame,Visibility,X,Y[,Time]``  pixels                       ``read_tracknet_csv``
chgyglin      ``frame_num,visible,x,y``        fractions (width/height)     ``read_chgyglin_csv``
mareksubocz   ``frame_num,x,y,visible``        fractions, state enum        ``read_mareksubocz_csv``
sagemaker     ``{`` (JSON Lines / JSON)        pixels                       ``read_sagemaker_manifest``
============  ===============================  ===========================  ========================

The two fraction formats share their column names and differ only in ORDER (and in
what ``visible`` means), so detection goes by the order of the header: a file whose
columns were reordered by hand must be read with an explicit ``fmt``. Header names are
compared case-insensitively; columns after the format's own are allowed.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping

import pandas as pd

from balltrack.labels._csv import open_text, read_header, source_name
from balltrack.labels.chgyglin import CHGYGLIN_COLUMNS, read_chgyglin_csv
from balltrack.labels.mareksubocz import MAREKSUBOCZ_COLUMNS, read_mareksubocz_csv
from balltrack.labels.sagemaker import read_sagemaker_manifest
from balltrack.labels.table import LabelError
from balltrack.labels.tracknet import TRACKNET_COLUMNS, read_tracknet_csv

Reader = Callable[..., pd.DataFrame]

READERS: Mapping[str, Reader] = {
    "tracknet": read_tracknet_csv,
    "chgyglin": read_chgyglin_csv,
    "mareksubocz": read_mareksubocz_csv,
    "sagemaker": read_sagemaker_manifest,
}
LABEL_FORMATS: tuple[str, ...] = tuple(READERS)

_CSV_HEADERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tracknet", TRACKNET_COLUMNS),
    ("chgyglin", CHGYGLIN_COLUMNS),
    ("mareksubocz", MAREKSUBOCZ_COLUMNS),
)


def detect_format(path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None) -> str:
    """The name of the label format of ``path`` (one of ``LABEL_FORMATS``), sniffed
    from its first non-blank line. Raises ``LabelError`` when none matches."""
    source = source_name(path)
    with open_text(path, storage_options) as f:
        first = next((line.strip() for line in f if line.strip()), "")
    if not first:
        raise LabelError(f"{source}: empty file, no label format to detect")
    if first.startswith("{"):
        return "sagemaker"
    header = tuple(name.lower() for name in read_header(path, storage_options))
    for name, columns in _CSV_HEADERS:
        wanted = tuple(c.lower() for c in columns)
        if header[: len(wanted)] == wanted:
            return name
    known = "; ".join(f"{name}: {','.join(columns)}" for name, columns in _CSV_HEADERS)
    raise LabelError(
        f"{source}: unknown label format (first line {first[:80]!r}); known CSV headers are {known}, "
        "or a SageMaker Ground Truth manifest (JSON Lines)"
    )


def read_labels(
    path: str | os.PathLike[str],
    *,
    fmt: str = "auto",
    video_id: str | None = None,
    width: float | None = None,
    height: float | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Read any supported label file into the label table.

    ``fmt="auto"`` detects the format (see ``detect_format``); otherwise one of
    ``LABEL_FORMATS``. ``width``/``height`` are the source video's size in pixels
    (required by the fraction formats, used for validation by the others). Other
    keyword ``options`` go to the reader (``n_frames``, ``storage_options``, and for
    sagemaker ``category``, ``label_attribute``, ``frame_step``).
    """
    if fmt == "auto":
        fmt = detect_format(path, storage_options=options.get("storage_options"))
    reader = READERS.get(fmt)
    if reader is None:
        raise LabelError(f"unknown label format {fmt!r}; choose 'auto' or one of {', '.join(LABEL_FORMATS)}")
    return reader(path, video_id=video_id, width=width, height=height, **options)
