"""Real-keypoint evaluation: the keypoints-CSV loader, cross-validation folds, the evaluation and
``hhpnet eval --keypoints-csv``.

The CSV fixture is written here: exact perspective projections of the package's mean heads at
known poses (never rows of the real development file). The last test reads the real file from
``../shared/data`` (tests/helpers/realdata.py: a skip when it is missing, a failure in CI).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from hhpnet.convention import S_FLIP, angles_to_matrix
from hhpnet.errors import InputError
from hhpnet.keypoints import KEYPOINT_NAMES, blazeface_confidence
from hhpnet.model import PoseOutput
from hhpnet.training.datasets import (
    BLAZEFACE_POINTS,
    KEYPOINT_SOURCES,
    fold_ids,
    load_keypoints_csv,
)
from hhpnet.training.evaluate import comparison_table, evaluate_keypoint_set, headline
from hhpnet.training.synth import MEAN_HEAD_MM
from tests.helpers.realdata import KEYPOINTS_CSV, dev_file

SIZE = 450
FOCAL = 450.0  # the baseline's default: focal length = image width
DISTANCE = 600.0  # mm
#: a mouth centre in the head frame (mm): below the nose, a little behind its tip
MOUTH_MM = np.array([0.0, 55.0, 88.0])


def project(points_mm: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Pixels (k, 2) of head-frame points for a head centred on the optical axis."""
    cam = (S_FLIP @ angles_to_matrix(yaw, pitch, roll) @ points_mm.T).T + np.array(
        [0.0, 0.0, DISTANCE]
    )
    return cam[:, :2] / cam[:, 2:] * FOCAL + SIZE / 2


def header() -> list[str]:
    cols = ["file", "width", "height", "yaw", "pitch", "roll"]
    cols += ["bf_score", "bf_x1", "bf_y1", "bf_x2", "bf_y2"]
    cols += [f"bf_{p}_{c}" for p in BLAZEFACE_POINTS for c in "xy"]
    cols += ["bp_score", "bp_x1", "bp_y1", "bp_x2", "bp_y2"]
    cols += [f"bp_{p}_{c}" for p in KEYPOINT_NAMES for c in ("x", "y", "vis")]
    cols += ["mn_score"] + [f"mn_{p}_{c}" for p in KEYPOINT_NAMES for c in ("x", "y", "score")]
    return cols


POSES = [
    (y, p, r)
    for y in (-75.0, -50.0, -25.0, -5.0, 0.0, 10.0, 35.0, 62.0, 80.0)
    for p, r in ((-15.0, 5.0), (12.0, -10.0))
]


def fixture_rows() -> list[dict[str, object]]:
    """One row per pose; a few detectors miss a few faces; MoveNet's far ear scores low."""
    rows = []
    for i, (yaw, pitch, roll) in enumerate(POSES):
        row: dict[str, object] = {
            "file": f"face{i:03d}.jpg",
            "width": SIZE,
            "height": SIZE,
            "yaw": yaw,
            "pitch": pitch,
            "roll": roll,
        }
        if i not in (3, 11):  # BlazeFace misses two
            six = {
                "nose": 0,
                "left_eye": 1,
                "right_eye": 2,
                "left_ear": 3,
                "right_ear": 4,
            }
            pts = project(MEAN_HEAD_MM["blazeface"], yaw, pitch, roll)
            mouth = project(MOUTH_MM[None], yaw, pitch, roll)[0]
            row.update({"bf_score": 0.9 - 0.01 * i, "bf_x1": 1, "bf_y1": 2, "bf_x2": 3, "bf_y2": 4})
            for name in BLAZEFACE_POINTS:
                xy = mouth if name == "mouth" else pts[six[name]]
                row[f"bf_{name}_x"], row[f"bf_{name}_y"] = xy
        if i != 5:  # BlazePose misses one
            pts = project(MEAN_HEAD_MM["blazepose"], yaw, pitch, roll)
            row.update({"bp_score": 0.8, "bp_x1": 1, "bp_y1": 2, "bp_x2": 3, "bp_y2": 4})
            for k, name in enumerate(KEYPOINT_NAMES):
                row[f"bp_{name}_x"], row[f"bp_{name}_y"] = pts[k]
                row[f"bp_{name}_vis"] = 0.95 - 0.02 * k
        pts = project(MEAN_HEAD_MM["coco"], yaw, pitch, roll)
        row["mn_score"] = 0.4
        far_ear = 4 if yaw > 0 else 3  # positive yaw: the nose turns towards the right ear
        for k, name in enumerate(KEYPOINT_NAMES):
            row[f"mn_{name}_x"], row[f"mn_{name}_y"] = pts[k]
            row[f"mn_{name}_score"] = 0.05 if (k == far_ear and abs(yaw) > 40) else 0.6
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, object]], cols: list[str] | None = None) -> Path:
    cols = cols or header()
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, restval="", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    return path


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "kp.csv", fixture_rows())


