"""Evaluation metrics (pure numpy/pandas, no Ray)."""
