"""ONNX export: the graph must reproduce the numpy model (within 1e-4) via onnxruntime."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from hhpnet.errors import HhpnetError, InputError
from hhpnet.export import (
    OPSET,
    angle_difference,
    angles_close,
    build_onnx,
    export_onnx,
    onnx_session,
    run_onnx,
    sample_inputs,
    verify_onnx,
)
from hhpnet.keypoints import normalize, plausible, validate_keypoints
from hhpnet.model import MODEL_NAMES, WEIGHTS_DIR, HeadPoseModel, load_model


def _compare(model: HeadPoseModel, kp: np.ndarray, layout: str) -> None:
    if layout == "normalized":  # no geometry left to screen: compare on plausible people
        kp = kp[plausible(validate_keypoints(kp))]
    ref = model.predict(kp)
    sess = onnx_session(build_onnx(model, input=layout))
    x = kp if layout == "keypoints" else normalize(validate_keypoints(kp))[0]
    got = run_onnx(sess, x)
    v = ref.valid
    assert got["angles"].shape == (len(kp), 3) and got["sigma"].shape == (len(kp), 3)
    np.testing.assert_array_equal(got["valid"], v)
    assert angles_close(got["angles"][v], ref.angles[v]).all()
    np.testing.assert_allclose(got["sigma"][v], ref.sigma[v], rtol=1e-4, atol=0)
    assert np.isnan(got["angles"][~v]).all() and np.isinf(got["sigma"][~v]).all()


@pytest.mark.parametrize("alpha", [1.0, 0.6, 0.2])
@pytest.mark.parametrize("layout", ["keypoints", "normalized"])
def test_matches_numpy_on_random_and_realistic_inputs(
    alpha: float, layout: str, random_model
) -> None:
    model = random_model(alpha, seed=int(alpha * 10))
    kp = sample_inputs(1500, seed=3)
    assert 0 < model.predict(kp).valid.mean() < 1  # both valid and invalid rows are exercised
    _compare(model, kp, layout)


@pytest.mark.parametrize(
    "name", [n for n in MODEL_NAMES if (WEIGHTS_DIR / f"{n}.safetensors").is_file()]
)
def test_shipped_weights_export(name: str) -> None:
    model = load_model(name)
    err = verify_onnx(model, build_onnx(model), n=20000)
    assert err["angles"] <= 3e-4 and err["sigma"] <= 1e-4


def test_missing_points_and_degenerate_people(random_model) -> None:
    model = random_model(1.0)
    face = sample_inputs(2, seed=0)[1]
    rows = [face.copy() for _ in range(5)]
    rows[1][[3, 4]] = 0.0  # ears missing
    rows[2][1:] = 0.0  # one point only -> invalid
    rows[3][:, :2] = 50.0  # all points equal -> zero extent, invalid
    rows[4][2, 2] = np.nan  # NaN confidence = missing
    rows[4][2, :2] = np.nan
    kp = np.stack(rows).astype(np.float32)
    _compare(model, kp, "keypoints")
    got = run_onnx(onnx_session(build_onnx(model)), kp)
    assert got["valid"].tolist() == [True, True, False, False, True]


def test_dynamic_batch_sizes(random_model) -> None:
    model = random_model(0.2)
    sess = onnx_session(build_onnx(model))
    kp = sample_inputs(16, seed=5)
    full = run_onnx(sess, kp)
    for n in (0, 1, 7):
        part = run_onnx(sess, kp[:n])
        assert part["angles"].shape == (n, 3)
        np.testing.assert_allclose(part["angles"], full["angles"][:n], atol=1e-5)
    inp = sess.get_inputs()[0]
    assert inp.name == "keypoints" and isinstance(inp.shape[0], str) and inp.shape[1:] == [5, 3]
    for layout in ("keypoints", "normalized"):
        outs = onnx_session(build_onnx(model, input=layout)).get_outputs()
        assert [o.name for o in outs] == ["angles", "sigma", "valid"]


def test_angle_difference_across_the_wrap() -> None:
    d = angle_difference(np.array([180.0, -179.99999, 10.0]), np.array([-179.99999, 180.0, 350.0]))
    np.testing.assert_allclose(d, [-1e-5, 1e-5, 20.0], atol=1e-9)
    ok = angles_close(np.array([180.0, 100.00035, 1.00035]), np.array([-179.9996, 100.0, 1.0]))
    assert ok.tolist() == [True, True, False]


def test_yaw_wrap_and_sigma_calibration(random_model) -> None:
    base = random_model(0.2, seed=1)
    t = {k: v.copy() for k, v in base.tensors.items()}
    t["head.weight"][0] = 0.0
    t["head.bias"][0] = 200.0  # raw yaw 200° -> wrapped to -160°
    meta = {
        "alpha": "0.2",
        "sigma_calibration": json.dumps({"yaw": 2.0, "pitch": 1.0, "roll": 0.5}),
    }
    model = HeadPoseModel(t, meta)
    plain = HeadPoseModel(t, {"alpha": "0.2"})
    kp = sample_inputs(40, seed=2)[20:]
    got = run_onnx(onnx_session(build_onnx(model)), kp)
    ref = run_onnx(onnx_session(build_onnx(plain)), kp)
    np.testing.assert_allclose(got["angles"][:, 0], -160.0, atol=1e-4)
    np.testing.assert_allclose(got["sigma"] / ref["sigma"], [[2.0, 1.0, 0.5]] * 20, rtol=1e-5)


def test_file_metadata_and_opset(tmp_path, random_model) -> None:
    import onnx

    path = export_onnx(random_model(0.6), tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == OPSET
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["alpha"] == "0.6" and props["input"] == "keypoints"
    assert len(props["weights_sha256"]) == 64
    with pytest.raises(InputError):
        export_onnx(random_model(0.2), tmp_path / "m.txt")
    with pytest.raises(InputError):
        build_onnx(random_model(0.2), input="pixels")


def test_verify_detects_a_wrong_file(random_model) -> None:
    a, b = random_model(0.2, seed=1), random_model(0.2, seed=2)
    with pytest.raises(HhpnetError, match="ONNX check failed"):
        verify_onnx(a, build_onnx(b))


def test_export_command(tmp_path, random_model) -> None:
    from typer.testing import CliRunner

    from hhpnet.cli import app

    weights = random_model(0.2).save(tmp_path / "tiny.safetensors")
    out = tmp_path / "tiny.onnx"
    res = CliRunner().invoke(app, ["export", "--model", str(weights), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.is_file() and "verified" in res.output
    sess = onnx_session(out)
    kp = sample_inputs(10, seed=9)
    np.testing.assert_allclose(
        run_onnx(sess, kp)["angles"], load_model(weights).predict(kp).angles, atol=1e-4
    )
    res = CliRunner().invoke(app, ["export", "--model", str(weights), "-o", str(out), "-f", "tf"])
    assert isinstance(res.exception, InputError)


def test_matches_numpy_on_detector_keypoints_from_real_photos(random_model, scene) -> None:
    """Keypoints found by BlazeFace and BlazePose on the bundled example photos."""
    from pathlib import Path

    import hhpnet
    from hhpnet.detectors import create_detector
    from hhpnet.io import read_image

    images = [
        read_image(p) for p in sorted((Path(hhpnet.__file__).parent / "examples").glob("*.jpg"))
    ]
    images.append(np.ascontiguousarray(scene(6)[..., ::-1]))
    found = []
    for name in ("blazeface", "blazepose"):
        det = create_detector(name, num_threads=1)
        found += [det(im).keypoints for im in images]
    kp = np.concatenate(found)
    assert len(kp) >= 8
    for alpha in (1.0, 0.2):
        _compare(random_model(alpha), kp, "keypoints")


def test_implausible_people_are_invalid_in_the_graph_as_in_numpy() -> None:
    """The plausibility screen (docs/validity.md) is part of the ``keypoints`` graph."""
    model = load_model("hhpnet-1.0")
    face = np.array(
        [[320, 240, 0.9], [350, 225, 0.9], [290, 225, 0.9], [385, 235, 0.8], [255, 235, 0.8]],
        np.float32,
    )
    rows = [face.copy() for _ in range(7)]
    rows[1][4, :2] = 5000.0  # an ear far from the face
    rows[2][[0, 1], :2] = 1e30  # nose and eye at 1e30
    rows[3][3, 0] = 1.5e6  # beyond MAX_COORD
    rows[4][4] = 0.0
    rows[4][[2, 3], :2] += 9000.0  # 2 | 2: two far pairs
    rows[5][4, :2] = (255 - 19 * 95, 235)  # 19× the spread away: still plausible
    rows[6][:, :2] *= 1e-3  # a tiny but well-formed head
    kp = np.stack(rows)
    ref = model.predict(kp)
    assert ref.valid.tolist() == [True, False, False, False, False, True, True]
    got = run_onnx(onnx_session(build_onnx(model)), kp)
    np.testing.assert_array_equal(got["valid"], ref.valid)
    assert angles_close(got["angles"][ref.valid], ref.angles[ref.valid]).all()
    assert np.isnan(got["angles"][~ref.valid]).all()