class ConstantModel:
    """Predicts yaw = pitch = roll = ``value`` with σ = 10° for every valid person."""

    name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def predict(self, kp: np.ndarray) -> PoseOutput:
        n = len(kp)
        valid = (np.asarray(kp)[..., 2] > 0).sum(axis=1) >= 2
        a = np.full(n, self.value, np.float32)
        return PoseOutput(a, a.copy(), a.copy(), np.full((n, 3), 10.0, np.float32), valid)


# ---------------------------------------------------------------------------- loader
def test_blazeface_columns_map_to_hhpnet_order_with_the_detectors_confidence(csv_file):
    ks = load_keypoints_csv(csv_file, "blazeface")
    n = len(POSES)
    assert len(ks) == n and ks.source == "blazeface" and ks.profile == "blazeface"
    assert ks.files[0] == "face000.jpg" and ks.image_size.shape == (n, 2)
    assert (ks.image_size == SIZE).all()
    np.testing.assert_allclose(ks.angles, np.array(POSES), atol=1e-4)
    assert ks.found.sum() == n - 2 and not ks.found[3] and not ks.found[11]
    assert (ks.keypoints[~ks.found] == 0).all() and np.isnan(ks.mouth[~ks.found]).all()
    assert np.isnan(ks.score[3]) and ks.score[0] == pytest.approx(0.9)
    for i in np.flatnonzero(ks.found):
        expected = project(MEAN_HEAD_MM["blazeface"], *POSES[i])
        np.testing.assert_allclose(ks.keypoints[i, :, :2], expected, atol=1e-3)
        np.testing.assert_allclose(ks.mouth[i], project(MOUTH_MM[None], *POSES[i])[0], atol=1e-3)
    conf = blazeface_confidence(ks.keypoints[ks.found, :, :2], ks.score[ks.found])
    np.testing.assert_allclose(ks.keypoints[ks.found, :, 2], conf, atol=1e-6)
    frontal = np.flatnonzero(ks.found & (np.abs(ks.angles[:, 0]) < 1))
    assert len(frontal) == 2
    np.testing.assert_allclose(
        ks.keypoints[frontal, :, 2], np.repeat(ks.score[frontal, None], 5, 1)
    )
    # (whether the far side of a profile is flagged depends on where the detector puts it, not
    # on this rigid fixture head: see tests/test_keypoints.py and tests/test_synth.py)


def test_blazeface_order_matches_the_detector_module():
    from hhpnet.detectors.blazeface import BLAZEFACE_TO_HHPNET

    order = [BLAZEFACE_POINTS.index(k) for k in KEYPOINT_NAMES]
    assert order == BLAZEFACE_TO_HHPNET.tolist()


