"""Ball label files of every supported format, read into one table.

Each reader returns a ``pandas.DataFrame`` with the columns ``LABEL_COLUMNS``
(``video_id, frame_index, visible, x, y, visibility_class``; x, y in source-video
pixels), validated by ``validate_labels``; see ``balltrack.labels.table`` for the
contract and each reader's module for its format's conventions.
"""

from balltrack.labels.chgyglin import read_chgyglin_csv
from balltrack.labels.detect import LABEL_FORMATS, detect_format, read_labels
from balltrack.labels.mareksubocz import MAREKSUBOCZ_STATES, read_mareksubocz_csv
from balltrack.labels.sagemaker import read_sagemaker_manifest
from balltrack.labels.table import (
    LABEL_COLUMNS,
    LABEL_DTYPES,
    VISIBILITY_CLASSES,
    LabelError,
    empty_labels,
    make_labels,
    validate_labels,
)
from balltrack.labels.tracknet import read_tracknet_csv, write_tracknet_csv

__all__ = [
    "LABEL_COLUMNS",
    "LABEL_DTYPES",
    "LABEL_FORMATS",
    "MAREKSUBOCZ_STATES",
    "VISIBILITY_CLASSES",
    "LabelError",
    "detect_format",
    "empty_labels",
    "make_labels",
    "read_chgyglin_csv",
    "read_labels",
    "read_mareksubocz_csv",
    "read_sagemaker_manifest",
    "read_tracknet_csv",
    "validate_labels",
    "write_tracknet_csv",
]
