"""The synthetic inputs of hhpnet.samples that tests and benchmarks share."""

from __future__ import annotations

import numpy as np

from hhpnet.detectors import create_detector
from hhpnet.samples import face_crops


def test_face_crops_are_faces_and_their_mirrors():
    crops = face_crops(128)
    plain = face_crops(128, mirrored=False)
    assert len(crops) == 4 and len(plain) == 2
    for k, crop in enumerate(plain):
        assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
        np.testing.assert_array_equal(crops[2 * k], crop)
        np.testing.assert_array_equal(crops[2 * k + 1], crop[:, ::-1])
    det = create_detector("blazeface")
    for crop in crops:  # BGR → RGB: a face fills the centre of each crop
        d = det(np.ascontiguousarray(crop[..., ::-1]))
        assert len(d) >= 1
        x1, y1, x2, y2 = d.boxes[int(np.argmax(d.scores))]
        assert abs((x1 + x2) / 2 - 64) < 20 and abs((y1 + y2) / 2 - 64) < 20
