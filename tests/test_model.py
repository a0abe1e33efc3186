import copy
import json
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from hhpnet.errors import HhpnetError, InputError
from hhpnet.keypoints import normalize, validate_keypoints
from hhpnet.model import (
    MODEL_NAMES,
    WEIGHTS_DIR,
    HeadPoseModel,
    PoseOutput,
    _single_face_input,
    load_model,
    parameter_count,
    tensor_shapes,
)

FACE = np.array(
    [[100, 120, 0.9], [115, 105, 0.9], [85, 105, 0.9], [135, 112, 0.8], [65, 112, 0.8]], np.float32
)


def random_tensors(alpha: float, seed: int = 0, scale: float = 0.3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(0, scale, s).astype(np.float32) for k, s in tensor_shapes(alpha).items()}


def random_faces(n: int, seed: int = 1) -> np.ndarray:
    """Face-like keypoints: a jittered template at random positions and sizes, some missing."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(20, 300, n)[:, None, None]
    xy = (FACE[None, :, :2] - 100.0) / 70.0 * size + rng.uniform(0, 1000, (n, 1, 2))
    xy += rng.normal(0, 0.1, (n, 5, 2)) * size
    c = rng.uniform(0.05, 1.0, (n, 5, 1))
    kp = np.concatenate([xy, c], axis=2).astype(np.float32)
    kp[rng.random((n, 5)) < 0.25] = 0.0
    return kp


@pytest.mark.parametrize(("alpha", "count"), [(1.0, 94_031), (0.6, 37_231), (0.2, 6_031)])
def test_parameter_counts_match_the_paper(alpha, count):
    assert parameter_count(alpha) == count
    assert HeadPoseModel(random_tensors(alpha), {"alpha": str(alpha)}).parameter_count() == count


def reference_forward(t: dict[str, np.ndarray], x: np.ndarray, c_mean, c_std) -> np.ndarray:
    """Layer-by-layer float64 definition of method.md (no folding)."""
    t = {k: v.astype(np.float64) for k, v in t.items()}
    leaky = lambda z: np.where(z > 0, z, 0.1 * z)  # noqa: E731
    xs, ys, cs = x[:, 0::3], x[:, 1::3], x[:, 2::3]
    gate = 1 / (1 + np.exp(-(((cs - c_mean) / c_std)[:, :, None] * t["branch_c.weight"])))
    fx = leaky(xs[:, :, None] * t["branch_x.weight"] + t["branch_x.bias"]) * gate
    fy = leaky(ys[:, :, None] * t["branch_y.weight"] + t["branch_y.bias"]) * gate
    h = np.concatenate([fx.reshape(len(x), 25), fy.reshape(len(x), 25)], axis=1)
    for n in ("fc1", "fc2", "fc3"):
        h = leaky(h @ t[f"{n}.weight"].T + t[f"{n}.bias"])
    return h @ t["head.weight"].T + t["head.bias"]


@pytest.mark.parametrize("alpha", [1.0, 0.2])
def test_folded_forward_equals_layerwise_definition(alpha):
    t = random_tensors(alpha, seed=3)
    m = HeadPoseModel(t, {"alpha": str(alpha), "c_mean": "0.4", "c_std": "0.3"})
    x, _ = normalize(validate_keypoints(random_faces(500)))
    ref = reference_forward(t, x, 0.4, 0.3)
    np.testing.assert_allclose(m.forward(x), ref, rtol=1e-4, atol=1e-4)
    assert np.abs(ref).max() > 1.0  # the comparison is not trivially on zeros


def test_predict_outputs_degrees_sigma_and_wrapped_yaw():
    t = random_tensors(1.0, seed=5)
    t["head.bias"][:] = [200.0, 2.0, 10.0, 4.0, -5.0, 6.0]  # yaw 200° must wrap to −160°
    t["head.weight"][:] *= 1e-3
    m = HeadPoseModel(t, {"alpha": "1", "sigma_calibration": json.dumps({"roll": 2.0})})
    out = m.predict(random_faces(50))
    assert isinstance(out, PoseOutput) and len(out) == 50
    assert out.yaw.dtype == np.float32 and out.sigma.shape == (50, 3)
    v = out.valid
    assert v.sum() > 30
    assert np.all((out.yaw[v] > -180) & (out.yaw[v] <= 180))
    np.testing.assert_allclose(out.yaw[v], -160.0, atol=1.0)
    np.testing.assert_allclose(out.sigma[v, 0], np.exp(1.0), rtol=0.05)
    np.testing.assert_allclose(out.sigma[v, 2], 2.0 * np.exp(3.0), rtol=0.05)  # calibrated
    np.testing.assert_array_equal(out.angles[v, 1], out.pitch[v])


def test_single_face_fast_path_equals_batch_path():
    m = HeadPoseModel(random_tensors(1.0, seed=7), {"alpha": "1"})
    kp = random_faces(300, seed=11)
    kp[:100, :, :2] *= 2000.0  # coordinates up to ~2e6: large sums, some beyond MAX_COORD
    batch = m.predict(kp)
    x, valid = normalize(validate_keypoints(kp))
    used_fast = 0
    for i in range(len(kp)):
        fast = _single_face_input(kp[i])
        if fast is not None:
            used_fast += 1
            np.testing.assert_array_equal(fast, x[i])  # same float64 arithmetic, bit for bit
        for arr in (kp[i], kp[i : i + 1], kp[i].astype(np.float64)):
            one = m.predict(arr)
            assert one.valid[0] == batch.valid[i]
            np.testing.assert_array_equal(one.angles[0], batch.angles[i])
            np.testing.assert_array_equal(one.sigma[0], batch.sigma[i])
    assert used_fast > 150
    assert 0 < (~batch.valid & valid).sum() < 100  # some people are refused as implausible


def test_batch_results_do_not_depend_on_the_batch():
    """A person's angles and σ are the same bit for bit in any batch (size, neighbours)."""
    m = load_model("hhpnet-1.0")
    kp = random_faces(500, seed=4)
    ref = m.predict(kp)
    rng = np.random.default_rng(0)
    for size in (1, 2, 3, 7, 64):
        order = rng.permutation(len(kp))[: size * 5]
        parts = [m.predict(kp[order[i : i + size]]) for i in range(0, len(order), size)]
        angles = np.concatenate([p.angles for p in parts])
        np.testing.assert_array_equal(angles, ref.angles[order])
        np.testing.assert_array_equal(np.concatenate([p.sigma for p in parts]), ref.sigma[order])