def test_blazepose_and_movenet_confidences_and_threshold(csv_file):
    bp = load_keypoints_csv(csv_file, "blazepose")
    assert bp.mouth is None and bp.found.sum() == len(POSES) - 1 and not bp.found[5]
    np.testing.assert_allclose(bp.keypoints[0, :, 2], 0.95 - 0.02 * np.arange(5), atol=1e-6)
    np.testing.assert_allclose(
        bp.keypoints[0, :, :2], project(MEAN_HEAD_MM["blazepose"], *POSES[0]), atol=1e-3
    )
    mn = load_keypoints_csv(csv_file, "movenet")
    assert mn.found.all() and mn.profile == "coco"
    low = np.isclose(mn.keypoints[..., 2], 0.05)
    assert low.sum() == sum(abs(y) > 40 for y, _, _ in POSES)
    cut = load_keypoints_csv(csv_file, "movenet", kpt_thr=0.1)
    assert (cut.keypoints[low] == 0).all()  # missing: confidence and coordinates 0
    np.testing.assert_array_equal(cut.keypoints[~low], mn.keypoints[~low])
    assert (cut.keypoints[..., 2] > 0).sum(axis=1).min() == 4


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rows, cols: (rows, [c for c in cols if c != "pitch"]), "missing column"),
        (lambda rows, cols: (rows, [c for c in cols if c != "bf_nose_y"]), "bf_nose_y"),
        (lambda rows, cols: ([{**rows[0], "yaw": "north"}, *rows[1:]], cols), "line 2: .*yaw"),
        (lambda rows, cols: ([rows[0], {**rows[1], "roll": ""}], cols), "line 3"),
        (lambda rows, cols: ([rows[0], {**rows[1], "bf_mouth_x": ""}], cols), "partly empty"),
        (lambda rows, cols: ([{**rows[0], "bf_score": 1.5}], cols), r"\[0, 1\]"),
        (lambda rows, cols: ([{**rows[0], "width": 0}], cols), "positive whole pixels"),
        (lambda rows, cols: ([], cols), "no data rows"),
    ],
)
def test_malformed_files_raise_one_line_input_errors(tmp_path, edit, message):
    rows, cols = edit(fixture_rows(), header())
    path = write_csv(tmp_path / "bad.csv", rows, cols)
    with pytest.raises(InputError, match=message) as info:
        load_keypoints_csv(path, "blazeface")
    assert "\n" not in str(info.value)


