"""Evaluation reports: ball-tracking metrics per slice, as a static HTML page with
matplotlib figures, and the numbers as JSON and Parquet (see ``docs/evaluation.md``).

``build_report(out_dir, labels=..., pred=...)`` is the one call; ``load_inputs`` and
``evaluate_inputs`` give the numbers without the page (``balltrack eval tracks --slices``).
"""

from balltrack.report.build import Report, build_report, write_report
from balltrack.report.dataset import EvalInputs, Evaluation, evaluate_inputs, load_inputs

__all__ = ["EvalInputs", "Evaluation", "Report", "build_report", "evaluate_inputs", "load_inputs", "write_report"]
