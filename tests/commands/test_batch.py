"""``hhpnet batch`` on a real local Ray instance (2 CPUs) with small videos of real faces.

The videos are made of face crops from the bundled example photos moving over a plain
background, so the shipped detector and model do their normal work in the Ray workers. Every
result is compared with what ``hhpnet video`` writes for the same input (the reference).
"""

from __future__ import annotations

import csv
import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hhpnet import samples
from hhpnet.batch import (
    SUMMARY_COLUMNS,
    BatchInput,
    BatchOptions,
    _assign_names,
    _Layout,
    _Lock,
    collect_inputs,
    read_dataset,
    read_manifest,
    run_batch,
    start_ray,
)
from hhpnet.errors import HhpnetError, InputError
from tests.helpers.cli import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "hhpnet" / "examples"
GOOD = ("one", "two", "four", "still")


# --------------------------------------------------------------------------- fixtures
@functools.lru_cache(maxsize=1)
def face_crops(size: int = 110) -> list[np.ndarray]:
    """BGR squares around the faces of the example photos (found by the shipped detector)."""
    return samples.face_crops(size)


def scene_video(path: Path, people: int, frames: int, fourcc: str = "mp4v") -> str:
    """A 320×240 clip: ``people`` faces drifting slowly over a grey-green background."""
    crops = face_crops()
    s = crops[0].shape[0]
    slots = [(10, 10), (200, 10), (10, 125), (200, 125)]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), 30.0, (320, 240))
    assert writer.isOpened()
    for k in range(frames):
        img = np.full((240, 320, 3), 90, np.uint8)
        img[:, :, 1] = 110
        for p in range(people):
            x0, y0 = slots[p]
            dx = int(4 * np.sin(2 * np.pi * k / 40 + p)) + 4
            dy = int(2 * np.cos(2 * np.pi * k / 40 + p)) + 2
            img[y0 + dy : y0 + dy + s, x0 + dx : x0 + dx + s] = crops[p % len(crops)]
        writer.write(img)
    writer.release()
    return str(path)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("clips")
    scene_video(d / "one.mp4", 1, 12)
    scene_video(d / "two.mp4", 2, 16)
    scene_video(d / "four.mp4", 4, 10)
    cv2.imwrite(str(d / "still.jpg"), cv2.imread(str(EXAMPLES / "pair_640x480.jpg")))
    (d / "bad.mp4").write_bytes(os.urandom(4000))
    (d / "broken.jpg").write_bytes((EXAMPLES / "camera.jpg").read_bytes()[:300])
    avi = scene_video(d.parent / "whole.avi", 2, 24, fourcc="MJPG")
    data = Path(avi).read_bytes()
    (d / "cut.avi").write_bytes(data[: len(data) // 2])  # breaks in the middle
    return d


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> str:
    return scene_video(tmp_path_factory.mktemp("long") / "long.mp4", 1, 150)


@pytest.fixture(scope="module")
def ray_address():
    """One local Ray instance (2 CPUs) for the module; drivers join it by address."""
    import ray

    started = start_ray(num_cpus=2)
    assert started
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_root(clips):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(clips))
    )
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


_hhpnet = run_cli


@pytest.fixture(scope="module")
def reference(clips, long_clip, tmp_path_factory) -> dict[str, Path]:
    """What `hhpnet video` writes for every good input: name → folder of reference files."""
    ref = tmp_path_factory.mktemp("ref")
    mp = pytest.MonkeyPatch()
    out = {}
    for name, src in [
        ("one", clips / "one.mp4"),
        ("two", clips / "two.mp4"),
        ("four", clips / "four.mp4"),
        ("still", clips / "still.jpg"),
        ("cut", clips / "cut.avi"),
        ("long", Path(long_clip)),
    ]:
        d = ref / name
        extra = ["--json", str(d / "poses.jsonl")] if name == "two" else []
        code = _hhpnet(
            [
                "video",
                str(src),
                "--no-progress",
                "--csv",
                str(d / "poses.csv"),
                "--parquet",
                str(d / "poses.parquet"),
                "--timeline-csv",
                str(d / "timeline.csv"),
                *extra,
            ],
            mp,
        )
        assert code == (1 if name == "cut" else 0)
        out[name] = d
    mp.undo()
    return out


