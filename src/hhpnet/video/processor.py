"""The per-frame step of the video pipeline (:class:`VideoProcessor`): estimate → journal
precision → track → smooth → interact → timeline, and its result (:class:`FrameResult`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import ANGLE_NAMES
from hhpnet.errors import HhpnetError
from hhpnet.io import json_number as _num
from hhpnet.poses import Column, Poses
from hhpnet.video.readers import Frame

if TYPE_CHECKING:
    from hhpnet.interaction.result import Interaction
    from hhpnet.protocols import Estimator, PoseLike
    from hhpnet.video.smoothing import PoseSmoother
    from hhpnet.video.timeline import TimelineBuilder
    from hhpnet.video.tracking import Tracker

F32 = NDArray[np.float32]


# --------------------------------------------------------------------------- processing
@dataclass
class FrameResult:
    """Everything computed for one frame (given to ``on_frame`` callbacks): the people of the
    frame (``poses``, their track ids in its ``track_id`` column), their smoothed angles and
    the frame's interaction."""

    index: int
    time_s: float
    poses: Poses
    smooth: F32  # (N, 3) degrees, NaN where invalid
    sigma_smooth: F32  # (N, 3) degrees
    interaction: Interaction | None = None
    source: str | None = None  # the source's name (for the JSON record)

    @property
    def track_ids(self) -> NDArray[np.int64]:
        """(N,) the people's track ids (−1: could not be tracked): ``poses.track_id``."""
        return self.poses.track_id

    def columns(self) -> dict[str, Column]:
        """The rows of this frame as columns of :data:`hhpnet.columns.VIDEO_COLUMNS`."""
        n = len(self.poses)
        cols: dict[str, Column] = {
            "frame": np.full(n, self.index, np.int64),
            "time_s": np.full(n, self.time_s, np.float64),
            **self.poses.to_columns(),
        }
        for a, ang in enumerate(ANGLE_NAMES):
            cols[f"{ang}_smooth"] = self.smooth[:, a]
            cols[f"sigma_{ang}_smooth"] = self.sigma_smooth[:, a]
        return cols

    def smoothed_poses(self) -> Poses:
        """The poses with the smoothed angles and σ where available (for drawing)."""
        p = self.poses
        if len(p) == 0:
            return p
        ok = np.asarray(np.isfinite(self.smooth).all(axis=1))[:, None]
        raw = np.stack([np.asarray(getattr(p, a), np.float32) for a in ANGLE_NAMES], 1)
        angles = np.where(ok, self.smooth, raw)
        sigma = np.where(ok, self.sigma_smooth, np.asarray(p.sigma, np.float32))
        return replace(
            p,
            yaw=angles[:, 0].astype(np.float32),
            pitch=angles[:, 1].astype(np.float32),
            roll=angles[:, 2].astype(np.float32),
            sigma=sigma.astype(np.float32),
        )

    def record(self) -> dict[str, object]:
        """JSON record: the image record of ``Poses.to_dict()`` + frame, time, ids, smoothed."""
        rec: dict[str, Any] = {"frame": self.index, "time_s": round(self.time_s, 4)}
        rec.update(self.poses.to_dict())
        if rec.get("source") is None and self.source is not None:
            rec["source"] = self.source
        for k, person in enumerate(rec["people"]):
            person["track_id"] = int(self.track_ids[k])
            person["smooth"] = {
                **{a: _num(self.smooth[k, i]) for i, a in enumerate(ANGLE_NAMES)},
                "sigma": {a: _num(self.sigma_smooth[k, i]) for i, a in enumerate(ANGLE_NAMES)},
            }
        if self.interaction is not None and hasattr(self.interaction, "to_dict"):
            rec["interaction"] = self.interaction.to_dict()
        return rec


