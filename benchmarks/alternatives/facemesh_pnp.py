"""BlazeFace + MediaPipe face mesh (468 landmarks) + ``solvePnP`` of all 468 to the canonical face.

The face mesh is the package's :class:`hhpnet.detectors.facemesh.FaceMesh` (``face_landmark.tflite``
unchanged from the mediapipe 0.10.14 wheel, Apache-2.0, in ``src/hhpnet/detectors/models`` with
its NOTICE and checksum) on ai-edge-litert. Region of interest as MediaPipe builds it: the
detection box, rotated so that the eyes are level, enlarged 1.5×, square; the crop is resampled to
192×192 RGB in [0, 1]. All faces of an image go through the mesh model in one batch.
Pose: SQPnP of the 468 landmarks to MediaPipe's canonical face mesh (the 3-D face the mesh model's
points are defined on), focal length = image width.

This pipeline read the face-mesh landmarks of ``aflw2000-dev-landmarks.npz`` (before the model
moved into the package; the package class reproduces its landmarks to float32 precision).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alternatives import canonical_face, pnp_angles
from hhpnet.bench import Candidate


class FaceMeshPnP:
    def __init__(self, threads: int = 2) -> None:
        from hhpnet.detectors import create_detector
        from hhpnet.detectors.facemesh import FaceMesh

        self.det = create_detector("blazeface", num_threads=threads)
        self.mesh = FaceMesh(num_threads=threads)
        self.face3d = canonical_face()

    def detect(self, rgb: Any) -> Any:
        return self.det(rgb)

    def landmarks(self, rgb: Any, dets: Any) -> np.ndarray:
        """(N, 468, 2) image pixels of the face-mesh landmarks."""
        return self.mesh.from_detections(rgb, dets).landmarks[..., :2].astype(np.float64)

    def pose(self, pts: np.ndarray, rgb: Any) -> np.ndarray:
        return pnp_angles(pts, self.face3d, rgb.shape[1], rgb.shape[0])

    def __call__(self, rgb: Any) -> np.ndarray:
        return self.pose(self.landmarks(rgb, self.detect(rgb)), rgb)


def make(threads: int = 2) -> Candidate:
    alt = FaceMeshPnP(threads)

    def analyze(rgb: Any) -> int:
        return int(np.isfinite(alt(rgb)).all(axis=1).sum())

    def stages(rgb: Any) -> dict[str, Any]:
        dets = alt.detect(rgb)
        pts = alt.landmarks(rgb, dets)
        return {
            "detect (BlazeFace)": lambda: alt.detect(rgb),
            "crop + face mesh": lambda: alt.landmarks(rgb, dets),
            "solvePnP": lambda: alt.pose(pts, rgb),
        }

    return Candidate(
        "BlazeFace + face mesh + solvePnP", analyze, stages, note="SQPnP of 468 landmarks"
    )
