"""Ball-tracking networks and their input preprocessing (pure torch, no Ray).

``tracknet`` holds the TrackNet family (V2 U-Net with V3 background and V4 motion
attention as switches); ``preprocess`` is the one function that turns frames into model
input and the one mapping between source and model pixels.
"""

from balltrack.models.preprocess import (
    InputSpec,
    frames_to_input,
    resize_scale,
    to_model_pixels,
    to_source_pixels,
)
from balltrack.models.tracknet import (
    PRESETS,
    TrackNet,
    TrackNetConfig,
    build_tracknet,
    config_from_dict,
    config_from_name,
    config_to_dict,
    count_parameters,
    predict_heatmaps,
)

__all__ = [
    "PRESETS",
    "InputSpec",
    "TrackNet",
    "TrackNetConfig",
    "build_tracknet",
    "config_from_dict",
    "config_from_name",
    "config_to_dict",
    "count_parameters",
    "frames_to_input",
    "predict_heatmaps",
    "resize_scale",
    "to_model_pixels",
    "to_source_pixels",
]