def test_unreadable_inputs(tmp_path, csv_file):
    with pytest.raises(InputError, match="cannot read"):
        load_keypoints_csv(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        load_keypoints_csv(tmp_path / "empty.csv")
    (tmp_path / "ragged.csv").write_text(csv_file.read_text().replace(",", ",,", 1))
    with pytest.raises(InputError, match="cells for"):
        load_keypoints_csv(tmp_path / "ragged.csv")
    with pytest.raises(InputError, match="unknown keypoint source"):
        load_keypoints_csv(csv_file, "openpose")
    with pytest.raises(InputError, match="kpt_thr"):
        load_keypoints_csv(csv_file, kpt_thr=2.0)


# ---------------------------------------------------------------------------- folds
def test_fold_ids_are_deterministic_balanced_and_stratified():
    rng = np.random.default_rng(3)
    yaw = np.concatenate(
        [rng.uniform(-30, 30, 301), rng.uniform(30, 60, 97), -rng.uniform(60, 99, 41)]
    )
    yaw = rng.permutation(yaw)
    f = fold_ids(len(yaw), 5, seed=7, yaw=yaw)
    np.testing.assert_array_equal(f, fold_ids(len(yaw), 5, seed=7, yaw=yaw))
    assert not np.array_equal(f, fold_ids(len(yaw), 5, seed=8, yaw=yaw))
    counts = np.bincount(f, minlength=5)
    assert counts.max() - counts.min() <= 1 and counts.sum() == len(yaw)
    for lo, hi in ((0, 30), (30, 60), (60, 99)):
        c = np.bincount(f[(np.abs(yaw) >= lo) & (np.abs(yaw) < hi)], minlength=5)
        assert c.max() - c.min() <= 1
    plain = fold_ids(23, 4, seed=1)
    assert sorted(np.bincount(plain).tolist()) == [5, 6, 6, 6]
    assert len(fold_ids(0, 5)) == 0
    for bad in ({"n": 3, "k": 5}, {"n": 10, "k": 1}, {"n": -1, "k": 5}):
        with pytest.raises(InputError):
            fold_ids(**bad)
    with pytest.raises(InputError, match="finite"):
        fold_ids(2, 2, yaw=[0.0, np.nan])


def test_folds_are_the_same_for_every_source(csv_file):
    folds = [load_keypoints_csv(csv_file, s).folds(3, seed=2) for s in KEYPOINT_SOURCES]
    np.testing.assert_array_equal(folds[0], folds[1])
    np.testing.assert_array_equal(folds[0], folds[2])


# ---------------------------------------------------------------------------- evaluation
@pytest.mark.parametrize("source", KEYPOINT_SOURCES)
def test_solvepnp_recovers_exact_projections_of_its_own_mean_head(csv_file, source):
    """Exact, centred projections of the mean head the baseline fits: ~0 error, ~0 bias. Any
    mix-up of the columns, left/right or the label convention would show here."""
    ks = load_keypoints_csv(csv_file, source)
    res = evaluate_keypoint_set(ConstantModel(), ks)
    s = res.summary()
    assert s["baseline_valid"] == ks.found.sum()
    assert max(s["baseline_mae"]) < 0.5
    assert max(abs(b) for b in s["baseline_bias"]) < 0.5
    assert set(s["groups"]["|yaw|"]) == {"0–30", "30–60", "60–99"}
    # a constant zero prediction: bias = −mean(label), MAE = mean |label| over the found rows
    truth = ks.angles[ks.found].astype(np.float64)
    np.testing.assert_allclose(s["bias"], -truth.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(s["mae"][:3], np.abs(truth).mean(axis=0), atol=1e-4)
    det = s["detection"]
    assert det["all"]["found"] == ks.found.sum() and det["all"]["n"] == len(POSES)
    big = np.abs(ks.angles[:, 0]) >= 60
    assert det["|yaw| 60–99"] == {
        "found": int((ks.found & big).sum()),
        "n": int(big.sum()),
        "share": (ks.found & big).sum() / big.sum(),
    }
    md = res.markdown()
    assert "## Signed bias" in md and "## Detected" in md and "\\|yaw\\| 60–99" in md


def test_evaluating_some_folds_only(csv_file):
    ks = load_keypoints_csv(csv_file, "blazeface")
    f = ks.folds(3, seed=1)
    n = 0
    for j in range(3):
        res = evaluate_keypoint_set(ConstantModel(), ks, folds=[j], k=3, fold_seed=1)
        assert res.summary()["valid"] == (ks.found & (f == j)).sum()
        assert res.detection["all"][1] == (f == j).sum()
        assert f"folds {j} of 3" in res.info["data"]
        n += res.summary()["valid"]
    assert n == ks.found.sum()
    two = evaluate_keypoint_set(ConstantModel(), ks, folds=[0, 2], k=3, fold_seed=1)
    assert two.summary()["valid"] == (ks.found & (f != 1)).sum()
    for bad in ([3], [-1], []):
        with pytest.raises(InputError, match="folds"):
            evaluate_keypoint_set(ConstantModel(), ks, folds=bad, k=3)


def test_comparison_table_has_one_line_per_method(csv_file):
    ks = load_keypoints_csv(csv_file, "blazepose")
    res = evaluate_keypoint_set(ConstantModel(5.0), ks)
    table = comparison_table([("model", res, False), ("PnP", res, True)])
    lines = table.strip().splitlines()
    assert len(lines) == 4 and lines[2].startswith("| model |") and lines[3].startswith("| PnP |")
    h = headline(res)
    assert h["n"] == ks.found.sum() and set(h["bins"]) == {"0–30", "30–60", "60–99"}
    assert len(h["within_1sigma"]) == 3 and "within_1sigma" not in headline(res, baseline=True)
    no_base = evaluate_keypoint_set(ConstantModel(), ks, baseline=False)
    with pytest.raises(InputError, match="baseline"):
        headline(no_base, baseline=True)


def test_eval_command_on_a_keypoints_csv(tmp_path, csv_file):
    from typer.testing import CliRunner

    from hhpnet.cli import app
    from tests.helpers.fakes import random_model_file

    weights = random_model_file(tmp_path / "tiny.safetensors", sd=0.1)
    run = CliRunner().invoke
    out = tmp_path / "rep"
    res = run(app, ["eval", "-m", str(weights), "--keypoints-csv", str(csv_file), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.count("# Evaluation:") == 3 and "# Summary" in res.output
    summary = (out / "summary.md").read_text()
    assert len([ln for ln in summary.splitlines() if ln.startswith("| blaze")]) == 4
    assert "| movenet: solvePnP |" in summary
    for src in KEYPOINT_SOURCES:
        metrics = json.loads((out / src / "metrics.json").read_text())
        assert "baseline_bias" in metrics and (out / src / "calibration.png").is_file()
    one = tmp_path / "one"
    args = ["--source", "movenet", "--folds", "0,2", "--num-folds", "3", "--kpt-thr", "0.1"]
    res = run(
        app, ["eval", "-m", str(weights), "--keypoints-csv", str(csv_file), *args, "-o", str(one)]
    )
    assert res.exit_code == 0, res.output
    metrics = json.loads((one / "metrics.json").read_text())
    f = load_keypoints_csv(csv_file, "movenet").folds(3, 0)
    assert metrics["valid"] == (f != 1).sum() and "folds 0,2 of 3" in metrics["info"]["data"]
    assert "# Summary" not in res.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--source", "openpose"], "--source"),
        (["--folds", "0,x"], "--folds"),
        (["--num-folds", "1"], "--num-folds"),
        (["--mat-dir", "."], "cannot be combined"),
        (["--detector-profile", "coco"], "cannot be combined"),
    ],
)
def test_eval_command_rejects_bad_options(tmp_path, csv_file, extra, message):
    from typer.testing import CliRunner

    from hhpnet.cli import app
    from tests.helpers.fakes import random_model_file

    weights = random_model_file(tmp_path / "tiny.safetensors", sd=0.1)
    res = CliRunner().invoke(
        app, ["eval", "-m", str(weights), "--keypoints-csv", str(csv_file), *extra]
    )
    assert isinstance(res.exception, InputError) and message in str(res.exception)


def test_folds_need_a_keypoints_csv():
    from typer.testing import CliRunner

    from hhpnet.cli import app

    res = CliRunner().invoke(app, ["eval", "--folds", "0"])
    assert isinstance(res.exception, InputError) and "--keypoints-csv" in str(res.exception)


# ---------------------------------------------------------------------------- the real file
def test_the_development_file_loads_and_evaluates():
    """Shape and detection counts as its README states; every source evaluates; the geometric
    baseline is in the range measured on real close-ups (figures not pinned: the shipped
    weights and the mean head are refitted)."""
    import hhpnet

    dev = dev_file(KEYPOINTS_CSV)
    sets = {s: load_keypoints_csv(dev, s) for s in KEYPOINT_SOURCES}
    missed = {s: int((~k.found).sum()) for s, k in sets.items()}
    assert {len(k) for k in sets.values()} == {962}
    assert missed == {"blazeface": 22, "blazepose": 75, "movenet": 61}
    assert (np.abs(sets["blazeface"].angles) <= 99).all()
    model = hhpnet.load_model("hhpnet-1.0")
    for source, ks in sets.items():
        res = evaluate_keypoint_set(model, ks)
        s = res.summary()
        assert s["valid"] == ks.found.sum()
        assert 3.0 < s["baseline_mae"][3] < 20.0
        assert s["groups"]["|yaw|"]["0–30"]["baseline_mae"][3] < s["baseline_mae"][3], source
    f = sets["blazeface"].folds()
    assert np.bincount(f).tolist() == [193, 193, 192, 192, 192]
