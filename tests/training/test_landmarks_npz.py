"""Real readings of photos and their mirror images from a landmarks .npz (hhpnet.training.
landmarks_npz), their fusion cross-validated (fusion_fit) and ``hhpnet eval --landmarks-npz``.

The fixture is written by the test from the synthetic generator (no row of any real file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hhpnet.errors import InputError
from hhpnet.training.landmarks_npz import (
    MOVENET_KEYPOINT_THRESHOLD,
    NPZ_SOURCES,
    load_landmarks_npz,
)
from tests.helpers.cli import run_cli

N, SIDE = 60, 450


def _heads(profile: int, angles: np.ndarray, seed: int) -> np.ndarray:
    """Generator keypoints at these angles, moved to the centre of a SIDE × SIDE photo."""
    from hhpnet.training.synth import SynthConfig, generate

    weights = [0.0, 0.0, 0.0]
    weights[profile] = 1.0
    cfg = SynthConfig(detector_weights=tuple(weights), mirror_share=0.0, dropout=0.0)  # type: ignore[arg-type]
    b = generate(len(angles), seed, cfg, angles=angles, head_px=np.full(len(angles), 150.0))
    kp = b.keypoints.astype(np.float64)
    present = kp[..., 2] > 0
    centre = (kp[..., :2] * present[..., None]).sum(1) / np.maximum(present.sum(1), 1)[:, None]
    kp[..., :2] = np.where(present[..., None], kp[..., :2] - centre[:, None] + SIDE / 2, 0.0)
    return kp


def _write_fixture(path: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.stack(
        [rng.uniform(-80, 80, N), rng.normal(0, 12, N), rng.normal(0, 8, N)], 1
    ).astype(np.float32)
    mirrored = labels * np.array([-1, 1, -1], np.float32)
    data: dict[str, np.ndarray] = {
        "files": np.array([f"image{i:04d}.jpg" for i in range(N)]),
        "labels_ypr": labels,
        "size_wh": np.full((N, 2), SIDE, np.int32),
    }
    for suffix, ang, seed in (("", labels, 1), ("_flip", mirrored, 2)):
        bf = _heads(0, ang, seed)
        body = np.full((N, 17, 3), 0.05)
        body[:, :5] = _heads(2, ang, seed + 10)
        body[:, 5:, :2] = SIDE / 2
        score = np.full(N, 0.6)
        bf[0] = np.nan  # BlazeFace found nothing on the first photo
        body[1] = np.nan  # MoveNet nothing on the second
        data["blazeface5" + suffix] = bf.astype(np.float32)
        data["blazeface_score" + suffix] = np.where(np.isnan(bf[:, 0, 0]), np.nan, 0.8)
        data["movenet17" + suffix] = body.astype(np.float32)
        data["movenet_score" + suffix] = np.where(np.isnan(body[:, 0, 0]), np.nan, score)
    np.savez(path, **data)  # type: ignore[arg-type]
    return data


@pytest.fixture(scope="module")
def npz_file(tmp_path_factory: Any) -> Path:
    path = Path(tmp_path_factory.mktemp("npz")) / "landmarks.npz"
    _write_fixture(path)
    return path


def test_each_reading_is_a_keypoint_set(npz_file: Path) -> None:
    data = dict(np.load(npz_file))
    lset = load_landmarks_npz(npz_file)
    sets = {s: lset.keypoint_set(s) for s in NPZ_SOURCES}
    for name, ks in sets.items():
        assert len(ks) == N and ks.keypoints.shape == (N, 5, 3) and ks.source == name
        assert ks.files[3] == "image0003.jpg" and (ks.image_size == SIDE).all()
    assert not sets["blazeface"].found[0] and sets["blazeface"].found[1:].all()
    assert not sets["movenet"].found[1] and sets["movenet"].found[0]
    # a mirror reading is self-consistent: the mirror image's points and the mirror image's pose
    np.testing.assert_allclose(sets["blazeface_mirror"].angles[:, 0], -data["labels_ypr"][:, 0])
    np.testing.assert_allclose(sets["blazeface_mirror"].angles[:, 1], data["labels_ypr"][:, 1])
    np.testing.assert_allclose(sets["movenet"].angles, data["labels_ypr"])
    np.testing.assert_allclose(
        sets["blazeface_mirror"].keypoints[1:], data["blazeface5_flip"][1:], rtol=1e-6
    )
    # MoveNet's head points scoring below the detector's threshold are missing, as in the pipeline
    raw = data["movenet17"][:, :5]
    low = (raw[..., 2] < MOVENET_KEYPOINT_THRESHOLD) & np.isfinite(raw[..., 2])
    assert low.any() and (sets["movenet"].keypoints[low] == 0).all()
    assert sets["blazeface_mirror"].profile == "blazeface" and sets["movenet"].profile == "coco"


def test_the_threshold_is_the_detectors_own() -> None:
    import inspect

    from hhpnet.detectors.movenet import MoveNetDetector

    default = inspect.signature(MoveNetDetector.__init__).parameters["keypoint_threshold"].default
    assert default == MOVENET_KEYPOINT_THRESHOLD


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("labels_ypr"), r"missing array\(s\) labels_ypr"),
        (lambda d: d.pop("movenet17_flip"), "no reading 'movenet17_flip'"),
        (lambda d: d.pop("movenet_score_flip"), "no array 'movenet_score_flip'"),
        (lambda d: d.update(size_wh=d["size_wh"][:5]), r"size_wh must be numeric of shape"),
        (lambda d: d.update(blazeface5=d["blazeface5"][:, :3]), "blazeface5 must be numeric"),
        (lambda d: d["labels_ypr"].__setitem__((4, 0), np.nan), "labels_ypr must be finite"),
        (lambda d: d["blazeface5"].__setitem__((4, 0, 2), 1.5), r"confidences must be in \[0, 1\]"),
    ],
)
def test_malformed_files_raise_one_line_input_errors(
    tmp_path: Path, npz_file: Path, change: Any, message: str
) -> None:
    data = {k: np.array(v) for k, v in np.load(npz_file).items()}
    change(data)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    source = "movenet_mirror" if "flip" in message else "blazeface"
    with pytest.raises(InputError, match=message):
        load_landmarks_npz(bad).keypoint_set(source)


def test_unreadable_inputs(tmp_path: Path, npz_file: Path) -> None:
    text = tmp_path / "x.npz"
    text.write_text("not a zip")
    with pytest.raises(InputError, match=r"not a readable \.npz"):
        load_landmarks_npz(text)
    with pytest.raises(InputError, match=r"not a readable \.npz"):
        load_landmarks_npz(tmp_path / "missing.npz")
    with pytest.raises(InputError, match="unknown landmarks source"):
        load_landmarks_npz(npz_file).keypoint_set("blazepose")
    with pytest.raises(InputError, match="not a five-point reading"):
        load_landmarks_npz(npz_file).keypoint_set("facemesh")


def test_mirror_readings_come_back_in_the_photos_frame(npz_file: Path) -> None:
    import hhpnet
    from hhpnet.training.fusion_fit import npz_readings, predict_keypoint_set

    model = hhpnet.load_model("hhpnet-1.0")
    readings, labels, folds = npz_readings(model, npz_file)
    assert set(readings) == set(NPZ_SOURCES) and len(np.unique(folds)) == 5
    own = predict_keypoint_set(model, load_landmarks_npz(npz_file).keypoint_set("movenet_mirror"))
    ok = own.valid
    np.testing.assert_allclose(readings["movenet_mirror"].angles[ok, 0], -own.angles[ok, 0])
    np.testing.assert_allclose(readings["movenet_mirror"].angles[ok, 2], -own.angles[ok, 2])
    # and they read the photo's pose: errors against the photo's labels stay small
    err = np.abs(readings["movenet_mirror"].angles[ok] - labels[ok]).mean()
    assert err < 15


def test_eval_cli_scores_readings_and_fusions(
    npz_file: Path, monkeypatch: Any, capsys: Any
) -> None:
    code = run_cli(["eval", "--landmarks-npz", str(npz_file), "--no-baseline"], monkeypatch)
    out = capsys.readouterr().out
    assert code == 0
    assert "default (BlazeFace + MoveNet + face mesh)" in out
    assert "precise (+ mirror readings)" in out
    assert "blazeface_mirror" in out  # every reading scored alone too
    code = run_cli(
        ["eval", "--landmarks-npz", str(npz_file), "--source", "blazeface_mirror",
         "--folds", "0,1", "--no-baseline"], monkeypatch,
    )  # fmt: skip
    assert code == 0 and "precise" not in capsys.readouterr().out
    for args, message in (
        (["--source", "blazepose"], "--source must be one of"),
        (["--keypoints-csv", str(npz_file)], "not both"),
        (["--source", "facemesh"], "no facemesh reading in this file"),
    ):
        assert run_cli(["eval", "--landmarks-npz", str(npz_file), *args], monkeypatch) == 2
        assert message in capsys.readouterr().err
