"""A detection cadence for videos (``hhpnet video --body-every K``, off by default).

The default detector ``auto`` runs BlazeFace and MoveNet on every frame, and MoveNet is about
four fifths of its time. :class:`BodyCadence` runs BlazeFace on every frame and MoveNet only on
every K-th frame and whenever the scene changes (a cut); in the frames between, the people
MoveNet found on its last frame are merged again with the fresh faces, with the same fusion
rules (a MoveNet head within half a face box side of a face is the same head). Heads that only
MoveNet sees (profiles, backs) therefore keep their last MoveNet reading for up to K − 1 frames
(the tracker and the smoother take them as measured again), and heads both detectors see use
MoveNet's points of that frame with BlazeFace's fresh ones. That changes the per-frame readings,
so it is an option, not the default: docs/video.md, "Detection cadence", has what it changed on
our test clips.

One instance belongs to one video (it keeps the last MoveNet people); the detector it wraps may
be shared.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet.detectors.base import Detections, Detector, check_image
from hhpnet.detectors.fused import FusedDetector
from hhpnet.detectors.movenet import COCO_HEAD, MoveNetPeople
from hhpnet.errors import InputError

__all__ = ["SCENE_CHANGE", "BodyCadence", "with_body_cadence"]

#: a frame whose 32×18 grey thumbnail differs from that of MoveNet's last frame by more than
#: this mean absolute difference (grey levels) is a new scene: MoveNet runs on it
SCENE_CHANGE = 12.0
_THUMB = (32, 18)


def _thumbnail(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(grey, _THUMB, interpolation=cv2.INTER_AREA), np.float32)


class BodyCadence(Detector):
    """``auto`` with MoveNet on every ``every``-th frame and on scene changes (see the module
    docstring); ``scene_change``: the thumbnail difference that counts as a cut."""

    name = "auto"

    def __init__(
        self, fused: FusedDetector, every: int, scene_change: float = SCENE_CHANGE
    ) -> None:
        if int(every) != every or every < 1:
            raise InputError(f"body_every must be an integer ≥ 1; got {every!r}")
        self.fused = fused
        self.every = int(every)
        self.scene_change = float(scene_change)
        self._people: MoveNetPeople | None = None
        self._thumb: NDArray[np.float32] | None = None
        self._age = 0
        self.body_runs = 0  # frames on which MoveNet ran

    def __repr__(self) -> str:
        return f"BodyCadence(every={self.every}, fused={self.fused!r})"

    def _body_due(self, image: NDArray[np.uint8]) -> tuple[bool, NDArray[np.float32] | None]:
        if self.every == 1 or self._people is None or self._age + 1 >= self.every:
            return True, None
        thumb = _thumbnail(image)
        if self._thumb is None or thumb.shape != self._thumb.shape:
            return True, thumb
        return float(np.abs(thumb - self._thumb).mean()) > self.scene_change, thumb

    def __call__(self, image: NDArray[np.uint8]) -> Detections:
        image = check_image(image)
        due, thumb = self._body_due(image)
        body = self.fused.body
        people = self._people
        if due or people is None:
            people = self._people = body.detect_coco(image)
            self._thumb = thumb if thumb is not None else _thumbnail(image)
            self._age = 0
            self.body_runs += 1
        else:
            self._age += 1
        faces = self.fused.face(image)
        bodies = body.to_detections(people)
        raw = people.keypoints[body.kept(people)][:, COCO_HEAD, :2]
        return self.fused.merge(faces, bodies, raw)


def with_body_cadence(estimator: Any, every: int) -> Any:
    """``estimator`` for one video with :class:`BodyCadence` (a shallow copy sharing the model
    and the detectors); unchanged when ``every`` is 1 or its detector is not ``auto``."""
    import copy

    if every == 1:
        return estimator
    det = getattr(estimator, "detector", None)
    if not isinstance(det, FusedDetector):
        raise InputError("--body-every applies to the 'auto' detector only")
    out = copy.copy(estimator)
    out._detector = BodyCadence(det, every)
    return out