@pytest.mark.parametrize("alpha", [1.0, 0.6, 0.2])
def test_single_face_forward_equals_batch_forward(alpha):
    """The single-face network (``_forward_one``) computes the batch ``forward`` bit for bit."""
    m = HeadPoseModel(random_tensors(alpha, seed=3), {"alpha": str(alpha)})
    x, valid = normalize(validate_keypoints(random_faces(400, seed=5)))
    x = x[valid]
    batch = m.forward(x)
    one = np.array([m._forward_one(row.tolist()) for row in x], dtype=np.float32)
    np.testing.assert_array_equal(one, batch)
    np.testing.assert_array_equal(m.forward(x[:1]), batch[:1])
    # repeated calls reuse the buffers without carrying state from one face to the next
    np.testing.assert_array_equal(m._forward_one(x[0].tolist()), one[0])


def test_single_face_buffers_are_per_thread():
    m = HeadPoseModel(random_tensors(1.0, seed=7), {"alpha": "1"})
    kp = random_faces(64, seed=2)
    expected = [m.predict(kp[i]).sigma[0].tolist() for i in range(len(kp))]
    main_buffers = m._local.one
    seen: list[object] = []
    results: dict[int, list[list[float]]] = {}
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        barrier.wait()
        results[k] = [m.predict(kp[i]).sigma[0].tolist() for _ in range(20) for i in range(64)]
        seen.append(m._local.one)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(b.x) for b in [main_buffers, *seen]}) == 5  # one set per thread
    for k in range(4):
        assert results[k] == expected * 20


