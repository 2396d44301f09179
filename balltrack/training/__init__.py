"""Training on Ray Train: TrackNet (and later the action model), tracked in MLflow."""
