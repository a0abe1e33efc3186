"""CSV / Parquet / JSON Lines sinks: round trip, NaN/inf, resume truncation, missing pyarrow."""

from __future__ import annotations

import builtins
import json

import numpy as np
import pytest

from hhpnet.errors import HhpnetError, InputError
from hhpnet.video.sinks import (
    VIDEO_COLUMNS,
    CsvSink,
    JsonlSink,
    ParquetSink,
    csv_resume_point,
    read_csv_rows,
)


def frame_cols(frame: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(frame)
    cols = {c: rng.uniform(-50, 50, n).astype(np.float32) for c in VIDEO_COLUMNS}
    cols["frame"] = np.full(n, frame)
    cols["time_s"] = np.full(n, frame / 30)
    cols["track_id"] = np.arange(n)
    cols["valid"] = np.ones(n, np.int64)
    cols["detector"] = np.full(n, "blazeface", dtype=object)
    if n:
        cols["yaw"][0] = np.nan
        cols["sigma_yaw"][0] = np.inf
        cols["pitch_smooth"][0] = -np.inf
        cols["valid"][0] = 0
    return cols


def test_csv_round_trip(tmp_path):
    path = tmp_path / "p.csv"
    with CsvSink(path) as sink:
        for f in range(5):
            sink.write(frame_cols(f, f % 3))
    rows = read_csv_rows(path)
    assert rows["frame"].tolist() == [1, 2, 2, 4]
    assert rows["frame"].dtype == np.int64
    assert np.isnan(rows["yaw"][0]) and rows["sigma_yaw"][0] == np.inf
    assert rows["pitch_smooth"][0] == -np.inf
    ref = frame_cols(2, 2)
    np.testing.assert_allclose(rows["pitch"][1:3], ref["pitch"], atol=1e-3)
    assert csv_resume_point(path) == 4


def test_csv_resume_drops_last_frame_and_cut_line(tmp_path):
    path = tmp_path / "p.csv"
    with CsvSink(path) as sink:
        for f in range(4):
            sink.write(frame_cols(f, 2))
    with open(path, "a") as fh:
        fh.write("4,0.13,0,1.0,2.0")  # a hard kill in the middle of a line
    assert csv_resume_point(path) == 3
    with CsvSink(path, resume_frame=3) as sink:
        sink.write(frame_cols(3, 2))
        sink.write(frame_cols(4, 1))
    rows = read_csv_rows(path)
    assert rows["frame"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError):
        read_csv_rows(bad)


def test_jsonl_resume(tmp_path):
    path = tmp_path / "p.jsonl"
    with JsonlSink(path) as sink:
        for f in range(3):
            sink.write({"frame": f, "people": []})
    with open(path, "a") as fh:
        fh.write('{"frame": 3, "peo')
    with JsonlSink(path, resume_frame=2) as sink:
        sink.write({"frame": 2, "people": [1]})
    frames = [json.loads(ln)["frame"] for ln in open(path)]
    assert frames == [0, 1, 2]


def test_parquet_round_trip_and_resume(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "p.parquet"
    with ParquetSink(path, flush_every=2) as sink:
        for f in range(5):
            sink.write(frame_cols(f, 2))
    t = pq.read_table(path)
    assert t.num_rows == 10 and t.schema.field("valid").type == "bool"
    kept = ParquetSink.read_before(path, 3)
    assert kept is not None and kept["frame"].tolist() == [0, 0, 1, 1, 2, 2]
    with ParquetSink(path, initial=kept) as sink:
        sink.write(frame_cols(3, 1))
    assert pq.read_table(path).column("frame").to_pylist() == [0, 0, 1, 1, 2, 2, 3]
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    assert ParquetSink.read_before(tmp_path / "broken.parquet", 3) is None


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(HhpnetError, match="hhpnet\\[parquet\\]"):
        ParquetSink(tmp_path / "x.parquet")


def test_text_column_round_trip_csv_and_parquet(tmp_path):
    cols = frame_cols(3, 3)
    cols["detector"] = np.array(["blazeface", "blazeface+movenet", "odd,name\nx"], dtype=object)
    with CsvSink(tmp_path / "p.csv") as sink:
        sink.write(cols)
    rows = read_csv_rows(tmp_path / "p.csv")
    assert rows["detector"].tolist() == ["blazeface", "blazeface+movenet", "odd;name x"]
    assert rows["frame"].tolist() == [3, 3, 3]  # the row was not broken by the comma
    pq = pytest.importorskip("pyarrow.parquet")
    with ParquetSink(tmp_path / "p.parquet") as sink:
        sink.write(cols)
    t = pq.read_table(tmp_path / "p.parquet")
    assert t.schema.field("detector").type == "string"
    assert t.column("detector").to_pylist() == ["blazeface", "blazeface+movenet", "odd;name x"]
