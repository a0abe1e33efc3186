"""hhpnet.boxes: the one IoU and the two documented box-from-keypoints rules."""

import numpy as np

from hhpnet.boxes import box_iou, padded_boxes, square_boxes
from hhpnet.detectors.base import box_iou as detector_iou
from hhpnet.detectors.blazepose import head_boxes as blazepose_boxes
from hhpnet.detectors.movenet import head_boxes as movenet_boxes
from hhpnet.video.tracking import boxes_from_keypoints, iou_matrix


def test_one_iou_in_either_precision():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [np.nan, 0, 1, 1]])
    for dtype in (np.float32, np.float64):
        iou = box_iou(a, b, dtype)
        assert iou.dtype == dtype
        np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0, 0.0], rtol=1e-6)
    assert detector_iou is box_iou
    np.testing.assert_array_equal(iou_matrix(a, b), box_iou(a, b, np.float64))


def test_square_boxes_rule_is_shared_and_uses_only_present_points():
    assert movenet_boxes is square_boxes and blazepose_boxes is square_boxes
    pts = np.array([[[0.0, 0.0], [30.0, 40.0], [1e6, 1e6]]])
    # all points: side 1.2 × the largest distance, centred on the bounding box
    np.testing.assert_allclose(square_boxes(pts[:, :2]), [[-15.0, -10.0, 45.0, 50.0]])
    got = square_boxes(pts, present=[[True, True, False]])
    np.testing.assert_allclose(got, [[-15.0, -10.0, 45.0, 50.0]])
    one = square_boxes(pts, present=[[True, False, False]], min_span=8.0)
    np.testing.assert_allclose(one, [[-4.8, -4.8, 4.8, 4.8]], rtol=1e-6)
    assert np.isnan(square_boxes(pts, present=[[False] * 3])).all()
    assert square_boxes(np.zeros((0, 5, 2))).shape == (0, 4)


def test_tracker_and_pipeline_rules():
    kp = np.zeros((2, 5, 3), np.float32)
    kp[0, :2] = [[100, 100, 1], [140, 130, 1]]  # two points 50 px apart
    np.testing.assert_allclose(boxes_from_keypoints(kp)[0], [90, 85, 150, 145])
    assert np.isnan(boxes_from_keypoints(kp)[1]).all()
    # the Poses box: bounding box of the points ± a quarter of the head size (50 px)
    np.testing.assert_allclose(padded_boxes(kp)[0], [87.5, 87.5, 152.5, 142.5])
    assert np.isnan(padded_boxes(kp)[1]).all()
