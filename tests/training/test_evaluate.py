import itertools
import json

import numpy as np
import pytest

from hhpnet.model import PoseOutput
from hhpnet.training.evaluate import (
    EvalResult,
    angle_errors,
    evaluate,
    sparsification,
    uncertainty_metrics,
)

FACE = np.array(
    [[100, 120, 0.9], [115, 105, 0.9], [85, 105, 0.9], [135, 112, 0.8], [65, 112, 0.8]], np.float32
)


class NoisyOracle:
    """Predicts the truth plus Gaussian noise of a known, per-person σ (degrees)."""

    name = "oracle"

    def __init__(self, truth, sigma, seed=0):
        self.truth, self.sigma = truth, sigma
        self.rng = np.random.default_rng(seed)

    def predict(self, kp):
        pred = self.truth + self.rng.normal(size=self.truth.shape) * self.sigma
        valid = (kp[..., 2] > 0).sum(axis=1) >= 2
        pred[~valid] = np.nan
        return PoseOutput(
            *(pred[:, i].astype(np.float32) for i in range(3)),
            sigma=self.sigma.astype(np.float32),
            valid=valid,
        )


def test_yaw_errors_are_wrapped():
    err = angle_errors(np.array([[179.0, 10, -5]]), np.array([[-179.0, 12, 5]]))
    np.testing.assert_allclose(err, [[2.0, 2.0, 10.0]])


def test_sparsification_removes_the_most_uncertain_first():
    err = np.array([1.0, 2.0, 3.0, 10.0])
    sig = np.array([0.1, 0.2, 0.3, 5.0])
    np.testing.assert_allclose(sparsification(err, sig, [0.0, 0.25, 0.5]), [4.0, 2.0, 1.5])
    np.testing.assert_allclose(sparsification(err, -sig, [0.25]), [5.0])


def test_uncertainty_metrics_of_a_calibrated_gaussian():
    rng = np.random.default_rng(0)
    sigma = rng.uniform(1, 20, (20_000, 3))
    err = np.abs(rng.normal(size=sigma.shape) * sigma)
    u = uncertainty_metrics(err, sigma)
    for a in ("yaw", "pitch", "roll"):
        assert u[a]["within_1sigma"] == pytest.approx(0.683, abs=0.01)
        assert u[a]["within_2sigma"] == pytest.approx(0.954, abs=0.01)
        assert u[a]["spearman"] > 0.4
        # exact σ: the observed Spearman is what the σ-only reference predicts
        assert u[a]["spearman"] == pytest.approx(u[a]["spearman_ideal"], abs=0.03)
        curve = u[a]["sparsification"]
        assert all(b < a_ for a_, b in itertools.pairwise(curve))
        assert all(o <= s + 1e-9 for o, s in zip(u[a]["oracle"], curve, strict=True))
    shuffled = uncertainty_metrics(err, rng.permutation(sigma))
    assert abs(shuffled["yaw"]["spearman"]) < 0.05
    assert shuffled["yaw"]["spearman_ideal"] > 0.4  # the reference ignores the errors
    narrow = uncertainty_metrics(err, np.full_like(sigma, 5.0) + rng.uniform(0, 0.1, sigma.shape))
    assert narrow["yaw"]["spearman_ideal"] < 0.05  # no spread in σ: nothing to rank