def test_model_pickles_and_copies_without_its_thread_buffers():
    m = HeadPoseModel(random_tensors(0.6, seed=4), {"alpha": "0.6"})
    ref = m.predict(FACE)
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m), copy.copy(m)):
        assert other._local is not m._local
        np.testing.assert_array_equal(other.predict(FACE).angles, ref.angles)
        np.testing.assert_array_equal(other.predict(FACE[None]).sigma, m.predict(FACE[None]).sigma)


def test_yaw_wrap_boundary_is_half_open():
    t = random_tensors(0.2, seed=1)
    t["head.weight"][:] = 0.0
    for raw, expected in [(-180.0, 180.0), (180.0, 180.0), (540.0, 180.0), (-181.0, 179.0)]:
        t["head.bias"][0] = raw
        m = HeadPoseModel(t, {"alpha": "0.2"})
        assert m.predict(FACE).yaw[0] == pytest.approx(expected)
        assert m.predict(np.stack([FACE, FACE])).yaw[0] == pytest.approx(expected)


@pytest.fixture(scope="module")
def model():
    return HeadPoseModel(random_tensors(1.0, seed=2), {"alpha": "1"})


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((5, 2)),
        np.zeros((3, 4, 3)),
        np.array([["a", "b", "c"]] * 5),
        FACE[:, :, None],
    ],
)
def test_malformed_arrays_raise(model, bad):
    with pytest.raises(InputError) as info:
        model.predict(bad)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("row", "col", "value"), [(0, 2, -0.3), (1, 0, np.nan), (2, 1, np.inf), (3, 2, 1.5)]
)
def test_bad_values_raise_for_single_and_batch(model, row, col, value):
    kp = FACE.copy()
    kp[row, col] = value
    with pytest.raises(InputError):
        model.predict(kp)
    with pytest.raises(InputError):
        model.predict(np.stack([FACE, kp]))


def test_too_few_points_are_invalid_never_a_pose(model):
    kp = np.stack([FACE] * 4)
    kp[0, :, 2] = 0.0  # all confidences zero
    kp[1, 1:, :] = 0.0  # a single point
    kp[2, :, 0:2] = 50.0  # all points on top of each other: zero extent
    out = model.predict(kp)
    np.testing.assert_array_equal(out.valid, [False, False, False, True])
    assert np.isnan(out.angles[:3]).all() and np.isinf(out.sigma[:3]).all()
    assert np.isfinite(out.angles[3]).all() and np.isfinite(out.sigma[3]).all()
    for i in range(3):
        single = model.predict(kp[i])
        assert not single.valid[0] and np.isnan(single.yaw[0]) and np.isinf(single.sigma[0]).all()


def test_nan_confidence_means_missing(model):
    kp = FACE.copy()
    kp[3] = [np.nan, np.nan, np.nan]
    ref = FACE.copy()
    ref[3] = 0.0
    np.testing.assert_allclose(model.predict(kp).angles, model.predict(ref).angles, rtol=1e-6)


def test_empty_batch(model):
    out = model.predict(np.zeros((0, 5, 3), np.float32))
    assert len(out) == 0 and out.sigma.shape == (0, 3)


def test_save_and_load_roundtrip(tmp_path):
    t = random_tensors(0.6, seed=4)
    meta = {"alpha": "0.6", "name": "x", "c_mean": "0.5", "c_std": "0.25"}
    path = HeadPoseModel(t, meta).save(tmp_path / "m.safetensors")
    loaded = load_model(path)
    assert loaded.alpha == 0.6 and loaded.metadata["name"] == "x"
    np.testing.assert_array_equal(loaded.tensors["fc2.weight"], t["fc2.weight"])
    kp = random_faces(20)
    np.testing.assert_array_equal(loaded.predict(kp).angles, HeadPoseModel(t, meta)(kp).angles)


