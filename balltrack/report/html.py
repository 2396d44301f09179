"""The report page: one static HTML file that links PNGs beside it (no script, no server)."""

from __future__ import annotations

import html
import math
from typing import Any, Mapping, Sequence

SECTIONS = (
    ("summary", "Summary"),
    ("pr-curve", "Precision-recall"),
    ("slices", "Slices"),
    ("heatmap", "Where errors fall"),
    ("gallery", "Worst frames"),
    ("trajectories", "Trajectories"),
    ("data", "Data files"),
)
"""Section ids of the page, in order (tests look for each)."""

METRIC_COLUMNS = (
    ("n_frames", "frames"), ("TP", "TP"), ("FP1", "FP1"), ("FP2", "FP2"), ("FN", "FN"), ("TN", "TN"),
    ("precision", "precision"), ("recall", "recall"), ("f1", "F1"), ("accuracy", "accuracy"),
    ("ap", "AP"), ("rmse", "RMSE px"),
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1320px;
color:#222;padding:0 16px}
h1{margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
h3{margin:18px 0 4px}p.meta,p.note{color:#555;font-size:14px;margin:4px 0}
nav a{margin-right:14px;font-size:14px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.name,th.name{text-align:left}tr.total td{font-weight:bold;background:#fafafa}
img{max-width:100%;border:1px solid #eee;margin:6px 0}
.slices{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:8px 28px}
.slices img{border:none}
details{overflow-x:auto}details summary{cursor:pointer;font-size:13px;color:#335}
code{background:#f5f5f5;padding:1px 4px}
"""


def page(
    *,
    title: str,
    result: Mapping[str, Any],
    images: Mapping[str, Any],
    gallery_rows: Sequence[Mapping[str, Any]],
    trajectories: Sequence[tuple[str, str]],
    omitted_videos: int,
    files: Sequence[tuple[str, str]],
) -> str:
    """The whole page. ``images`` maps 'pr_curve', 'heatmap', 'gallery' to a relative
    path (or None) and 'slices' to ``{kind: path}``; ``trajectories`` is
    ``[(video_id, path)]``; ``files`` is ``[(path, what)]``."""
    e = html.escape
    total = result["total"]
    src = result.get("sources", {})
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">Protocol <b>{e(result["protocol"])}</b>, tolerance {result["tolerance"]:g} '
        f'{e(result["tolerance_units"].replace("_", " "))}; {result.get("n_videos", len(result["per_video"]))} '
        f'videos, {total["n_frames"]} labelled frames; slices measured at {result["model_size"][0]}x'
        f'{result["model_size"][1]}.</p>',
        f'<p class="meta">Predictions: {e(", ".join(src.get("pred", [])) or "given as a table")}; '
        f'labels: {e(", ".join(src.get("labels", [])))}.</p>',
        "<nav>" + "".join(f'<a href="#{sid}">{e(name)}</a>' for sid, name in SECTIONS) + "</nav>",
    ]

    out.append(_section("summary", "Summary"))
    out.append('<p class="note">One row per video and the total. Precision = TP/(TP+FP1+FP2), recall = '
               "TP/(TP+FN); FP1 is a detection too far from the ball, FP2 a detection where no ball is "
               "visible. AP ranks detections by score (VOC all-point interpolation). RMSE over TP frames, "
               "source pixels.</p>")
    rows = [("all videos", total, "total")] + [(vid, m, "") for vid, m in result["per_video"].items()]
    out.append(_metric_table(rows, "video"))
    out.append("</section>")

    out.append(_section("pr-curve", "Precision-recall"))
    out.append(_img(images.get("pr_curve"), "precision-recall curve"))
    out.append(f'<p class="note">AP {_num(result["pr_curve"]["ap"])} over {result["pr_curve"]["n_detections"]} '
               f'detections and {result["pr_curve"]["n_positives"]} visible balls. Curves stop at the '
               "recall reached with every detection accepted; this recall counts a misplaced detection "
               "(FP1) as a ball not found, so it can be lower than the table's.</p></section>")

    out.append(_section("slices", "Slices"))
    out.append('<p class="note">Each kind splits all labelled frames into bins (counts sum to the total). '
               '"no ball": the label shows no visible ball; "unknown": the quantity could not be measured. '
               "Bars: recall, precision, accuracy; n above each bar. Definitions: docs/evaluation.md.</p>")
    out.append('<div class="slices">')
    for kind, spec in result["slices"].items():
        out.append(f'<div class="kind" id="slice-{e(kind)}"><h3>{e(kind)}</h3><p class="note">'
                   f'{e(spec["description"])}.' + (f' Unit: {e(spec["unit"])}.' if spec.get("unit") else "") + "</p>")
        out.append(_img(images.get("slices", {}).get(kind), f"{kind} slices"))
        table = _metric_table([(r["bin"], r, "") for r in spec["bins"]], "bin")
        out.append(f"<details><summary>numbers per bin</summary>{table}</details></div>")
    out.append("</div></section>")

    out.append(_section("heatmap", "Where errors fall"))
    out.append('<p class="note">The frame at model size divided into cells: how many visible balls each '
               "cell holds, the share of them missed or misplaced, and where wrong detections land.</p>")
    out.append(_img(images.get("heatmap"), "error heatmap") + "</section>")

    out.append(_section("gallery", "Worst frames"))
    if images.get("gallery"):
        out.append('<p class="note">Misplaced (FP1, largest error first), missed (FN, slowest ball first) and '
                   "false alarms (FP2, highest score first), in turn. Green circle: labelled ball; red cross: "
                   "prediction. Each frame is followed by a zoom.</p>")
        out.append(_img(images["gallery"], "worst frames"))
        g_rows = "".join(
            f'<tr><td class="name">{e(str(r["video_id"]))}</td><td>{int(r["frame_index"])}</td>'
            f'<td class="name">{e(str(r["outcome"]))}</td><td>{_num(r.get("error_model_px"))}</td>'
            f'<td>{_num(r.get("score")) if r["outcome"] != "FN" else "-"}</td></tr>'
            for r in gallery_rows
        )
        out.append('<table><tr><th class="name">video</th><th>frame</th><th class="name">outcome</th>'
                   f"<th>error px (model)</th><th>score</th></tr>{g_rows}</table>")
    else:
        out.append('<p class="note">No error frames with a decoded image (no errors, or videos not found).</p>')
    out.append("</section>")

    out.append(_section("trajectories", "Trajectories"))
    for vid, path in trajectories:
        out.append(f"<h3>{e(vid)}</h3>" + _img(path, f"trajectory of {vid}"))
    if omitted_videos:
        out.append(f'<p class="note">{omitted_videos} more videos not drawn (see frames.parquet).</p>')
    out.append("</section>")

    out.append(_section("data", "Data files"))
    out.append("<ul>" + "".join(f'<li><a href="{e(p)}">{e(p)}</a>: {e(what)}</li>' for p, what in files) + "</ul>")
    out.append("</section></body></html>")
    return "\n".join(out)


def _section(sid: str, name: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(name)}</h2>'


def _img(path: str | None, alt: str) -> str:
    if not path:
        return '<p class="note">(no figure)</p>'
    return f'<img src="{html.escape(path)}" alt="{html.escape(alt)}" loading="eager">'


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _metric_table(rows: Sequence[tuple[str, Mapping[str, Any], str]], first: str) -> str:
    head = f'<tr><th class="name">{html.escape(first)}</th>' + "".join(f"<th>{n}</th>" for _, n in METRIC_COLUMNS) + "</tr>"
    body = "".join(
        f'<tr class="{cls}"><td class="name">{html.escape(str(name))}</td>'
        + "".join(f"<td>{_num(m.get(k))}</td>" for k, _ in METRIC_COLUMNS) + "</tr>"
        for name, m, cls in rows
    )
    return f"<table>{head}{body}</table>"
