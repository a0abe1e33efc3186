"""A detection cadence for videos (``hhpnet video --body-every K``).

The default detector ``auto`` runs BlazeFace and MoveNet on every frame, and MoveNet is most of
its time. :class:`BodyCadence` runs BlazeFace on every frame and MoveNet on every K-th frame
(counted from the first frame processed) and whenever its last people can no longer be
trusted; in the frames between, MoveNet's last people are carried forward and merged again
with the fresh faces, with the same fusion rules (a MoveNet head within half a face box side
of a face is the same head).

Carried forward means **moved with the image**: the pyramidal Lucas–Kanade optical flow of
each person's five head points from the previous frame to this one (on a grey copy at most
640 px wide) shifts all its keypoints and its box by the median displacement. MoveNet runs
again at once when

* the scene changes (a cut: the 32×18 grey thumbnail differs from that of MoveNet's last frame
  by more than :data:`SCENE_CHANGE` grey levels on average),
* the flow of a person's head is lost (fewer than 3 of its points tracked),
* BlazeFace sees more faces that no MoveNet person explains than on MoveNet's last frame (a
  new person), or fewer faces matched to MoveNet people (a face turned away or hidden).

So heads that only MoveNet sees (profiles, backs) keep their last MoveNet pose for up to K − 1
frames but follow the motion, and heads both detectors see use fresh BlazeFace points with
MoveNet's moved ones. docs/video.md ("Detection cadence") has what this does to interaction
timelines; ``--body-every 2`` keeps the 720p benchmark clip's timeline within the spread that
±1 grey level of noise gives without a cadence.

The schedule depends only on the frames, so ``--resume`` can rebuild the state of an
uninterrupted run (:meth:`BodyCadence.restore`: the frames since the last K-th frame are run
again). One instance belongs to one video; the detector it wraps may be shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet.detectors.base import Detections, Detector, check_image
from hhpnet.detectors.fused import FusedDetector, match_heads, overlapping_heads
from hhpnet.detectors.movenet import COCO_HEAD, MoveNetPeople, head_boxes
from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.protocols import Estimator

_E = TypeVar("_E", bound="Estimator")

__all__ = ["SCENE_CHANGE", "BodyCadence", "with_body_cadence"]

#: a frame whose 32×18 grey thumbnail differs from that of MoveNet's last frame by more than
#: this mean absolute difference (grey levels) is a new scene: MoveNet runs on it
SCENE_CHANGE = 12.0
_THUMB = (32, 18)
#: the optical flow runs on a grey copy at most this wide
FLOW_WIDTH = 640
#: a person's flow is lost when fewer of its head points are tracked
MIN_TRACKED = 3
_LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)


def _grey(image: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], float]:
    """A grey copy at most :data:`FLOW_WIDTH` wide and its scale (copy px per image px)."""
    grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), np.uint8)
    h, w = grey.shape
    if w <= FLOW_WIDTH:
        return grey, 1.0
    s = FLOW_WIDTH / w
    small = cv2.resize(grey, (FLOW_WIDTH, max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.asarray(small, np.uint8), s


def _thumbnail(grey: NDArray[np.uint8]) -> NDArray[np.float32]:
    return np.asarray(cv2.resize(grey, _THUMB, interpolation=cv2.INTER_AREA), np.float32)


def _shift(people: MoveNetPeople, moves: NDArray[np.float32]) -> MoveNetPeople:
    """``people`` with each person's keypoints and body box moved by ``moves`` (N, 2)."""
    kp = people.keypoints.copy()
    kp[..., :2] += moves[:, None, :]
    boxes = people.body_boxes + np.tile(moves, (1, 2))
    return MoveNetPeople(kp, boxes.astype(np.float32), people.scores, people.view)


