import numpy as np
import pytest

from hhpnet.errors import HhpnetError
from hhpnet.keypoints import (
    InvalidKeypointsError,
    blazeface_confidence,
    flip_keypoints,
    normalize,
    validate_keypoints,
)

FACE = np.array(
    [[100, 120, 0.9], [115, 105, 0.9], [85, 105, 0.9], [135, 112, 0.8], [65, 112, 0.8]], np.float32
)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((5, 2)),
        np.zeros((2, 4, 3)),
        np.zeros((1, 5, 3, 1)),
        np.array(["a"] * 15).reshape(5, 3),
    ],
)
def test_malformed_arrays_raise_one_line_errors(bad):
    with pytest.raises(InvalidKeypointsError) as info:
        validate_keypoints(bad)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, HhpnetError)


def test_bad_values_raise():
    kp = FACE.copy()
    kp[0, 2] = -0.5
    with pytest.raises(InvalidKeypointsError, match=r"\[0, 1\]"):
        validate_keypoints(kp)
    kp = FACE.copy()
    kp[1, 0] = np.inf
    with pytest.raises(InvalidKeypointsError, match="non-finite"):
        validate_keypoints(kp)


def test_missing_points_are_zeroed_whatever_their_coordinates():
    kp = FACE.copy()
    kp[3] = [np.nan, np.nan, 0.0]
    kp[4] = [7.0, 9.0, np.nan]
    out = validate_keypoints(kp)
    assert out.shape == (1, 5, 3)
    np.testing.assert_array_equal(out[0, 3:], 0.0)


def test_normalize_matches_method():
    x, valid = normalize(validate_keypoints(FACE))
    assert valid.tolist() == [True]
    tri = x.reshape(5, 3)
    assert np.isclose(np.abs(tri[:, 0]).max(), 1.0) and np.isclose(np.abs(tri[:, 1]).max(), 1.0)
    cx = FACE[:, 0].mean()
    np.testing.assert_allclose(tri[0, 0], (100 - cx) / np.abs(FACE[:, 0] - cx).max(), rtol=1e-6)
    np.testing.assert_allclose(tri[:, 2], FACE[:, 2])


def test_normalize_is_translation_and_scale_invariant():
    a, _ = normalize(validate_keypoints(FACE))
    moved = FACE.copy()
    moved[:, :2] = moved[:, :2] * 3.5 + [400, -20]
    b, _ = normalize(validate_keypoints(moved))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_too_few_points_is_invalid_not_an_error():
    kp = np.stack([FACE, FACE, FACE])
    kp[0, 1:, 2] = 0  # one point
    kp[1, :, 2] = 0  # none
    x, valid = normalize(validate_keypoints(kp))
    assert valid.tolist() == [False, False, True]
    np.testing.assert_array_equal(x[:2], 0)


def test_flip_swaps_sides():
    f = flip_keypoints(FACE[None], width=200)[0]
    np.testing.assert_allclose(f[1, 0], 199 - FACE[2, 0])
    np.testing.assert_allclose(f[3, 2], FACE[4, 2])


def test_blazeface_confidence_lowers_far_side_on_profiles():
    frontal = blazeface_confidence(FACE[None, :, :2], np.array([0.9]))[0]
    np.testing.assert_allclose(frontal, 0.9, rtol=1e-6)
    # nose pushed towards the left ear: the left (far) side loses confidence
    prof = FACE.copy()
    prof[0, 0] = 132
    prof[1, 0] = 128
    c = blazeface_confidence(prof[None, :, :2], np.array([0.9]))[0]
    assert c[3] < 0.5 and c[1] < 0.9 and c[4] == pytest.approx(0.9) and c[2] == pytest.approx(0.9)
    mirrored = blazeface_confidence(flip_keypoints(prof[None], 200)[..., :2], np.array([0.9]))[0]
    np.testing.assert_allclose(mirrored, c[[0, 2, 1, 4, 3]], rtol=1e-5)


def test_head_size_ignores_missing_points():
    from hhpnet.keypoints import head_size

    kp = np.stack([FACE, FACE])
    kp[1, 3:, 2] = 0
    kp[1, 3:, :2] = 1e6  # garbage under missing points must not count
    s = head_size(validate_keypoints(kp))
    assert s[0] == pytest.approx(70.0, rel=1e-4)  # ear to ear
    assert 0 < s[1] < 40


def test_implausible_points_are_dropped_not_used():
    from hhpnet.keypoints import drop_implausible_points

    face = np.array(
        [[320, 240, 0.9], [340, 225, 0.9], [300, 225, 0.9], [365, 235, 0.8], [275, 235, 0.8]],
        np.float32,
    )
    people = np.stack([face, face, face, face])
    people[1, 3, 0] = 1e6  # absurd ear: far outside the frame and far from the face
    people[2, 0, :2] = (-5.0, 250.0)  # a few pixels outside the frame: kept
    people[3, :, 0] -= 400  # a whole face 80 px left of a 640 px frame: kept (margin 160 px)
    kp, dropped = drop_implausible_points(validate_keypoints(people), (640, 480))
    assert dropped.tolist() == [0, 1, 0, 0]
    assert kp[1, 3].tolist() == [0.0, 0.0, 0.0]
    assert np.array_equal(kp[[0, 2, 3]], validate_keypoints(people)[[0, 2, 3]])
    # without an image size only absurd distances count
    _, dropped2 = drop_implausible_points(validate_keypoints(people), None)
    assert dropped2.tolist() == [0, 1, 0, 0]
    far = face.copy()
    far[:, 0] -= 2000  # outside a 640 px frame by more than the margin: all points dropped
    _, d3 = drop_implausible_points(validate_keypoints(far[None]), (640, 480))
    assert d3.tolist() == [5]
