"""Tracker: persistent ids, occlusions, entering/leaving, crossing paths, keypoint term."""

from __future__ import annotations

import numpy as np
import pytest

from hhpnet.video.tracking import Tracker, boxes_from_keypoints, iou_matrix

FPS = 30.0


def head(cx: float, cy: float, s: float = 40.0, turn: float = 0.0) -> np.ndarray:
    h = s / 2
    return np.array(
        [
            [cx + turn * h * 0.6, cy + 0.2 * h, 0.9],
            [cx + 0.4 * h, cy - 0.2 * h, 0.9],
            [cx - 0.4 * h, cy - 0.2 * h, 0.9],
            [cx + h, cy, 0.8],
            [cx - h, cy, 0.8],
        ],
        np.float32,
    )


def frame(centres: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    kp = np.stack([head(x, y) for x, y in centres]) if centres else np.zeros((0, 5, 3))
    boxes = np.array([[x - 25, y - 25, x + 25, y + 25] for x, y in centres]).reshape(-1, 4)
    return boxes, kp


def test_iou_matrix_values():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou_matrix(a, b)[0], [1.0, 50 / 150, 0.0])


def test_ids_persist_and_people_enter_and_leave():
    tr = Tracker(max_age=0.5)
    seen: dict[int, list[float]] = {}
    for k in range(60):
        centres = [(50 + 3 * k, 100)]
        if 20 <= k < 40:
            centres.append((400 - 2 * k, 300))  # a second person enters at 20, leaves at 40
        ids = tr.update(*frame(centres), k / FPS)
        assert len(set(ids.tolist())) == len(ids)
        for i, (x, _) in zip(ids.tolist(), centres, strict=True):
            seen.setdefault(i, []).append(x)
    assert sorted(seen) == [0, 1]
    assert len(seen[0]) == 60 and np.all(np.diff(seen[0]) > 0)
    assert len(seen[1]) == 20 and np.all(np.diff(seen[1]) < 0)
    # the second person has left for > max_age: the tracker ended it
    assert [t.id for t in tr.tracks] == [0]


def test_short_occlusion_keeps_id_long_one_does_not():
    tr = Tracker(max_age=0.5)
    for k in range(10):
        (i,) = tr.update(*frame([(100 + 5 * k, 100)]), k / FPS)
    assert i == 0
    # hidden for 10 frames (0.33 s) while moving on: same id (velocity prediction)
    for k in range(10, 20):
        assert len(tr.update(*frame([]), k / FPS)) == 0
    (i,) = tr.update(*frame([(100 + 5 * 20, 100)]), 20 / FPS)
    assert i == 0
    # hidden for 1 s > max_age: a new id
    for k in range(21, 51):
        tr.update(*frame([]), k / FPS)
    (i,) = tr.update(*frame([(100 + 5 * 51, 100)]), 51 / FPS)
    assert i == 1


def test_a_hidden_track_is_looked_for_where_its_velocity_takes_it():
    """Moving +10 px per frame (300 px/s) for 10 frames, then hidden for 9: at frame 19 the track
    is predicted 300 px/s × 10/30 s = 100 px further, at x = 290 — where it reappears. Someone
    else now stands where it was last seen (x = 190): that is a new person."""
    tr = Tracker()
    for k in range(10):
        assert tr.update(*frame([(100 + 10 * k, 100)]), k / FPS).tolist() == [0]
    np.testing.assert_allclose(tr.tracks[0].velocity, [300.0, 0.0, 300.0, 0.0])
    np.testing.assert_allclose(tr.tracks[0].predicted_box(19 / FPS, 1.0), [265, 75, 315, 125])
    for k in range(10, 19):
        tr.update(*frame([]), k / FPS)
    ids = tr.update(*frame([(190, 100), (290, 100)]), 19 / FPS)
    assert ids.tolist() == [1, 0]


def test_a_detection_too_far_from_every_track_is_a_new_person():
    """One person at (100, 100); next frame one person at (400, 300): no box overlap and a
    keypoint distance of 360 px / 70.7 px (the box diagonal) = 5.1 > 1: not the same person,
    even though the assignment pairs the only track with the only detection."""
    tr = Tracker()
    assert tr.update(*frame([(100, 100)]), 0.0).tolist() == [0]
    assert tr.update(*frame([(400, 300)]), 1 / FPS).tolist() == [1]


def test_crossing_paths_keep_their_ids():
    tr = Tracker()
    a_ids, b_ids = set(), set()
    for k in range(40):
        a = (100 + 5 * k, 200 - 0.5 * k)  # A goes right
        b = (300 - 5 * k, 170 + 0.5 * k)  # B goes left, crossing A around k = 20
        order = [a, b] if k % 2 else [b, a]  # detection order changes every frame
        ids = tr.update(*frame(order), k / FPS)
        ia, ib = (ids[0], ids[1]) if k % 2 else (ids[1], ids[0])
        a_ids.add(int(ia))
        b_ids.add(int(ib))
    assert a_ids == {0} or a_ids == {1}
    assert len(b_ids) == 1 and a_ids != b_ids


def test_missing_boxes_are_derived_from_keypoints():
    kp = head(100, 100)[None]
    boxes = boxes_from_keypoints(kp)
    assert boxes[0, 0] < 80 and boxes[0, 2] > 120
    tr = Tracker()
    i0 = tr.update(np.full((1, 4), np.nan), kp, 0.0)
    i1 = tr.update(np.full((1, 4), np.nan), head(103, 100)[None], 1 / FPS)
    assert i0.tolist() == i1.tolist() == [0]
    with pytest.raises(ValueError):
        tr.update(np.zeros((2, 4)), kp, 2 / FPS)


def test_seed_restores_ids():
    tr = Tracker()
    tr.seed(
        [4, 9], frame([(100, 100), (300, 100)])[0], frame([(100, 100), (300, 100)])[1], [1.0, 1.0]
    )
    ids = tr.update(*frame([(302, 100), (101, 100), (500, 400)]), 1.0 + 1 / FPS)
    assert ids.tolist() == [9, 4, 10]