class BodyCadence(Detector):
    """``auto`` with MoveNet on every ``every``-th frame and when needed (see the module
    docstring); ``scene_change``: the thumbnail difference that counts as a cut; ``track``:
    move the carried people with the optical flow (else they stay where MoveNet saw them)."""

    name = "auto"

    def __init__(
        self,
        fused: FusedDetector,
        every: int,
        scene_change: float = SCENE_CHANGE,
        track: bool = True,
    ) -> None:
        if int(every) != every or every < 1:
            raise InputError(f"body_every must be an integer ≥ 1; got {every!r}")
        self.fused = fused
        self.every = int(every)
        self.scene_change = float(scene_change)
        self.track = bool(track)
        self.body_runs = 0  # frames on which MoveNet ran
        self.forced = 0  # of which off the K-th frame schedule (cut, lost flow, faces)
        self._reset(0)

    def _reset(self, position: int) -> None:
        self.position = position  # frames seen so far
        self._people: MoveNetPeople | None = None
        self._thumb: NDArray[np.float32] | None = None
        self._prev: tuple[NDArray[np.uint8], float] | None = None
        self._counts = (0, 0)  # (faces matched to MoveNet people, faces unexplained)

    def __repr__(self) -> str:
        return f"BodyCadence(every={self.every}, fused={self.fused!r})"

    def _face_counts(self, faces: Detections, people: MoveNetPeople) -> tuple[int, int]:
        """(faces matched to a kept MoveNet person, faces no MoveNet person explains)."""
        body = self.fused.body
        raw = people.keypoints[body.kept(people)][:, COCO_HEAD, :2]
        pairs = match_heads(faces.keypoints[..., :2], faces.boxes, raw, self.fused.match_threshold)
        same = overlapping_heads(faces.boxes, head_boxes(raw), pairs)
        return len(pairs), len(faces) - len(pairs) - len(same)

    def _flow(
        self, grey: tuple[NDArray[np.uint8], float], people: MoveNetPeople
    ) -> MoveNetPeople | None:
        """``people`` moved by the head points' flow from the previous frame, or None when a
        person's flow is lost."""
        if len(people) == 0:
            return people
        if self._prev is None or self._prev[0].shape != grey[0].shape:
            return None
        s = grey[1]
        pts = (people.keypoints[:, COCO_HEAD, :2] * s).reshape(-1, 1, 2).astype(np.float32)
        new, status, _ = cv2.calcOpticalFlowPyrLK(
            self._prev[0], grey[0], pts, None, winSize=(21, 21), maxLevel=3, criteria=_LK_CRITERIA
        )
        d = ((new - pts).reshape(len(people), -1, 2)) / s
        ok = status.reshape(len(people), -1).astype(bool)
        if (ok.sum(axis=1) < MIN_TRACKED).any():
            return None
        moves = np.array([np.median(d[i][ok[i]], axis=0) for i in range(len(people))])
        return _shift(people, moves.astype(np.float32))

    def __call__(self, image: NDArray[np.uint8]) -> Detections:
        image = check_image(image)
        grey = _grey(image)
        faces = self.fused.face(image)
        body = self.fused.body
        people = self._people
        thumb = _thumbnail(grey[0])
        if self.position % self.every == 0:
            people = None
        elif people is not None:
            last = self._thumb
            cut = last is None or thumb.shape != last.shape
            if last is not None and not cut:
                cut = float(np.abs(thumb - last).mean()) > self.scene_change
            people = None if cut else (self._flow(grey, people) if self.track else people)
            if people is not None and self._face_counts(faces, people) != self._counts:
                people = None
            if people is None:
                self.forced += 1
        if people is None:
            people = body.detect_coco(image)
            self._thumb = thumb
            self._counts = self._face_counts(faces, people)
            self.body_runs += 1
        self._people = people
        self._prev = grey
        self.position += 1
        bodies = body.to_detections(people)
        raw = people.keypoints[body.kept(people)][:, COCO_HEAD, :2]
        return self.fused.merge(faces, bodies, raw)

    def restore(self, count: int, recent: Sequence[NDArray[np.uint8]]) -> None:
        """Put the cadence in the state of an uninterrupted run that has seen ``count`` frames,
        the last of which are ``recent`` (RGB, at least ``count % every`` of them): the frames
        since the last K-th frame are run again (``--resume``)."""
        since = count % self.every
        if len(recent) < since:
            raise ValueError(f"restore needs the last {since} frames, got {len(recent)}")
        self._reset(count - since)
        for img in recent[len(recent) - since :]:
            self(img)


def with_body_cadence(estimator: _E, every: int) -> _E:
    """``estimator`` for one video with :class:`BodyCadence` (a shallow copy sharing the model
    and the detectors); unchanged when ``every`` is 1 or its detector is not ``auto``."""
    import copy

    if every == 1:
        return estimator
    det = getattr(estimator, "detector", None)
    if not isinstance(det, FusedDetector):
        raise InputError("--body-every applies to the 'auto' detector only")
    out = copy.copy(estimator)
    setattr(out, "_detector", BodyCadence(det, every))  # noqa: B010 - any estimator type
    return out