def assert_same_as_video(out: Path, name: str, ref: Path) -> None:
    """The batch files of one input equal `hhpnet video`'s, byte for byte (Parquet: table)."""
    got = out / "inputs" / name
    for fn in ("poses.csv", "timeline.csv", "timeline_people.csv"):
        assert (got / fn).read_bytes() == (ref / fn).read_bytes(), f"{name}/{fn}"
    table = pq.read_table(out / "dataset" / f"input={name}" / "part-0.parquet")
    assert table.equals(pq.read_table(ref / "poses.parquet")), name


def assert_dataset_consistent(out: Path, names: set[str]) -> None:
    """One partition per finished input, each row once, rows = the per-input CSVs."""
    t = read_dataset(out)
    assert set(t.column("input").to_pylist()) <= names
    assert sorted(p.name for p in (out / "dataset").iterdir()) == sorted(
        f"input={n}" for n in names
    )
    keys = list(
        zip(*(t.column(c).to_pylist() for c in ("input", "frame", "track_id")), strict=True)
    )
    assert len(keys) == len(set(keys))
    for n in names:
        with open(out / "inputs" / n / "poses.csv") as fh:
            csv_rows = sum(1 for _ in fh) - 1
        assert (pc.sum(pc.equal(t.column("input"), n)).as_py() or 0) == csv_rows


def assert_no_leftovers(out: Path) -> None:
    """No temporary folders or running markers once a batch has ended."""
    for sub in ("tmp", "running"):
        d = out / "_batch" / sub
        assert not d.exists() or not any(d.iterdir()), sub


def records(out: Path) -> dict[str, dict]:
    d = out / "_batch" / "records"
    return {p.stem: json.loads(p.read_text()) for p in d.glob("*.json")}


def summary(out: Path) -> dict[str, dict]:
    with open(out / "summary.csv", newline="") as fh:
        return {r["name"]: r for r in csv.DictReader(fh)}


OPTS = {"progress": False}


@pytest.fixture(scope="module")
def first_run(clips, http_root, ray_address, tmp_path_factory):
    """One batch over the clip folder plus a manifest with a URL, a 404 URL and a named entry."""
    base = tmp_path_factory.mktemp("run")
    manifest = base / "list.csv"
    manifest.write_text(
        "path,name\n"
        f"{http_root}/two.mp4,web\n"
        f"{http_root}/missing.mp4,\n"
        f"{clips / 'one.mp4'},\n"  # also in the folder: kept once
    )
    out = base / "out"
    lines: list[str] = []
    report = run_batch([str(clips), str(manifest)], out, BatchOptions(**OPTS), log=lines.append)
    return out, report, lines


# --------------------------------------------------------------------------- Ray tests
def test_batch_equals_hhpnet_video_and_records_bad_inputs(first_run, clips, http_root, reference):
    out, report, lines = first_run
    assert report.exit_code == 1
    status = {r["name"]: r["status"] for r in report.rows}
    assert status == {
        "bad": "failed",
        "broken": "failed",
        "cut": "damaged",
        "four": "done",
        "one": "done",
        "still": "done",
        "two": "done",
        "web": "done",
        "missing": "failed",
    }
    for name in ("one", "two", "four", "still"):
        assert_same_as_video(out, name, reference[name])
    # the URL was downloaded and processed as a file: identical to the local file's results
    assert_same_as_video(out, "web", reference["two"])
    # a video that breaks in the middle: the rows up to the damage, like `hhpnet video`
    assert_same_as_video(out, "cut", reference["cut"])
    assert_dataset_consistent(out, {"one", "two", "four", "still", "web", "cut"})
    recs = records(out)
    assert recs["bad"]["error"] == f"{clips / 'bad.mp4'}: cannot open as a video " + (
        "(unreadable, truncated or corrupt)"
    )
    assert recs["missing"]["error"].startswith(f"{http_root}/missing.mp4: download failed")
    assert "decoding stopped at frame" in recs["cut"]["error"]
    assert recs["broken"]["error"].startswith(str(clips / "broken.jpg"))
    for r in recs.values():
        assert "\n" not in (r["error"] or "")
    assert not (out / "inputs" / "bad").exists() and not (out / "dataset" / "input=bad").exists()
    # one line per bad input, naming it; the summary table has every input
    assert sum("hhpnet: error:" in ln for ln in lines) == 3
    table = summary(out)
    assert set(table) == set(status)
    assert table["four"]["frames"] == "10" and table["four"]["people"] == "4"
    assert table["two"]["rows"] == str(recs["two"]["rows"])
    assert table["bad"]["error"] == recs["bad"]["error"]
    assert_no_leftovers(out)


