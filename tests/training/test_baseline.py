import numpy as np

from hhpnet.convention import wrap_degrees
from hhpnet.training.baseline import solve_pnp
from hhpnet.training.synth import MEAN_HEAD_MM, project_head


def _scene(angles, centers):
    n = len(angles)
    head = np.repeat(MEAN_HEAD_MM["blazeface"][None], n, 0)
    principal = np.array([[640.0, 360.0]] * n)
    xy = project_head(head, angles, centers, np.full(n, 900.0), np.full(n, 1280.0), principal)
    return np.concatenate([xy, np.ones((n, 5, 1))], -1)


def test_recovers_noise_free_poses_including_off_centre_heads():
    rng = np.random.default_rng(0)
    ang = np.stack(
        [rng.uniform(-60, 60, 40), rng.uniform(-30, 30, 40), rng.uniform(-30, 30, 40)], -1
    )
    centers = rng.uniform([100, 100], [1180, 620], (40, 2))
    est, valid = solve_pnp(_scene(ang, centers), (1280, 720), focal=1280.0)
    assert valid.all()
    err = np.abs(wrap_degrees(est - ang))
    assert err.max() < 1.0, err.max()


def test_too_few_points_are_invalid_not_guessed():
    kp = _scene(np.array([[10.0, 5.0, 0.0]]), np.array([[640.0, 360.0]]))
    kp[0, 2:, 2] = 0  # three missing
    est, valid = solve_pnp(kp, (1280, 720))
    assert not valid[0] and np.isnan(est[0]).all()


def test_four_points_and_the_auricle_head_and_per_person_sizes():
    ang = np.array([[25.0, -10.0, 5.0], [-40.0, 15.0, -10.0]])
    centers = np.array([[400.0, 300.0], [900.0, 400.0]])
    n = len(ang)
    head = np.repeat(MEAN_HEAD_MM["coco"][None], n, 0)
    principal = np.array([[640.0, 360.0]] * n)
    xy = project_head(head, ang, centers, np.full(n, 900.0), np.full(n, 1280.0), principal)
    kp = np.concatenate([xy, np.ones((n, 5, 1))], -1)
    kp[0, 4] = 0  # far (right) ear missing on the first person
    est, valid = solve_pnp(kp, [[1280, 720]] * n, head="coco")
    assert valid.all()
    assert np.abs(wrap_degrees(est - ang)).max() < 1.0
    # the wrong head placement costs accuracy: the solver really uses the given model
    est_bf, _ = solve_pnp(kp, (1280, 720), head="blazeface")
    assert np.abs(wrap_degrees(est_bf - ang)).max() > 2.0
