"""BlazeFace + MediaPipe face mesh (468 landmarks) + ``solvePnP`` of all 468 to the canonical face.

``face_landmark.tflite`` comes unchanged from the mediapipe 0.10.14 wheel (Apache-2.0; see
``benchmarks/models/NOTICE``) and runs on ai-edge-litert. Region of interest as MediaPipe builds
it: the detection box, rotated so that the eyes are level, enlarged 1.5×, square; the crop is
resampled to 192×192 RGB in [0, 1]. All faces of an image go through the mesh model in one batch.
Pose: SQPnP of the 468 landmarks to MediaPipe's canonical face mesh (the 3-D face the mesh model's
points are defined on), focal length = image width.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from alternatives import canonical_face, pnp_angles
from hhpnet.bench import Candidate

MODEL = Path(__file__).resolve().parents[1] / "models" / "face_landmark.tflite"
SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
SIZE = 192


class FaceMeshPnP:
    def __init__(self, threads: int = 2) -> None:
        from ai_edge_litert.interpreter import Interpreter

        from hhpnet.detectors import create_detector

        if hashlib.sha256(MODEL.read_bytes()).hexdigest() != SHA256:
            raise RuntimeError(f"{MODEL}: unexpected checksum")
        self.det = create_detector("blazeface", num_threads=threads)
        self.interp = Interpreter(model_path=str(MODEL), num_threads=threads)
        self.interp.allocate_tensors()
        self._in = self.interp.get_input_details()[0]["index"]
        self._out = [d["index"] for d in self.interp.get_output_details()]
        self._batch = 1
        self.face3d = canonical_face()

    def detect(self, rgb: Any) -> Any:
        return self.det(rgb)

    def crops(self, rgb: Any, dets: Any) -> tuple[np.ndarray, np.ndarray]:
        """(N, 192, 192, 3) float32 crops and (N, 2, 3) affine maps crop → image."""
        n = len(dets)
        batch = np.empty((n, SIZE, SIZE, 3), np.float32)
        back = np.empty((n, 2, 3))
        for i in range(n):
            x1, y1, x2, y2 = dets.boxes[i]
            kp = dets.keypoints[i]
            # eye on the image left (subject's right eye, index 2) → eye on the image right
            dx, dy = kp[1, 0] - kp[2, 0], kp[1, 1] - kp[2, 1]
            angle = math.atan2(dy, dx)
            side = 1.5 * max(x2 - x1, y2 - y1)
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            c, s = math.cos(angle), math.sin(angle)
            k = side / SIZE
            # crop pixel (u, v) → image: centre + R(angle) · k · (u − S/2, v − S/2)
            a = np.array([[c * k, -s * k, 0.0], [s * k, c * k, 0.0]])
            a[:, 2] = [cx, cy] - a[:, :2] @ [SIZE / 2, SIZE / 2]
            back[i] = a
            crop = cv2.warpAffine(
                rgb,
                a,
                (SIZE, SIZE),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
            )
            batch[i] = crop * np.float32(1.0 / 255.0)
        return batch, back

    def landmarks(self, rgb: Any, dets: Any) -> np.ndarray:
        """(N, 468, 2) image pixels of the face-mesh landmarks."""
        n = len(dets)
        if n == 0:
            return np.zeros((0, 468, 2))
        batch, back = self.crops(rgb, dets)
        if n != self._batch:
            self.interp.resize_tensor_input(self._in, [n, SIZE, SIZE, 3])
            self.interp.allocate_tensors()
            self._batch = n
        self.interp.set_tensor(self._in, batch)
        self.interp.invoke()
        mesh = self.interp.get_tensor(self._out[0]).reshape(n, 468, 3)[..., :2]
        return np.einsum("nij,nkj->nki", back[:, :, :2], mesh) + back[:, None, :, 2]

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