class VideoProcessor:
    """Stateful per-frame processing: estimate → track → smooth → interact → timeline.

    ``estimator``: callable ``estimator(bgr_image) -> Poses`` (a
    :class:`hhpnet.pipeline.HeadPoseEstimator`). Interaction needs :mod:`hhpnet.interaction`.
    """

    def __init__(
        self,
        estimator: Estimator,
        *,
        interact: bool = True,
        interaction_method: str = "hhpnet",
        interaction_params: Mapping[str, object] | None = None,
        smoother: PoseSmoother | None = None,
        tracker: Tracker | None = None,
        timeline: TimelineBuilder | None = None,
        analyzer: Callable[..., Interaction] | None = None,
    ) -> None:
        from hhpnet.video.smoothing import PoseSmoother
        from hhpnet.video.timeline import TimelineBuilder
        from hhpnet.video.tracking import Tracker

        self.estimator = estimator
        self.tracker = tracker if tracker is not None else Tracker()
        self.smoother = smoother if smoother is not None else PoseSmoother()
        self.interact = interact
        self.interaction_method = interaction_method
        self.interaction_params = dict(interaction_params or {})
        self.timeline = timeline if timeline is not None else TimelineBuilder()
        # our own timeline follows the analyzer's decision threshold (read on the first frame)
        self._auto_threshold = timeline is None
        self.track_ids_seen: set[int] = set()
        self._analyze: Callable[..., Interaction] | None = analyzer if interact else None
        if interact and analyzer is None:
            try:
                from hhpnet.interaction import analyze
            except ImportError as exc:
                raise HhpnetError(
                    "interaction analysis is not available in this installation (--no-interact)"
                ) from exc
            self._analyze = analyze

    def step(self, frame: Frame) -> FrameResult:
        """Process one frame: estimate, round to the journal's precision (see
        :func:`journal_poses`), then :meth:`process_poses`."""
        poses = self.estimator(frame.image)
        h, w = frame.image.shape[:2]
        return self.process_poses(frame.index, frame.time_s, journal_poses(poses, (w, h)))

    def process_poses(self, index: int, t: float, poses: Poses) -> FrameResult:
        """Track, smooth and analyse already-estimated poses of one frame (the result's poses
        are ``poses`` with the track ids)."""
        n = len(poses)
        kp = np.asarray(poses.keypoints, np.float32).reshape(n, 5, 3)
        ids = self.tracker.update(np.asarray(poses.boxes, np.float32).reshape(n, 4), kp, t)
        self.smoother.forget(self.tracker.ended)
        self.smoother.prune(t)
        angles = np.stack(
            [np.asarray(getattr(poses, a), np.float32).reshape(n) for a in ANGLE_NAMES], 1
        )
        sig = np.asarray(poses.sigma, np.float32).reshape(n, 3)
        valid = np.asarray(poses.valid, bool).reshape(n) & (ids >= 0)
        smooth = np.full((n, 3), np.nan, np.float32)
        sig_s = np.full((n, 3), np.nan, np.float32)
        keep = ids >= 0
        if keep.any():
            s, ss = self.smoother.update(ids[keep], angles[keep], sig[keep], t, valid[keep])
            smooth[keep], sig_s[keep] = s, ss
        self.track_ids_seen.update(int(i) for i in ids[keep])
        inter = None
        if self._analyze is not None:
            inter = self._analyze(poses, method=self.interaction_method, **self.interaction_params)
            att = _matrix(getattr(inter, "attention", None), n)
            thr = (getattr(inter, "params", None) or {}).get("threshold")
            if self._auto_threshold and isinstance(thr, (int, float)):
                self.timeline.threshold = float(thr)
                self._auto_threshold = False
            if att is not None:
                self.timeline.add(
                    t,
                    ids,
                    att,
                    matrix=_matrix(getattr(inter, "matrix", None), n),
                    mutual=_mutual_mask(getattr(inter, "mutual", None), n),
                    valid=np.asarray(poses.valid, bool).reshape(n),
                )
        return FrameResult(index, t, replace(poses, track_id=ids), smooth, sig_s, inter)


def _matrix(value: object, n: int) -> NDArray[np.float64] | None:
    if value is None:
        return None
    a = np.asarray(value, dtype=np.float64)
    return a if a.shape == (n, n) else None


def _mutual_mask(value: Any, n: int) -> NDArray[np.bool_] | None:
    """Interaction ``mutual`` as an (n, n) mask: accepts a bool matrix or a list of index pairs."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if arr.shape == (n, n) and arr.dtype != object:
        return arr.astype(bool)
    mask = np.zeros((n, n), bool)
    try:
        for pair in value:
            if isinstance(pair, dict):
                d: dict[str, Any] = pair
                i, j = int(d.get("i", d.get("a", -1))), int(d.get("j", d.get("b", -1)))
            else:
                i, j = int(pair[0]), int(pair[1])
            if 0 <= i < n and 0 <= j < n:
                mask[i, j] = mask[j, i] = True
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return mask


def journal_poses(poses: PoseLike, image_size: tuple[int, int] | None) -> Poses:
    """``poses`` as they read back from the CSV journal: every value rounded to the CSV's
    decimals (0.001 px / 0.001° / 1e-4 for scores), centroid and head size recomputed.

    The video pipeline tracks, smooths and analyses these values, so that ``--resume``, which
    replays the CSV, continues from the very same tracker, smoother and timeline state as an
    uninterrupted run (identical rows and timeline, not just close)."""
    from hhpnet.video.sinks import journal_values

    n = len(poses)
    if n == 0:
        return Poses.empty(image_size)

    def q(name: str, value: ArrayLike, shape: tuple[int, ...]) -> NDArray[np.float32]:
        a = np.asarray(value, np.float32).reshape(shape)
        return journal_values(name, a).astype(np.float32)

    kp = np.asarray(poses.keypoints, np.float32).reshape(n, 5, 3)
    kp = np.concatenate(
        [q("nose_x", kp[..., :2], (n, 5, 2)), q("nose_c", kp[..., 2:], (n, 5, 1))], -1
    )
    kp = np.nan_to_num(kp, nan=0.0)
    return Poses(
        boxes=q("x1", poses.boxes, (n, 4)),
        scores=q("score", poses.scores, (n,)),
        keypoints=kp,
        yaw=q("yaw", poses.yaw, (n,)),
        pitch=q("pitch", poses.pitch, (n,)),
        roll=q("roll", poses.roll, (n,)),
        sigma=q("sigma_yaw", poses.sigma, (n, 3)),
        valid=np.asarray(poses.valid, bool).reshape(n).copy(),
        image_size=image_size,
        detector=getattr(poses, "detector", None),
        ambiguous=getattr(poses, "ambiguous", None),
    )
