"""Storage: where videos and outputs live (local paths, s3:// through s3fs)."""
