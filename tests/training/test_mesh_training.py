"""The face-mesh reading's training side: the canonical face and its symmetry, the landmarks file
loader, the generator fit (recovers what a made-up world was built with), the synthetic
generator and a tiny end-to-end training on a made-up landmarks file (never rows of the real
development file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from hhpnet.errors import InputError
from hhpnet.mesh_model import eye_line_angle
from hhpnet.training.datasets import fold_ids, load_landmarks_npz
from hhpnet.training.evaluate import evaluate_landmark_set
from hhpnet.training.mesh_fit import (
    MeshFit,
    fit_mesh_generator,
    mirror_landmarks,
    pose_residuals,
)
from hhpnet.training.mesh_geometry import (
    SUBSETS,
    canonical_face,
    canonical_head,
    mirror_permutation,
    subset_indices,
)
from hhpnet.training.mesh_synth import MeshSynthConfig, generate_mesh
from tests.helpers.cli import run_cli
from tests.helpers.mesh_faces import project, write_tiny_landmarks


def test_canonical_face_frames_and_mirror_symmetry():
    face, head = canonical_face(), canonical_head()
    assert face.shape == head.shape == (468, 3)
    nose, chin, right_eye, left_eye = 1, 152, 33, 263
    # OpenCV frame: y down, nose tip nearest the viewer (most negative z); the subject's right
    # eye on the image left
    assert face[chin, 1] > face[nose, 1] > face[right_eye, 1]
    assert face[nose, 2] < face[:, 2].min() + 0.2 and face[right_eye, 0] < 0 < face[left_eye, 0]
    assert head[nose, 2] > head[:, 2].max() - 0.2  # hhpnet's head frame: z towards the viewer
    np.testing.assert_allclose(head.mean(axis=0), 0.0, atol=1e-9)
    perm = mirror_permutation()
    assert perm[right_eye] == left_eye and perm[nose] == nose
    np.testing.assert_array_equal(perm[perm], np.arange(468))
    np.testing.assert_allclose(face[perm] * [-1, 1, 1], face, atol=1e-6)
    for name in SUBSETS:
        idx = subset_indices(name)
        assert set(perm[idx]) == set(idx), name  # closed under mirroring
    assert len(subset_indices("all")) == 468 and len(subset_indices("spread100")) == 100
    with pytest.raises(ValueError, match="unknown landmark subset"):
        subset_indices("most")


def test_landmarks_loader_on_a_tiny_file(tmp_path):
    path = write_tiny_landmarks(tmp_path / "tiny.npz", n=30, missing=3)
    lset = load_landmarks_npz(path)
    assert len(lset) == 30 and lset.files[0] == "image00000.jpg"
    assert lset.reading("facemesh").shape == (30, 468, 3)
    assert lset.reading("facemesh", mirror=True).shape == (30, 468, 3)
    found = lset.found("facemesh")
    assert found.sum() == 27 and not found[:3].any()
    np.testing.assert_array_equal(lset.folds(5), fold_ids(30, 5, yaw=lset.angles[:, 0]))
    np.testing.assert_allclose(lset.mirrored_angles()[:, [0, 2]], -lset.angles[:, [0, 2]])
    kp = lset.keypoints5("movenet")
    assert kp.shape == (30, 5, 3) and (kp[:3] == 0).all() and (kp[3:, :, 2] == 0.9).all()
    assert "facemesh_box" in lset.extras and lset.extras["facemesh_box"].shape == (30, 4)
    with pytest.raises(InputError, match="no reading"):
        load_landmarks_npz(path).reading("dlib68")
    assert lset.sources() == (
        "facemesh", "facemesh_mirror", "blazeface", "movenet", "blazeface_mirror", "movenet_mirror"
    )  # fmt: skip
    with np.load(path) as data:  # a file without the face mesh: its reading is refused by name
        np.savez(tmp_path / "nomesh.npz", **{k: data[k] for k in data.files if k != "facemesh"})
    nomesh = load_landmarks_npz(tmp_path / "nomesh.npz")
    assert "facemesh" not in nomesh.sources() and "facemesh_mirror" in nomesh.sources()
    with pytest.raises(InputError, match="no reading 'facemesh'"):
        nomesh.reading("facemesh")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("size_wh"), "missing array"),
        (lambda a: a.update(facemesh=a["facemesh"][:, :100]), "facemesh must be"),
        (lambda a: a.update(labels_ypr=a["labels_ypr"][:, :2]), "labels_ypr must be"),
        (lambda a: a.update(blazeface5_flip=np.zeros((5, 5, 3))), "blazeface5_flip must be"),
        (lambda a: a.update(size_wh=np.zeros((30, 2))), "positive"),
    ],
)
def test_landmarks_loader_rejects_malformed_files(tmp_path, change, message):
    with np.load(write_tiny_landmarks(tmp_path / "t.npz", n=30)) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError, match=message):
        load_landmarks_npz(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable"):
        load_landmarks_npz(tmp_path / "junk.npz")
    with pytest.raises(InputError, match="not found"):
        load_landmarks_npz(tmp_path / "none.npz")


def test_mirror_landmarks_is_the_mirror_image_of_the_mirrored_pose():
    angles = np.array([[35.0, 10.0, -12.0]])
    mirrored = mirror_landmarks(project(angles, centre=(0, 0)), 1.0)
    np.testing.assert_allclose(mirrored, project(angles * [-1, 1, -1], centre=(0, 0)), atol=1e-3)


def _made_up_readings(n: int, offset: float, depth: float, seed: int = 0):
    """Readings of a world with a known pitch offset and depth scale, a smooth yaw-dependent
    landmark shift (bias) and a little noise."""
    rng = np.random.default_rng(seed)
    angles = np.stack(
        [rng.uniform(-90, 90, n), rng.normal(-4, 12, n), rng.normal(0, 10, n)], axis=1
    )
    v = np.asarray(project(angles, centre=(0, 0), face_px=15.5), np.float64)  # 1 px = 1 cm
    from hhpnet.training.mesh_fit import posed_face

    v_off = posed_face(angles, offset)
    lm = np.empty_like(v)
    lm[..., :2] = v_off[..., :2] * 10.0 + 300.0
    lm[..., 2] = -depth * v_off[..., 2] * 10.0
    bias = np.zeros_like(lm)
    bias[:, 234, 0] = 0.5 * np.sin(np.radians(angles[:, 0])) * 10.0  # a contour point slides
    lm += bias + rng.normal(0.0, 0.5, lm.shape)
    return lm, angles


@pytest.fixture(scope="module")
def made_up_fit() -> tuple[MeshFit, np.ndarray, np.ndarray]:
    lm, angles = _made_up_readings(150, offset=4.0, depth=0.8)
    return fit_mesh_generator(lm, angles, options={"components": 4}), lm, angles


def test_generator_fit_recovers_a_made_up_world(made_up_fit):
    fit, lm, angles = made_up_fit
    assert fit.pitch_offset == pytest.approx(4.0, abs=0.6)
    assert fit.depth_scale == pytest.approx(0.8, abs=0.03)
    b = fit.bias_at(np.array([-60.0, 0.0, 60.0]), np.array([-4.0, -4.0, -4.0]))
    assert b[2, 234, 0] > 0.25 > -0.25 > b[0, 234, 0] and abs(b[1, 234, 0]) < 0.1
    assert abs(b[2, 33, 0]) < 0.1  # the others do not slide
    res, _ = pose_residuals(lm, angles, fit.pitch_offset, fit.depth_scale)
    assert np.sqrt((res[..., :2] ** 2).mean()) < 0.15  # 0.05 cm noise, 0.5 px / 10 px per cm
    again = MeshFit.from_arrays(fit.to_arrays())
    np.testing.assert_array_equal(again.bias, fit.bias)
    assert again.level_dof == fit.level_dof and json.dumps(again.summary())


def test_generator_output_follows_the_labels_and_is_deterministic(made_up_fit):
    fit = made_up_fit[0]
    pts = subset_indices("stable")
    a, lab = generate_mesh(fit, 2000, 7, pts)
    b, lab2 = generate_mesh(fit, 2000, 7, pts)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lab, lab2)
    assert a.shape == (2000, len(pts), 3) and lab.shape == (2000, 3)
    assert np.abs(lab[:, 0]).max() <= 100.0 and np.isfinite(a).all()
    # in-plane: the eye line follows the roll on near-frontal faces (the world's pitch offset
    # of 4° barely moves it)
    full, lab = generate_mesh(fit, 3000, 8, config=MeshSynthConfig(noise_scale=0.0))
    frontal = (np.abs(lab[:, 0]) < 10) & (np.abs(lab[:, 1]) < 10)
    err = eye_line_angle(full[frontal]) - lab[frontal, 2]
    assert frontal.sum() > 100 and np.abs(err).mean() < 1.5
    # yaw > 0 turns the nose to the image's left of the face's middle
    turned = (lab[:, 0] > 30) & (np.abs(lab[:, 2]) < 20)
    nose_left = full[turned, 1, 0] < full[turned, :, 0].mean(axis=1)
    assert nose_left.mean() > 0.95


def test_tiny_training_run_writes_a_mesh_model(tmp_path):
    pytest.importorskip("torch")
    from hhpnet.mesh_model import load_mesh_model
    from hhpnet.training.mesh_train import load_mesh_config, train_mesh

    path = write_tiny_landmarks(tmp_path / "tiny.npz", n=40)
    cfg = load_mesh_config(
        None,
        **{
            "real_npz": str(path),
            "exclude_fold": 0,
            "fit.components": 4,
            "network.hidden": [16],
            "training.samples": 3000,
            "training.val_samples": 500,
            "training.epochs": 2,
            "training.warmup_steps": 5,
        },
    )
    res = train_mesh(cfg, output=tmp_path / "m.safetensors", log=lambda _m: None)
    model = load_mesh_model(res.path)
    meta = model.metadata
    assert meta["kind"] == "mesh" and json.loads(meta["points"]) == list(subset_indices("stable"))
    fitted = json.loads(meta["real_data_fit"])
    assert fitted["generator_fit"]["exclude_fold"] == 0
    assert fitted["network"] == "trained on synthetic landmarks only"
    assert set(json.loads(meta["sigma_calibration"])) == {"yaw", "pitch", "roll"}
    # the held-out fold scored through the evaluation of hhpnet eval --landmarks-npz
    result = evaluate_landmark_set(model, load_landmarks_npz(path), "facemesh", folds=[0], k=5)
    summary = result.summary()
    assert summary["valid"] == result.detection["all"][0] > 0
    with pytest.raises(InputError, match="config: unknown key"):
        load_mesh_config(None, **{"network.depth": 3})


def test_cli_eval_reads_the_landmarks_file(tmp_path, monkeypatch, capsys):
    from tests.test_mesh_model import STABLE, random_model

    data = write_tiny_landmarks(tmp_path / "tiny.npz", n=30)
    model = random_model(STABLE).save(tmp_path / "mesh.safetensors")
    args = ["eval", "--landmarks-npz", str(data), "--mesh-model", str(model), "--folds", "0,1"]
    args += ["--source", "facemesh"]
    assert run_cli([*args, "--out", str(tmp_path / "out")], monkeypatch) == 0
    text = capsys.readouterr().out
    assert "random on tiny.npz (facemesh)" in text
    summary = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert summary["detection"]["all"]["n"] == 12  # folds 0 and 1 of 30 rows
    assert summary["detection"]["all"]["found"] == summary["n"] <= 12
    assert run_cli([*args[:-1], "facemesh_mirror"], monkeypatch) == 0
    assert "random on tiny.npz (facemesh_mirror)" in capsys.readouterr().out
    five = ["eval", "--landmarks-npz", str(data), "--source", "blazeface", "--model", "hhpnet-0.2"]
    assert run_cli(five, monkeypatch) == 0
    assert "hhpnet-0.2 on tiny.npz (blazeface)" in capsys.readouterr().out
    assert run_cli(["eval", "--landmarks-npz", str(data), "--source", "dlib"], monkeypatch) == 2
    assert "--source must be one of" in capsys.readouterr().err
    # every reading of the file, then the fusions (the mesh's among them)
    every = ["eval", "--landmarks-npz", str(data), "--mesh-model", str(model), "--no-baseline"]
    assert run_cli(every, monkeypatch) == 0
    text = capsys.readouterr().out
    assert "facemesh_mirror: random" in text and "movenet_mirror: hhpnet-1.0" in text
    assert "default (BlazeFace + MoveNet + face mesh)" in text


DEV_LANDMARKS = Path(
    os.environ.get(
        "HHPNET_DEV_LANDMARKS",
        Path(__file__).resolve().parents[3] / "shared" / "data" / "aflw2000-dev-landmarks.npz",
    )
)


@pytest.mark.skipif(not DEV_LANDMARKS.is_file(), reason=f"{DEV_LANDMARKS} not present")
def test_real_landmarks_file_and_the_shipped_mesh_model():
    """The dev file loads with every reading, its folds equal the keypoints CSV's (the same
    photos, same labels), and the shipped mesh model reads it (in-sample for its generator fit
    and σ calibration: a smoke test; the cross-validated figures are in docs/model.md)."""
    from hhpnet.mesh_model import load_mesh_model

    lset = load_landmarks_npz(DEV_LANDMARKS)
    assert len(lset) == 962 and set(lset.readings) == {
        f"{r}{s}" for r in ("facemesh", "blazeface5", "movenet17") for s in ("", "_flip")
    }
    assert lset.found("facemesh").sum() == 940 and lset.found("facemesh", True).sum() == 929
    csv = DEV_LANDMARKS.with_name("aflw2000-dev-keypoints.csv")
    if csv.is_file():
        from hhpnet.training.datasets import load_keypoints_csv

        kset = load_keypoints_csv(csv, "blazeface")
        assert kset.files == lset.files
        np.testing.assert_array_equal(kset.folds(5), lset.folds(5))
    result = evaluate_landmark_set(load_mesh_model(), lset, "facemesh")
    summary = result.summary()
    assert summary["valid"] == 940
    assert summary["mae"][3] < 5.5  # CV: 4.92
    cover = [summary["uncertainty"][a]["within_1sigma"] for a in ("yaw", "pitch", "roll")]
    assert all(0.6 < c < 0.76 for c in cover)
