"""`balltrack eval tracks` on files: predictions vs labels through the CLI."""

from __future__ import annotations

import json

import pandas as pd

from balltrack.cli import EXIT_OK, EXIT_USAGE, main


def write_labels(path, rows):
    pd.DataFrame(rows, columns=["Frame", "Visibility", "X", "Y"]).to_csv(path, index=False)


def test_eval_tracks_counts_each_outcome(tmp_path, capsys):
    labels, pred = tmp_path / "labels", tmp_path / "pred"
    labels.mkdir(), pred.mkdir()
    # 1280x720 source: 10 px along x is 4 heatmap px at 512x288 (TP at tol 4), 15 px is 6 (FP1).
    write_labels(labels / "m1.csv", [[0, 1, 100, 100], [1, 1, 100, 100], [2, 0, 0, 0], [3, 1, 50, 50], [4, 0, 0, 0]])
    write_labels(pred / "m1.csv", [[0, 1, 110, 100], [1, 1, 115, 100], [2, 1, 10, 10], [3, 0, 0, 0], [4, 0, 0, 0]])
    out = tmp_path / "metrics.json"
    code = main(["eval", "tracks", "--pred", str(pred), "--labels", str(labels), "--source-size", "1280x720",
                 "--out", str(out)])
    assert code == EXIT_OK
    report = json.loads(out.read_text())
    t = report["total"]
    assert (t["TP"], t["FP1"], t["FP2"], t["FN"], t["TN"]) == (1, 1, 1, 1, 1)
    assert t["precision"] == 1 / 3 and t["recall"] == 1 / 2 and t["accuracy"] == 2 / 5
    assert t["rmse"] == 10.0
    assert report["per_video"]["m1"]["TP"] == 1
    assert json.loads(capsys.readouterr().out)["total"]["TP"] == 1
    # WASB: tolerance in source pixels, strict: 10 px is not < 10.
    main(["eval", "tracks", "--pred", str(pred), "--labels", str(labels), "--protocol", "wasb", "--tolerance", "10",
          "--out", str(out)])
    t = json.loads(out.read_text())["total"]
    assert (t["TP"], t["FP1"]) == (0, 2)


def test_eval_tracks_needs_sizes_and_predictions(tmp_path, capsys):
    labels, pred = tmp_path / "labels", tmp_path / "pred"
    labels.mkdir(), pred.mkdir()
    write_labels(labels / "m1.csv", [[0, 1, 100, 100]])
    write_labels(pred / "other.csv", [[0, 1, 100, 100]])
    assert main(["eval", "tracks", "--pred", str(pred), "--labels", str(labels), "--source-size", "1280x720"]) == EXIT_USAGE
    assert "no predictions for labelled videos: m1" in capsys.readouterr().err
    write_labels(pred / "m1.csv", [[0, 1, 100, 100]])
    assert main(["eval", "tracks", "--pred", str(pred), "--labels", str(labels)]) == EXIT_USAGE
    assert "--source-size" in capsys.readouterr().err