def test_batch_files_have_the_documented_shapes(first_run):
    """batch.json, the records, the summary table and the report rows hold the keys that
    :mod:`hhpnet.batch.schema` writes down (a finished record all of them, in that order)."""
    from hhpnet.batch import schema

    out, report, _ = first_run
    marker = json.loads((out / "_batch" / "batch.json").read_text())
    assert list(marker) == list(schema.Marker.__annotations__)
    assert schema.Processing.__required_keys__ <= set(marker["processing"])
    assert set(marker["processing"]) <= set(schema.Processing.__annotations__)
    for name, rec in records(out).items():
        assert schema.Record.__required_keys__ <= set(rec) <= set(schema.Record.__annotations__)
        assert set(rec["input"]) <= set(schema.Fingerprint.__annotations__), name
        for info in rec["outputs"].values():
            assert list(info) == list(schema.OutputFile.__annotations__)
        if rec["status"] != "failed":
            assert list(rec) == list(schema.Record.__annotations__), name
    with open(out / "summary.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == list(SUMMARY_COLUMNS) == list(schema.SummaryRow.__annotations__)
    assert all(list(r) == header for r in report.rows)


def test_rerun_skips_finished_inputs_and_redoes_changed_ones(first_run, clips, tmp_path, reference):
    src, _, _ = first_run
    out = tmp_path / "out"
    shutil.copytree(src, out)  # an output folder can be moved: records hold relative paths
    before = records(out)
    report = run_batch([str(clips)], out, BatchOptions(**OPTS), log=lambda s: None)
    skipped = {r["name"] for r in report.rows if r["skipped"]}
    assert skipped == {"one", "two", "four", "still", "cut"}  # damaged counts as finished
    after = records(out)
    assert all(after[n]["finished_at"] == before[n]["finished_at"] for n in skipped)
    assert report.exit_code == 1  # the bad and the damaged inputs are still there
    assert "web" in summary(out)  # finished inputs of the earlier run stay in the table

    # a changed input, a cut output file and a lost partition are redone; nothing else
    os.utime(clips / "four.mp4")
    cut_csv = out / "inputs" / "one" / "poses.csv"
    cut_csv.write_bytes(cut_csv.read_bytes()[:-40])
    (out / "dataset" / "input=still" / "part-0.parquet").unlink()
    report = run_batch([str(clips)], out, BatchOptions(**OPTS), log=lambda s: None)
    redone = {r["name"] for r in report.rows if not r["skipped"]}
    assert redone == {"four", "one", "still", "bad", "broken"}
    for name in ("one", "four", "still"):
        assert_same_as_video(out, name, reference[name])

    # a same-size change of an output is only seen by --check hash
    p = out / "inputs" / "two" / "timeline_people.csv"
    data = bytearray(p.read_bytes())
    data[-2] = ord("7") if data[-2] != ord("7") else ord("8")
    p.write_bytes(bytes(data))
    report = run_batch([str(clips / "two.mp4")], out, BatchOptions(**OPTS), log=lambda s: None)
    assert report.rows[0]["skipped"] == 1
    opts = BatchOptions(check="hash", **OPTS)
    report = run_batch([str(clips / "two.mp4")], out, opts, log=lambda s: None)
    assert report.rows[0]["skipped"] == 0 and report.exit_code == 0
    assert_same_as_video(out, "two", reference["two"])

    # other processing options: refused, unless --force, which drops the stale results
    with pytest.raises(InputError, match=r"other options \(stride\)"):
        run_batch([str(clips / "one.mp4")], out, BatchOptions(stride=2, **OPTS))
    opts = BatchOptions(stride=2, force=True, **OPTS)
    report = run_batch([str(clips / "one.mp4")], out, opts, log=lambda s: None)
    assert report.exit_code == 0 and report.rows[0]["frames"] == 6
    assert set(records(out)) == {"one"} and set(summary(out)) == {"one"}
    assert_dataset_consistent(out, {"one"})


def _wait_for(pred, timeout: float = 60.0, what: str = "condition"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _running(out: Path, name: str) -> dict | None:
    p = out / "_batch" / "running" / f"{name}.json"
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def _rows_in(folder: str) -> int:
    try:
        with open(os.path.join(folder, "poses.csv")) as fh:
            return sum(1 for _ in fh) - 1
    except OSError:
        return 0


def test_killed_worker_is_retried_and_nothing_is_duplicated(
    clips, long_clip, ray_address, tmp_path, reference
):
    out = tmp_path / "out"
    inputs = [long_clip, str(clips / "one.mp4"), str(clips / "two.mp4")]
    result: dict = {}
    t = threading.Thread(
        target=lambda: result.update(
            report=run_batch(inputs, out, BatchOptions(**OPTS), log=lambda s: None)
        )
    )
    t.start()
    # kill the worker of the long clip in the middle of its video
    run = _wait_for(lambda: _running(out, "long"), what="the long clip to start")
    _wait_for(lambda: _rows_in(run["tmp"]) >= 10, what="rows of the long clip")
    assert _rows_in(run["tmp"]) < 140
    os.kill(run["pid"], signal.SIGKILL)
    t.join(120)
    assert not t.is_alive()
    report = result["report"]
    assert report.exit_code == 0, report.rows
    recs = records(out)
    assert recs["long"]["attempts"] == 2 and recs["long"]["pid"] != run["pid"]
    assert recs["one"]["attempts"] == 1
    for name in ("long", "one", "two"):
        assert_same_as_video(out, name, reference[name])
    assert_dataset_consistent(out, {"long", "one", "two"})
    assert_no_leftovers(out)


def _driver(inputs: list[str], out: Path, address: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hhpnet.cli",
            "batch",
            *inputs,
            "--out",
            str(out),
            "--address",
            address,
            "--no-progress",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_driver_then_resumed(
    sig, clips, long_clip, ray_address, tmp_path, reference, monkeypatch
):
    out = tmp_path / "out"
    inputs = [str(clips / "one.mp4"), long_clip, str(clips / "two.mp4")]
    proc = _driver(inputs, out, ray_address, "--workers", "1")
    try:
        _wait_for(lambda: (out / "_batch" / "records" / "one.json").exists(), what="first input")
        run = _wait_for(lambda: _running(out, "long"), what="second input")
        _wait_for(lambda: _rows_in(run["tmp"]) >= 5, what="rows of the long clip")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert any("run the same command again" in ln for ln in lines), err
        assert "Traceback" not in err
        assert summary(out)["two"]["status"] == "pending"
    else:
        assert proc.returncode == -signal.SIGKILL
    # only finished inputs have files; "one" is complete
    assert set(records(out)) == {"one"} | ({"long"} & set(records(out)))
    assert_same_as_video(out, "one", reference["one"])
    # the same command again: finishes the rest, skips what was finished
    code = _hhpnet(
        ["batch", *inputs, "--out", str(out), "--address", ray_address, "--no-progress"],
        monkeypatch,
    )
    assert code == 0
    rows = summary(out)
    assert rows["one"]["skipped"] == "1" and rows["two"]["skipped"] == "0"
    for name in ("one", "long", "two"):
        assert_same_as_video(out, name, reference[name])
    assert_dataset_consistent(out, {"one", "long", "two"})


def test_optional_files_per_input(clips, ray_address, tmp_path, reference):
    out = tmp_path / "out"
    opts = BatchOptions(jsonl=True, save_video=True, timeline_png=True, **OPTS)
    report = run_batch([str(clips / "two.mp4")], out, opts, log=lambda s: None)
    assert report.exit_code == 0
    got = out / "inputs" / "two"
    assert (got / "poses.jsonl").read_bytes() == (reference["two"] / "poses.jsonl").read_bytes()
    assert_same_as_video(out, "two", reference["two"])
    cap = cv2.VideoCapture(str(got / "annotated.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 16
    cap.release()
    png = cv2.imread(str(got / "timeline.png"))
    assert png is not None and png.shape[0] > 100 and png.shape[1] > 200
    assert set(records(out)["two"]["outputs"]) == {
        "csv",
        "parquet",
        "timeline_csv",
        "timeline_people_csv",
        "jsonl",
        "video",
        "timeline_png",
    }


def test_workers_that_cannot_see_the_output_folder_stop_the_run(clips, ray_address, tmp_path):
    out = tmp_path / "out"

    def log(line: str) -> None:  # as if the workers ran on nodes without this folder
        if line.startswith("hhpnet batch:"):
            (out / "_batch" / "batch.json").unlink()

    with pytest.raises(HhpnetError, match=r"does not see .*--out must be a folder every node"):
        run_batch([str(clips / "one.mp4")], out, BatchOptions(**OPTS), log=log)
    assert not records(out)
    assert summary(out)["one"]["status"] == "pending"


# --------------------------------------------------------------------------- without Ray
def test_manifests_text_csv_tsv(tmp_path, clips):
    (tmp_path / "sub").mkdir()
    shutil.copy(clips / "one.mp4", tmp_path / "sub" / "a.mp4")
    shutil.copy(clips / "two.mp4", tmp_path / "sub" / "b.mp4")
    txt = tmp_path / "list.txt"
    txt.write_text("# my videos\n\nsub/a.mp4\n  rtsp://cam/1  \nhttps://x.org/v/c.mp4?k=1\nsub\n")
    got = read_manifest(txt)
    assert [(i.source, i.kind) for i in got] == [
        (str(tmp_path / "sub" / "a.mp4"), "file"),
        ("rtsp://cam/1", "stream"),
        ("https://x.org/v/c.mp4?k=1", "url"),
        (str(tmp_path / "sub" / "a.mp4"), "file"),
        (str(tmp_path / "sub" / "b.mp4"), "file"),
    ]
    tsv = tmp_path / "list.tsv"
    tsv.write_text("Name\tPath\nfirst\tsub/b.mp4\n\tgone.mp4\n")
    got = read_manifest(tsv)
    assert [(i.source, i.name) for i in got] == [
        (str(tmp_path / "sub" / "b.mp4"), "first"),
        (str(tmp_path / "gone.mp4"), None),  # a missing file is an input that will fail
    ]
    one_col = tmp_path / "plain.csv"
    one_col.write_text("sub/a.mp4\nsub/b.mp4\n")
    assert len(read_manifest(one_col)) == 2
    # several inputs expand, duplicates are kept once
    all_in = collect_inputs([str(txt), str(tmp_path / "sub"), str(tmp_path / "sub" / "*.mp4")])
    assert [i.source for i in all_in] == [
        str(tmp_path / "sub" / "a.mp4"),
        "rtsp://cam/1",
        "https://x.org/v/c.mp4?k=1",
        str(tmp_path / "sub" / "b.mp4"),
    ]


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("a,b\nx.mp4,y.mp4\n", ".csv", "no path column"),
        ("path,name\nx.mp4,../evil\n", ".csv", "may only use letters"),
        ("path,name\n,x\n", ".csv", "no 'path' value"),
        ("nothing/*.mp4\n", ".txt", "no images or videos match"),
        ("path,name\nsub,grp\n", ".csv", "a name needs a single file"),
    ],
)
def test_bad_manifests_raise_one_line(tmp_path, clips, content, suffix, message):
    (tmp_path / "sub").mkdir()
    shutil.copy(clips / "one.mp4", tmp_path / "sub" / "a.mp4")
    shutil.copy(clips / "two.mp4", tmp_path / "sub" / "b.mp4")
    m = tmp_path / f"m{suffix}"
    m.write_text(content)
    with pytest.raises(InputError, match=message) as exc:
        collect_inputs([str(m)])
    assert "\n" not in str(exc.value)


def test_bad_inputs_and_options_exit_2_with_one_line(tmp_path, clips, monkeypatch, capsys):
    cases = [
        (["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o")], "no such file"),
        (["batch", "0", "--out", str(tmp_path / "o")], "webcams are not batch inputs"),
        (
            [
                "batch",
                str(clips),
                "--out",
                str(tmp_path / "o"),
                "--address",
                "auto",
                "--num-cpus",
                "2",
            ],
            "--num-cpus sizes the local Ray instance",
        ),
        (  # the processing options are checked as `hhpnet video` checks them
            ["batch", str(clips), "--out", str(tmp_path / "o"), "--stride", "0"],
            "stride must be an integer ≥ 1; got 0",
        ),
        (
            ["batch", str(clips), "--out", str(tmp_path / "o"), "--method", "laeo"],
            "unknown interaction method 'laeo'",
        ),
        (["batch", str(clips), "--out", str(tmp_path / "o"), "--check", "md5"], "--check"),
    ]
    for args, message in cases:
        assert _hhpnet(args, monkeypatch) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("hhpnet: error:") and message in err and "\n" not in err, err


def test_output_folder_is_locked_and_keeps_its_options(tmp_path, clips, monkeypatch, capsys):
    out = tmp_path / "o"
    with _Lock(_Layout(str(out))):
        assert _hhpnet(["batch", str(clips / "one.mp4"), "--out", str(out)], monkeypatch) == 2
    assert "another hhpnet batch is writing there (pid" in capsys.readouterr().err
    (out / "_batch" / "batch.json").write_text(
        json.dumps({"config": "0", "processing": {"stride": 3}})
    )
    assert _hhpnet(["batch", str(clips / "one.mp4"), "--out", str(out)], monkeypatch) == 2
    err = capsys.readouterr().err
    assert "holds results made with other options (" in err and "stride" in err


def test_names_are_unique_and_stable(tmp_path):
    a = BatchInput("/data/a/clip.mp4")
    b = BatchInput("/data/b/clip.mp4")
    c = BatchInput("https://x.org/v/clip.mp4?sig=1")
    d = BatchInput("/data/ü n.mp4")
    names = _assign_names([a, b, c, d], {})
    assert [names[i.source] for i in (a, b, c, d)] == ["clip", "clip-2", "clip-3", "n"]
    # a later run keeps the recorded names whatever the order, new inputs get free names
    recs = {"clip": {"name": "clip", "source": b.source}}
    names = _assign_names([a, b], recs)
    assert names[b.source] == "clip" and names[a.source] == "clip-2"
    with pytest.raises(InputError, match="already used"):
        _assign_names([BatchInput("/x/y.mp4", name="clip")], recs)


def test_gaze_totals_sum_the_timeline_intervals(tmp_path):
    from hhpnet.batch import _timeline_totals
    from hhpnet.video.timeline import TimelineBuilder

    tb = TimelineBuilder()
    mutual = np.array([[0, 0.9, 0.0], [0.9, 0, 0.0], [0.0, 0.0, 0]])
    one_way = np.array([[0, 0.0, 0.0], [0.0, 0, 0.0], [0.8, 0.0, 0]])  # 2 looks at 0
    for k in range(90):  # 3 s at 30 fps: 1 s mutual 0-1, then 0.5 s of 2 → 0, then nothing
        att = mutual if k < 30 else one_way if k < 45 else np.zeros((3, 3))
        tb.add(k / 30, [0, 1, 2], att)
    tl = tb.finish()
    totals = _timeline_totals(tl)
    tl.write_csv(tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for kind, key, seconds in (("mutual", "mutual", 1.0), ("one-way", "one_way", 0.5)):
        got = [float(r["duration_s"]) for r in rows if r["kind"] == kind]
        assert totals[f"{key}_intervals"] == len(got) == 1
        assert totals[f"{key}_s"] == pytest.approx(sum(got), abs=1e-3)
        assert totals[f"{key}_s"] == pytest.approx(seconds, abs=0.05)
    assert set(_timeline_totals(None).values()) == {None}


def test_a_normally_ended_avi_is_recorded_as_done(clips, ray_address, tmp_path):
    """An AVI whose header also counts two dropped-frame chunks (14 of 16 frames decode, their
    timestamps reach the announced end) is done, not damaged (issue 21)."""
    from tests.helpers.video_ends import avi_with_dropped_frames

    cap = cv2.VideoCapture(str(clips / "two.mp4"))
    frames = []
    while (got := cap.read())[0]:
        frames.append(got[1])
    cap.release()
    src = avi_with_dropped_frames(tmp_path / "gaps.avi", frames, {5, 11})
    out = tmp_path / "out"
    report = run_batch([str(src)], out, BatchOptions(**OPTS), log=lambda s: None)
    assert report.exit_code == 0
    rec = records(out)["gaps"]
    assert (rec["status"], rec["error"], rec["frames"]) == ("done", None, len(frames) - 2)
