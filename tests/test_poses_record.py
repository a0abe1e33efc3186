"""Tests for the one pose record: Poses along the path (detections are poses whose angles are
not known yet, track ids a column) and its column schema (hhpnet.columns)."""

from __future__ import annotations

import numpy as np
import pytest

from hhpnet.columns import CSV_COLUMNS, POSE_COLUMNS, VIDEO_COLUMNS
from hhpnet.errors import InputError
from hhpnet.keypoints import head_size
from hhpnet.poses import POSE_FIELDS, Detections, HeadKeypoints, Poses, centroids
from hhpnet.video.processor import FrameResult, VideoProcessor
from hhpnet.video.sinks import CsvSink, read_csv_rows
from tests.helpers.fakes import face


def _people() -> tuple[np.ndarray, np.ndarray]:
    kp = np.stack([face(60, 50), face(200, 80, 60)]).astype(np.float32)
    boxes = np.array([[30, 20, 90, 80], [150, 30, 250, 130]], np.float32)
    return kp, boxes


def test_a_detection_is_a_pose_not_known_yet() -> None:
    kp, boxes = _people()
    dets = Detections(boxes, kp, [0.9, 0.8], "movenet")
    assert isinstance(dets, Poses)
    assert np.isnan(dets.yaw).all() and np.isnan(dets.roll).all()
    assert np.isinf(dets.sigma).all() and dets.sigma.shape == (2, 3)
    assert dets.valid.tolist() == [False, False] and dets.ambiguous.tolist() == [False, False]
    assert dets.track_id.tolist() == [-1, -1]
    np.testing.assert_array_equal(dets.centroid, centroids(kp))
    np.testing.assert_array_equal(dets.head_size, head_size(kp))
    one = dets[1]  # selection keeps the detection's own columns
    assert isinstance(one, Detections) and one.detector.tolist() == ["movenet"]
    assert one.to_dict()["people"][0]["yaw"] is None
    with pytest.raises(AttributeError, match="no attribute 'sigma_yaw'"):
        dets.sigma_yaw  # noqa: B018 - only the pose fields are made on demand


def test_poses_fill_the_fields_left_out_and_check_the_given_ones() -> None:
    kp, boxes = _people()
    p = Poses(boxes=boxes, scores=np.ones(2, np.float32), keypoints=kp, yaw=np.ones(2, np.float32))
    assert p.yaw.tolist() == [1.0, 1.0] and np.isnan(p.pitch).all()
    assert set(POSE_FIELDS) >= {"yaw", "sigma", "valid", "centroid", "track_id"}
    with pytest.raises(ValueError, match="track_id has 3 rows, expected 2"):
        Poses(boxes=boxes, scores=np.ones(2), keypoints=kp, track_id=np.zeros(3, np.int64))


def test_columns_round_trip_and_schema() -> None:
    kp, boxes = _people()
    p = Poses(
        boxes=boxes,
        scores=np.array([0.5, 0.25], np.float32),
        keypoints=kp,
        yaw=np.array([10.0, np.nan], np.float32),
        pitch=np.array([-5.0, np.nan], np.float32),
        roll=np.array([2.0, np.nan], np.float32),
        sigma=np.array([[3, 4, 5], [np.inf] * 3], np.float32),
        valid=np.array([True, False]),
        detector=["blazeface", "movenet,x"],
        ambiguous=[False, True],
        track_id=np.array([4, -1], np.int64),
    )
    cols = p.to_columns()
    assert tuple(cols) == POSE_COLUMNS
    assert cols["detector"].tolist() == ["blazeface", "movenet;x"]  # a CSV-safe text cell
    assert cols["track_id"].tolist() == [4, -1] and cols["ambiguous"].tolist() == [0, 1]
    back = Poses.from_columns(cols, np.array([1, 0]), (640, 480))
    assert back.image_size == (640, 480) and back.valid.tolist() == [False, True]
    np.testing.assert_array_equal(back.keypoints, kp[[1, 0]])
    np.testing.assert_array_equal(back.sigma, p.sigma[[1, 0]])
    assert back.track_id.tolist() == [-1, -1]  # a run assigns its own ids
    # one schema: the video table = frame, time, the pose columns and the smoothed angles
    assert set(VIDEO_COLUMNS) == {"frame", "time_s", *POSE_COLUMNS} | {
        c for c in VIDEO_COLUMNS if "smooth" in c
    }
    # the image table names the same quantities the same way
    assert set(POSE_COLUMNS) - set(CSV_COLUMNS) == {"track_id"}