def test_load_errors_are_one_line(tmp_path):
    with pytest.raises(HhpnetError, match="unknown model"):
        load_model("hhpnet-9.9")
    with pytest.raises(HhpnetError, match="not found"):
        load_model(tmp_path / "nothing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(HhpnetError, match="cannot read"):
        load_model(bad)
    t = random_tensors(1.0)
    del t["fc3.bias"]
    with pytest.raises(InputError, match=r"fc3\.bias"):
        HeadPoseModel(t, {"alpha": "1"})


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_shipped_weights_load_with_metadata(name):
    path = WEIGHTS_DIR / f"{name}.safetensors"
    m = load_model(name)
    alpha = float(name.split("-")[1])
    assert m.alpha == alpha and m.parameter_count() == parameter_count(alpha)
    for key in (
        "format_version",
        "name",
        "alpha",
        "c_mean",
        "c_std",
        "angle_convention",
        "generator_version",
        "train_config",
        "sigma_calibration",
        "created",
    ):
        assert key in m.metadata
    assert json.loads(m.metadata["train_config"])["alpha"] == alpha
    # shipped weights come from the current generator and the committed config
    from hhpnet.training.synth import GENERATOR_VERSION

    assert m.metadata["generator_version"] == GENERATOR_VERSION
    yaml = pytest.importorskip("yaml")
    config_file = Path(__file__).resolve().parents[1] / "configs" / f"{name}.yaml"
    committed = yaml.safe_load(config_file.read_text())
    stored = json.loads(m.metadata["train_config"])
    assert {k: stored[k] for k in committed} == json.loads(json.dumps(committed))
    assert stored.get("real_exclude_fold") is None  # σ calibrated on every real row
    assert path.stat().st_size < 450_000 * alpha + 20_000


def test_shipped_model_sees_obvious_poses():
    """A frontal face gives |yaw| small; moving the nose to the image left gives positive yaw;
    a detector's head projected at a known pose reads back close to it."""
    from hhpnet.convention import angles_to_matrix
    from hhpnet.training.synth import detector_shape

    m = load_model("hhpnet-1.0")
    front = FACE.copy()
    turned = FACE.copy()
    turned[0, 0] -= 25  # nose towards the image left (alone: an inconsistent, uncertain face)
    turned[4, 2] = 0.2  # right ear (image left) fades
    out = m.predict(np.stack([front, turned]))
    assert abs(out.yaw[0]) < 15
    assert out.yaw[1] > 10
    assert out.sigma[1, 0] > out.sigma[0, 0] * 0.8
    for profile in ("blazeface", "coco"):
        for yaw, pitch, roll in ((40.0, 0.0, 0.0), (-60.0, -10.0, 10.0), (0.0, 20.0, -15.0)):
            pts = detector_shape(profile, np.array([yaw]), np.array([pitch]))[0]
            xy = (angles_to_matrix(yaw, pitch, roll) @ pts.T).T[:, :2] + 300.0
            kp = np.concatenate([xy, np.full((5, 1), 0.9)], 1).astype(np.float32)
            o = m.predict(kp)
            assert abs(o.yaw[0] - yaw) < 15 and abs(o.roll[0] - roll) < 15, (profile, o.yaw)
            assert abs(o.pitch[0] - pitch) < 15, (profile, o.pitch)


def test_inference_does_not_import_torch():
    code = (
        "import sys, numpy as np\n"
        "from hhpnet.model import HeadPoseModel, tensor_shapes\n"
        "t = {k: np.ones(s, np.float32) * 0.01 for k, s in tensor_shapes(1.0).items()}\n"
        "m = HeadPoseModel(t, {'alpha': '1'})\n"
        "m.predict(np.array([[10,10,1],[12,9,1],[8,9,1],[15,10,1],[5,10,1]], np.float32))\n"
        "import hhpnet\n"
        "hhpnet.load_model\n"
        "print('torch' in sys.modules)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"


def test_malformed_metadata_is_an_input_error():
    with pytest.raises(InputError, match="metadata"):
        HeadPoseModel(random_tensors(0.2), {"alpha": "0.2", "c_std": "abc"})
    with pytest.raises(InputError, match="metadata"):
        HeadPoseModel(random_tensors(0.2), {"alpha": "0.2", "sigma_calibration": "[1, 2]"})
