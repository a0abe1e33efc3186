"""End to end, per reading: image → detector → keypoint mapping → model (→ fusion) → pose, on
heads rendered at known poses (tests/helpers/render_face.py), with tolerances tight enough that
a left/right swap or a sign flip in any detector's keypoint mapping fails.

Readings: ``blazeface`` alone, ``movenet`` alone, ``facemesh`` (the estimator's face-mesh reading
of the face BlazeFace finds: crop in BlazeFace's box, face mesh, mesh model), ``auto`` (all three
fused, the default) and ``precise`` (``auto`` with the mirror image's readings too). The grid
:data:`POSES` stays within what both detectors see on the renders (|yaw| ≤ 30°, |pitch|,
|roll| ≤ 15°): every pose is found by both, so ``auto`` fuses three readings everywhere.

How the tolerances were derived (measured 2026-12-07, hhpnet-1.0; re-measured by the slow test
``test_tolerances_follow_from_the_measured_noise``): each render was also read after 5
imperceptible changes of the image (shifts of 4–8 px, scale 0.94–1.06; :data:`JITTERS`). Per
reading and angle, ``sd`` is the pooled within-pose standard deviation of the reading over those
6 versions — how much the answer moves for no reason — and ``mae`` and ``worst`` are the mean
and largest |error| over all 13 × 6 readings:

==========  ======================  =====================  ======================
reading     sd y / p / r            mae y / p / r          worst y / p / r
==========  ======================  =====================  ======================
blazeface   2.67 / 2.44 / 1.31      2.92 / 2.81 / 1.60     15.67 / 17.33 / 6.62
movenet     1.21 / 1.70 / 1.00      1.63 / 4.63 / 2.24     6.97 / 15.11 / 7.77
facemesh    0.77 / 0.73 / 0.38      2.45 / 3.78 / 2.90     6.04 / 5.58 / 4.25
auto        0.68 / 1.18 / 0.35      1.50 / 1.69 / 2.78     3.85 / 3.86 / 3.98
precise     0.59 / 0.83 / 0.34      1.42 / 1.58 / 2.66     4.61 / 3.91 / 4.30
==========  ======================  =====================  ======================

(``auto`` measured 1.06 / 1.74 / 0.91, 1.47 / 3.10 / 1.43, 6.22 / 9.84 / 4.58 before the face
mesh joined it.)

* the mean |error| over the 13 poses must stay within ``mae + 4 sd / √13`` (four standard
  errors of a 13-pose mean): :data:`MAE_TOL`;
* each pose's |error| within ``worst + 2 sd``: :data:`POSE_TOL`.

What the planted mapping bugs do (mean |yaw error| over the grid, measured): BlazeFace eyes
swapped 27°, ears swapped 39°; MoveNet eyes swapped 74°, ears 35°; a mirrored reading (what an
x sign flip does) 28° — each several times :data:`MAE_TOL`. Under ``auto`` a swapped reading of
either detector gets a huge σ (74° yaw) and the fusion all but ignores it: the mean |yaw error|
stays 1.6–3.6°, the other detector's answer. What shows the bug there is σ: two sane readings of a
head always narrow it (the fused σ is below the better reading's, 0.92 of it on average over
the grid, 0.99 at most), an ignored reading does not. The face mesh's own mapping is checked by
the ``facemesh`` reading (a de-rotation by the eye line turned the wrong way, or the mesh read
where it sees no face, fail it: ``python tools/mutate.py -k mesh``); a mirror mesh not mapped
back is dropped as an outlier by ``precise``'s robust fusion here, and caught by the real-data
test (tests/test_real_accuracy.py, ``precise``).
"""

from __future__ import annotations

import itertools
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest

from hhpnet import HeadPoseEstimator
from hhpnet.mesh_reading import MeshReader
from tests.helpers.render_face import SIZE, render_face

READINGS = ("blazeface", "movenet", "facemesh", "auto", "precise")
POSES = [
    (0.0, 0.0, 0.0),
    (15.0, 0.0, 0.0),
    (-15.0, 0.0, 0.0),
    (30.0, 0.0, 0.0),
    (-30.0, 0.0, 0.0),
    (0.0, 15.0, 0.0),
    (0.0, -15.0, 0.0),
    (0.0, 0.0, 15.0),
    (0.0, 0.0, -15.0),
    (20.0, 10.0, 10.0),
    (-20.0, -10.0, -10.0),
    (-20.0, 10.0, -10.0),
    (20.0, -10.0, 10.0),
]
#: the imperceptible image changes of the noise measurement: (dx, dy) pixels, scale
JITTERS = [(0, 0, 1.0), (6, -5, 1.0), (-5, 6, 1.0), (0, 0, 0.94), (0, 0, 1.06), (4, 4, 0.97)]
#: measured noise (module docstring): reading → (sd, mae, worst), each (yaw, pitch, roll)
NOISE = {
    "blazeface": ((2.67, 2.44, 1.31), (2.92, 2.81, 1.60), (15.67, 17.33, 6.62)),
    "movenet": ((1.21, 1.70, 1.00), (1.63, 4.63, 2.24), (6.97, 15.11, 7.77)),
    "facemesh": ((0.77, 0.73, 0.38), (2.45, 3.78, 2.90), (6.04, 5.58, 4.25)),
    "auto": ((0.68, 1.18, 0.35), (1.50, 1.69, 2.78), (3.85, 3.86, 3.98)),
    "precise": ((0.59, 0.83, 0.34), (1.42, 1.58, 2.66), (4.61, 3.91, 4.30)),
}


