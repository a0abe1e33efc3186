import numpy as np
import pytest

from hhpnet.convention import (
    angles_to_matrix,
    axes_2d,
    facing_direction,
    matrix_opencv,
    matrix_to_angles,
    wrap_degrees,
)


def hopenet_draw_axis(yaw, pitch, roll):
    """The published draw_axis formulas (method.md), as unit vectors in image coordinates."""
    p, y, r = np.deg2rad(pitch), -np.deg2rad(yaw), np.deg2rad(roll)
    x_axis = (np.cos(y) * np.cos(r), np.cos(p) * np.sin(r) + np.cos(r) * np.sin(p) * np.sin(y))
    y_axis = (-np.cos(y) * np.sin(r), np.cos(p) * np.cos(r) - np.sin(p) * np.sin(y) * np.sin(r))
    z_axis = (np.sin(y), -np.cos(y) * np.sin(p))
    return np.array([x_axis, y_axis, z_axis])


@pytest.mark.parametrize(
    "angles", [(0, 0, 0), (30, 0, 0), (0, 20, 0), (0, 0, 15), (-70, 25, -40), (150, -10, 5)]
)
def test_axes_match_published_draw_axis(angles):
    np.testing.assert_allclose(axes_2d(*angles), hopenet_draw_axis(*angles), atol=1e-12)


def test_sign_convention_in_words():
    # positive yaw: nose (facing direction) towards the image's left
    assert facing_direction(30, 0)[0] < 0
    # positive pitch: nose goes up (negative y in image coordinates)
    assert facing_direction(0, 20)[1] < 0
    # positive roll: head x axis rotates clockwise on screen (towards +y when pointing right)
    assert axes_2d(0, 0, 20)[0, 1] > 0


def test_roundtrip_random_including_back_views():
    rng = np.random.default_rng(0)
    ang = np.stack(
        [rng.uniform(-179, 179, 2000), rng.uniform(-89, 89, 2000), rng.uniform(-89, 89, 2000)], -1
    )
    back = matrix_to_angles(angles_to_matrix(*ang.T))
    np.testing.assert_allclose(back, ang, atol=1e-7)


def test_matrices_are_rotations():
    m = angles_to_matrix([10, 170], [20, -80], [30, 50])
    np.testing.assert_allclose(
        m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(m), 1.0)
    np.testing.assert_allclose(np.linalg.det(matrix_opencv(10, 20, 30)), 1.0)


def test_equivalent_representation_is_canonicalised():
    a = np.array([30.0, 20.0, 10.0])
    alt = wrap_degrees([180 - 30.0, 20 + 180.0, 10 + 180.0])
    np.testing.assert_allclose(angles_to_matrix(*a), angles_to_matrix(*alt), atol=1e-12)
    np.testing.assert_allclose(matrix_to_angles(angles_to_matrix(*alt)), a, atol=1e-9)


def test_gimbal_lock_is_finite_and_consistent():
    m = angles_to_matrix(90, 20, 10)
    out = matrix_to_angles(m)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(angles_to_matrix(*out), m, atol=1e-9)


def test_wrap():
    np.testing.assert_allclose(
        wrap_degrees([-180, 180, 190, -190, 540]), [180, 180, -170, 170, 180]
    )


def test_one_wrapping_rule_for_angles_and_differences():
    from hhpnet.convention import angle_difference
    from hhpnet.export import angle_difference as export_difference
    from hhpnet.video.smoothing import wrap180

    assert export_difference is angle_difference and wrap180 is wrap_degrees
    d = angle_difference(
        [180.0, -179.99999, 10.0, 0.0, np.nan], [-179.99999, 180.0, 350.0, 180.0, 0]
    )
    np.testing.assert_allclose(d[:4], [-1e-5, 1e-5, 20.0, 180.0], atol=1e-9)  # (−180, 180]
    assert np.isnan(d[4])
    np.testing.assert_array_equal(wrap_degrees([-180.0, 540.0, -540.0]), [180.0, 180.0, 180.0])