def make_result(n=3000, seed=1):
    rng = np.random.default_rng(seed)
    truth = np.stack(
        [rng.uniform(-180, 180, n), rng.uniform(-60, 60, n), rng.uniform(-40, 40, n)], axis=1
    )
    sigma = np.repeat(rng.uniform(1, 15, (n, 1)), 3, axis=1)
    kp = np.repeat(FACE[None], n, axis=0)
    kp[: n // 10, 1:, :] = 0.0  # 10 % invalid (one point)
    kp[n // 10 : n // 5, 3, :] = 0.0  # one missing point
    model = NoisyOracle(truth, sigma, seed)
    return evaluate(model, kp, truth, name="oracle", baseline=False), truth, sigma


def test_evaluate_groups_and_invalid_people():
    res, _truth, sigma = make_result()
    s = res.summary()
    assert s["valid"] == 2700
    g = s["groups"]
    assert set(g["|yaw|"]) == {"0–30", "30–60", "60–90", "90–180"}
    assert sum(v["n"] for v in g["|yaw|"].values()) == 2700
    assert g["missing"]["1"]["n"] == 300 and "4" not in g["missing"]
    # MAE of N(0, σ) errors is σ·√(2/π)
    expected = np.mean(sigma[300:, 0]) * np.sqrt(2 / np.pi)
    assert s["mae"][0] == pytest.approx(expected, rel=0.08)
    assert s["mae"][3] == pytest.approx(np.mean(s["mae"][:3]))


def test_report_json_and_png(tmp_path):
    res, _, _ = make_result(n=1500)
    paths = res.write(tmp_path / "out")
    md = paths["report"].read_text()
    assert "| all |" in md and "Spearman" in md and "\\|yaw\\| 90–180" in md
    data = json.loads(paths["metrics"].read_text())
    assert data["uncertainty"]["roll"]["within_1sigma"] == pytest.approx(0.68, abs=0.05)
    png = paths["calibration"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_baseline_column_when_errors_given():
    res, _truth, _ = make_result(n=600)
    res2 = EvalResult(
        res.name,
        res.angles,
        res.error,
        res.sigma,
        res.valid,
        baseline_error=res.error * 2,
        groups=res.groups,
    )
    s = res2.summary()
    np.testing.assert_allclose(s["baseline_mae"], np.array(s["mae"]) * 2, rtol=1e-9)
    assert "PnP mean" in res2.markdown()


class ConstantModel:
    """Always predicts the frontal pose with σ = 10°."""

    name = "constant"

    def predict(self, kp):
        n = len(kp)
        valid = (np.asarray(kp)[..., 2] > 0).sum(axis=1) >= 2
        z = np.zeros(n, np.float32)
        return PoseOutput(z, z.copy(), z.copy(), np.full((n, 3), 10.0, np.float32), valid)


def test_synthetic_evaluation_with_pnp_baseline():
    pytest.importorskip("hhpnet.training.synth")
    pytest.importorskip("hhpnet.training.baseline")
    from hhpnet.errors import InputError
    from hhpnet.training.evaluate import evaluate_synthetic

    res = evaluate_synthetic(ConstantModel(), samples=1500, seed=5, detector_profile="blazeface")
    s = res.summary()
    assert set(s["groups"]["detector"]) == {"blazeface"}
    g = s["groups"]["|yaw|"]["30–60"]
    # a constant frontal guess is off by ≥ 30° in yaw there; the geometric fit is not
    assert g["mae"][0] >= 30.0
    assert g["baseline_mae"][0] < 20.0
    with pytest.raises(InputError, match="detector profile"):
        evaluate_synthetic(ConstantModel(), samples=10, detector_profile="nope")


def test_eval_command_on_mat_dir_with_keypoints_json(tmp_path):
    from scipy.io import savemat
    from typer.testing import CliRunner

    from hhpnet.cli import app
    from tests.helpers.fakes import random_model_file

    weights = random_model_file(tmp_path / "tiny.safetensors", sd=0.1)
    data = tmp_path / "aflw"
    data.mkdir()
    records = []
    for i in range(6):
        yaw = np.deg2rad(-50 + 20 * i)
        savemat(data / f"image{i:05d}.mat", {"Pose_Para": np.array([[0.1, yaw, 0.0, 0, 0, 0, 1]])})
        kp = FACE.copy()
        kp[:, 0] += 5 * i
        records.append({"image": f"image{i:05d}.jpg", "keypoints": kp.tolist()})
    kj = tmp_path / "kp.json"
    kj.write_text(json.dumps(records[:5]))  # one image without keypoints
    res = CliRunner().invoke(
        app,
        [
            "eval",
            "--model",
            str(weights),
            "--mat-dir",
            str(data),
            "--keypoints-json",
            str(kj),
            "--no-baseline",
            "--out",
            str(tmp_path / "rep"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "keypoints for 5 (83.3 %)" in res.output
    summary = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert summary["valid"] == 5 and (tmp_path / "rep" / "calibration.png").is_file()
