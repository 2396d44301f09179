"""Ball tracking from heatmaps: training targets and losses, heatmap to position (pure, no Ray)."""