def test_a_frame_holds_poses_with_their_track_ids(tmp_path) -> None:
    kp, boxes = _people()
    p = Poses(boxes=boxes, scores=np.ones(2, np.float32), keypoints=kp, image_size=(320, 240))
    proc = VideoProcessor(estimator=lambda image: p, interact=False)
    first = proc.process_poses(0, 0.0, p)
    second = proc.process_poses(1, 0.04, p)
    assert isinstance(first, FrameResult) and isinstance(first.poses, Poses)
    assert first.track_ids.tolist() == [0, 1] == second.poses.track_id.tolist()
    assert p.track_id.tolist() == [-1, -1]  # the caller's record is not changed
    path = tmp_path / "v.csv"
    with CsvSink(str(path)) as sink:
        sink.write(second.columns())
    rows = read_csv_rows(path)
    assert path.read_text().splitlines()[0] == ",".join(VIDEO_COLUMNS)
    assert rows["track_id"].tolist() == [0, 1] and rows["frame"].tolist() == [1, 1]
    assert [person["track_id"] for person in second.record()["people"]] == [0, 1]


def test_foreign_keypoints_are_detections_with_boxes_and_scores_maybe_missing() -> None:
    from hhpnet.adapters import convert
    from hhpnet.boxes import padded_boxes
    from hhpnet.pipeline import HeadPoseEstimator
    from tests.helpers.fakes import GeometricModel

    kp, boxes = _people()
    bare = convert(kp, "hhpnet5", image_size=(320, 240))
    assert isinstance(bare, Detections) and isinstance(bare, Poses)
    assert not bare.boxes_given and not bare.scores_given and np.isnan(bare.boxes).all()
    given = HeadKeypoints(kp, boxes, [0.7, 0.6], (320, 240), "a.jpg")
    assert given.boxes_given and given.scores_given and given.source == "a.jpg"
    assert not HeadKeypoints(kp, boxes[:1]).boxes_given  # a wrong count counts as none
    with pytest.raises(InputError, match="boxes: not a numeric array of 4 column"):
        HeadKeypoints(kp, [1.0, 2.0, 3.0])
    est = HeadPoseEstimator(model=GeometricModel(), detector=None)
    np.testing.assert_array_equal(est.from_keypoints(bare).boxes, padded_boxes(kp))
    out = est.from_keypoints(given)
    np.testing.assert_array_equal(out.boxes, boxes)
    assert out.scores.tolist() == pytest.approx([0.7, 0.6]) and out.source == "a.jpg"


def test_a_model_reading_goes_into_the_record_and_comes_back_as_its_view() -> None:
    from hhpnet.model import PoseOutput, load_model

    kp, boxes = _people()
    dets = Detections(boxes, kp, [0.9, 0.8], "movenet")
    reading = load_model().predict(kp)
    assert isinstance(reading, PoseOutput) and reading.valid.all()
    reading.valid[1] = False  # a row the model could not read
    poses = dets.with_pose(reading)
    assert type(poses) is Poses and poses.detector.tolist() == ["movenet", "movenet"]
    np.testing.assert_array_equal(poses.keypoints, kp)  # the detection's columns kept
    np.testing.assert_array_equal(poses.boxes, boxes)
    assert poses.yaw[0] == reading.yaw[0] and (poses.sigma[0] == reading.sigma[0]).all()
    assert np.isnan(poses.angles[1]).all() and np.isinf(poses.sigma[1]).all()
    assert np.isnan(dets.yaw).all()  # the detection itself is left alone
    view = poses.pose
    assert isinstance(view, PoseOutput) and len(view) == 2
    assert view.yaw is poses.yaw and view.sigma is poses.sigma  # shares the arrays
    with pytest.raises(InputError, match="the reading has 1 rows, the poses 2"):
        dets.with_pose(PoseOutput.of(np.zeros((1, 3)), np.ones((1, 3)), np.ones(1, bool)))
