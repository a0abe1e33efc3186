"""The fused "auto" detector: head matching, de-duplication, keypoint source, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from hhpnet.commands.demo import EXAMPLES_DIR
from hhpnet.detectors import create_detector
from hhpnet.detectors.base import Detections
from hhpnet.detectors.fused import FusedDetector, match_heads, overlapping_heads
from hhpnet.errors import InputError
from hhpnet.io import read_image
from tests.detectors.detector_images import compose, example_grid


@pytest.fixture(scope="module")
def auto() -> FusedDetector:
    det = create_detector("auto", num_threads=1)
    assert isinstance(det, FusedDetector)
    return det


def _head(cx: float, cy: float, s: float = 20.0) -> np.ndarray:
    return np.array(
        [[cx, cy + 0.3 * s], [cx + 0.4 * s, cy], [cx - 0.4 * s, cy], [cx + s, cy], [cx - s, cy]],
        np.float32,
    )


def _dets(centres: list[tuple[float, float]], score: float, name: str) -> Detections:
    kp = np.stack([np.concatenate([_head(*c), np.full((5, 1), 0.9)], 1) for c in centres])
    boxes = np.array([[x - 25, y - 25, x + 25, y + 25] for x, y in centres], np.float32)
    return Detections(boxes, kp, np.full(len(centres), score), name)


def test_match_heads_one_to_one_by_point_distance() -> None:
    faces = _dets([(100, 100), (300, 100)], 0.9, "blazeface")
    bodies = np.stack([_head(305, 104), _head(103, 98), _head(600, 100)])
    pairs = match_heads(faces.keypoints[..., :2], faces.boxes, bodies)
    assert sorted(pairs) == [(0, 1), (1, 0)]
    # a body between two faces matches at most one of them
    mid = np.stack([_head(112, 100)])
    assert match_heads(faces.keypoints[..., :2], faces.boxes, mid) == [(0, 0)]
    # too far for the threshold (half the 50 px face box)
    far = np.stack([_head(100 + 30, 100)])
    assert match_heads(faces.keypoints[..., :2], faces.boxes, far) == []
    assert match_heads(np.zeros((0, 5, 2)), np.zeros((0, 4)), far) == []


@pytest.mark.parametrize("prefer", ["blazeface", "movenet"])
def test_merge_keeps_one_person_per_head_with_the_preferred_points(
    auto: FusedDetector, prefer: str
) -> None:
    faces = _dets([(100, 100), (300, 100)], 0.9, "blazeface")
    bodies = _dets([(104, 102), (500, 300)], 0.4, "movenet")
    det = _with_prefer(auto, prefer).merge(faces, bodies, bodies.keypoints[..., :2])
    assert len(det) == 3
    names = det.detector.tolist()
    xs = det.keypoints[:, 0, 0]
    head_at_100 = int(np.argmin(np.abs(xs - 102)))
    assert names[head_at_100] == prefer
    assert sorted(names) == sorted([prefer, "blazeface", "movenet"])
    assert (np.diff(det.scores) <= 0).all()  # best first


def test_both_mode_keeps_movenet_points_and_attaches_blazeface_as_second_reading(
    auto: FusedDetector,
) -> None:
    faces = _dets([(100, 100), (300, 100)], 0.9, "blazeface")
    bodies = _dets([(104, 102), (500, 300)], 0.4, "movenet")
    det = _with_prefer(auto, "both").merge(faces, bodies, bodies.keypoints[..., :2])
    assert len(det) == 3 and det.alt_keypoints is not None
    names = det.detector.tolist()
    both = names.index("blazeface+movenet")
    np.testing.assert_array_equal(det.keypoints[both], bodies.keypoints[0])
    np.testing.assert_array_equal(det.alt_keypoints[both], faces.keypoints[0])
    # people seen by one detector only have no second reading
    others = [i for i in range(3) if i != both]
    assert (det.alt_keypoints[others] == 0).all()
    assert sorted(names[i] for i in others) == ["blazeface", "movenet"]


def _with_prefer(auto: FusedDetector, prefer: str) -> FusedDetector:
    other = FusedDetector.__new__(FusedDetector)
    other.__dict__.update(auto.__dict__)
    other.prefer = prefer
    return other


def test_a_face_inside_a_disagreeing_movenet_head_is_the_same_head(auto: FusedDetector) -> None:
    # BlazeFace "face" on the right half of a head whose MoveNet points sit elsewhere in it
    faces = _dets([(118, 100)], 0.7, "blazeface")
    faces.boxes[:] = [[103, 85, 133, 115]]
    faces.keypoints[0, :, :2] = _head(125, 98, 6.0)
    bodies = _dets([(100, 100)], 0.6, "movenet")
    pts = bodies.keypoints[..., :2]
    assert match_heads(faces.keypoints[..., :2], faces.boxes, pts) == []
    from hhpnet.detectors.movenet import head_boxes

    assert overlapping_heads(faces.boxes, head_boxes(pts), []) == [(0, 0)]
    assert overlapping_heads(faces.boxes, head_boxes(pts), [(0, 0)]) == []
    det = auto.merge(faces, bodies, pts)
    assert det.detector.tolist() == ["movenet"]
    # far apart: two people
    faces.boxes[:] += 300
    assert len(auto.merge(faces, bodies, pts)) == 2


def test_examples_every_person_once(auto: FusedDetector, blazeface) -> None:  # type: ignore[no-untyped-def]
    movenet = auto.body
    for name in ("astronaut.jpg", "camera.jpg", "grace_hopper.jpg", "pair_640x480.jpg"):
        img = read_image(EXAMPLES_DIR / name)
        det = auto(img)
        expected = 2 if name.startswith("pair") else 1
        assert len(det) == expected, name
        assert len(blazeface(img)) == len(movenet(img)) == expected
        # both saw them: MoveNet's points, BlazeFace's as the second reading
        assert set(det.detector.tolist()) == {"blazeface+movenet"}
        assert det.alt_keypoints is not None and (det.alt_keypoints[..., 2] > 0).all()


def test_union_of_both_detectors_without_duplicates(auto: FusedDetector, blazeface) -> None:  # type: ignore[no-untyped-def]
    img = example_grid()
    faces, bodies = blazeface(img), auto.body(img)
    det = auto(img)
    # the mirrored profile (bottom right) is found by MoveNet only; BlazeFace finds 4
    assert len(faces) == 4 and len(bodies) == 3
    assert len(det) == 5 and det.detector.tolist().count("movenet") == 1
    centres = np.nanmean(np.where(det.keypoints[..., 2:] > 0, det.keypoints[..., :2], np.nan), 1)
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1) + np.eye(len(det)) * 1e9
    assert gaps.min() > 60  # no head twice
    for n in (3, 4, 6):
        img = compose(n)
        f, b, d = blazeface(img), auto.body(img), auto(img)
        assert max(len(f), len(b)) <= len(d) <= n


def test_shared_fused_instance_is_thread_safe(auto: FusedDetector, astro) -> None:  # type: ignore[no-untyped-def]
    images = [astro, example_grid()]
    expected = [auto(img).keypoints for img in images]
    errors: list[str] = []

    def work(t: int) -> None:
        for r in range(3):
            i = (t + r) % 2
            if not np.array_equal(auto(images[i]).keypoints, expected[i]):
                errors.append(f"thread {t} round {r}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_bad_options() -> None:
    with pytest.raises(InputError, match="prefer"):
        create_detector("auto", prefer="all")
    with pytest.raises(InputError, match="match_threshold"):
        create_detector("auto", match_threshold=0)
    with pytest.raises(InputError, match="auto"):
        create_detector("auto", face={"not_an_option": 1})
    with pytest.raises(InputError, match="keypoint_threshold"):
        create_detector("auto", body={"keypoint_threshold": 2.0})