def _tolerances() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    mae_tol, pose_tol = {}, {}
    for name, (sd, mae, worst) in NOISE.items():
        mae_tol[name] = np.asarray(mae) + 4 * np.asarray(sd) / np.sqrt(len(POSES))
        pose_tol[name] = np.asarray(worst) + 2 * np.asarray(sd)
    return mae_tol, pose_tol


MAE_TOL, POSE_TOL = _tolerances()


@cache
def estimator(name: str) -> HeadPoseEstimator:
    if name == "precise":
        return HeadPoseEstimator("hhpnet-1.0", detector="auto", precise=True)
    return HeadPoseEstimator("hhpnet-1.0", detector=name, mesh=name != "blazeface")


@cache
def mesh_reader() -> MeshReader:
    return MeshReader()


@cache
def render(yaw: float, pitch: float, roll: float, jitter: int = 0) -> np.ndarray:
    import cv2

    img = render_face(yaw, pitch, roll)
    dx, dy, scale = JITTERS[jitter]
    if jitter == 0:
        return img
    m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), 0.0, scale)
    m[:, 2] += (dx, dy)
    return cv2.warpAffine(img, m, (SIZE, SIZE), borderMode=cv2.BORDER_REPLICATE)


def read(name: str, pose: tuple[float, float, float], jitter: int = 0):
    """The one person the reading finds on the render (``facemesh``: the estimator's face-mesh
    reading of the face BlazeFace finds, alone)."""
    if name == "facemesh":
        img = render(*pose, jitter)
        faces = estimator("blazeface").detector(img)
        assert len(faces) == 1, f"{name}: {len(faces)} faces on the render at {pose}"
        angles, sigma = mesh_reader()(img, faces)
        assert np.isfinite(angles).all(), f"{name}: no pose at {pose}"
        return SimpleNamespace(angles=angles, yaw=angles[:, 0], sigma=sigma)
    poses = estimator(name)(render(*pose, jitter), rgb=True)
    assert len(poses) == 1, f"{name}: {len(poses)} people on the render at {pose}"
    assert poses.valid[0], f"{name}: no pose at {pose}"
    return poses


@pytest.mark.parametrize("name", READINGS)
def test_reading_follows_the_rendered_pose(name):
    got = [read(name, pose) for pose in POSES]
    err = np.array([p.angles[0] for p in got], np.float64) - np.array(POSES)
    mae = np.abs(err).mean(axis=0)
    assert (mae <= MAE_TOL[name]).all(), (name, mae.round(2), MAE_TOL[name].round(2))
    worst = np.abs(err).max(axis=0)
    assert (worst <= POSE_TOL[name]).all(), (name, err.round(1).tolist())
    # the yaw-only turns read in order: a mirrored reading would reverse it
    turn = [got[POSES.index((y, 0.0, 0.0))].yaw[0] for y in (-30.0, -15.0, 0.0, 15.0, 30.0)]
    assert all(b > a + 5 for a, b in itertools.pairwise(turn)), (name, turn)


def test_auto_fuses_both_readings_of_each_head():
    """Every grid head is seen by both detectors, and two sane readings narrow σ below the better
    one's (by hand: at ρ < σ_small/σ_large the weight is inside (0, 1) and
    σ² = σa²σb²(1 − ρ²)/(σa² + σb² − 2ρσaσb) < min(σa, σb)²). The σ reported goes through the tail
    maps (hhpnet.tails: one for fused heads, which widens σ where the readings disagree, one for
    single readings), so single poses may end above 1; over the grid the ratio to the better
    single reading's σ is 0.92 / 0.91 / 0.90 (yaw / pitch / roll, measured), and 1.20 / 1.16 /
    1.39 with BlazeFace's eyes swapped (the readings then disagree): the bound sits between."""
    ratio = []
    for pose in POSES:
        both = read("auto", pose)
        assert both.detector[0] == "blazeface+movenet+facemesh", pose
        best = np.minimum(read("blazeface", pose).sigma[0], read("movenet", pose).sigma[0])
        ratio.append(both.sigma[0] / best)
    ratio = np.array(ratio)
    assert (ratio < 1.4).all(), ratio.round(3)  # measured ≤ 1.27 (swapped: up to 2.36)
    assert (ratio.mean(axis=0) < 1.0).all(), ratio.mean(axis=0).round(3)


@pytest.mark.slow
def test_tolerances_follow_from_the_measured_noise():
    """Re-measures :data:`NOISE` (module docstring): the tolerances in use must not be tighter
    than what today's noise gives, nor much looser (update NOISE when a detector changes)."""
    for name in READINGS:
        err = np.full((len(POSES), len(JITTERS), 3), np.nan)
        for i, pose in enumerate(POSES):
            for j in range(len(JITTERS)):
                err[i, j] = read(name, pose, j).angles[0] - np.array(pose)
        sd = np.sqrt(err.var(axis=1, ddof=1).mean(axis=0))
        mae, worst = np.abs(err).mean(axis=(0, 1)), np.abs(err).max(axis=(0, 1))
        np.testing.assert_allclose(sd, NOISE[name][0], atol=0.3, err_msg=name)
        np.testing.assert_allclose(mae, NOISE[name][1], atol=0.3, err_msg=name)
        np.testing.assert_allclose(worst, NOISE[name][2], atol=1.5, err_msg=name)
