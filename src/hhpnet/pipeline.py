"""Detector + model in one object: ``HeadPoseEstimator`` → ``Poses`` for every person of an image.

::

    from hhpnet import HeadPoseEstimator
    est = HeadPoseEstimator()                  # hhpnet-1.0 + BlazeFace, both loaded on first use
    poses = est("photo.jpg")                   # path, numpy BGR array (rgb=True for RGB), PIL image
    poses.yaw, poses.pitch, poses.roll         # (N,) degrees, convention of hhpnet.convention
    poses.sigma                                # (N, 3) predicted standard deviations, degrees
    poses.to_json()                            # the JSON record of the README
    est.from_keypoints(kpts, layout="coco17")  # keypoints from another pose estimator

``model`` and ``detector`` accept names or ready objects: any object with
``predict(keypoints (N, 5, 3)) -> yaw, pitch, roll, sigma, valid`` as a model, and any callable
``detector(rgb_uint8_image) -> boxes, keypoints, scores`` (attributes) as a detector.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeGuard, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import ANGLE_NAMES
from hhpnet.errors import InputError
from hhpnet.keypoints import (
    check_image_size,
    drop_implausible_points,
    head_size,
    validate_keypoints,
)
from hhpnet.poses import CSV_COLUMNS, Detections, Poses, as_rows, centroids

if TYPE_CHECKING:
    from pathlib import Path

    from hhpnet.mesh_reading import MeshReader
    from hhpnet.mirror import MirrorPass
    from hhpnet.model import PoseOutput
    from hhpnet.protocols import Detector, PeopleLike, PoseModel

__all__ = ["CSV_COLUMNS", "HeadPoseEstimator", "Poses"]

F32 = NDArray[np.float32]
#: per-person names (detector tags, reading names): an object array of str
Tags = NDArray[np.object_]
#: held while an estimator loads its model or detector on first use
_LOAD_LOCK = threading.Lock()


class HeadPoseEstimator:
    """Find people with a keypoint detector and estimate their head pose with HHP-Net.

    ``model``: a model name (``hhpnet-1.0``, ``hhpnet-0.6``, ``hhpnet-0.2``), a ``.safetensors``
    path, or a model object. ``detector``: a detector name (``auto``, the default: BlazeFace +
    MoveNet merged, both readings of a head seen by both combined; ``blazeface``, ``movenet``,
    ``blazepose``), a detector object, or None (then only :meth:`from_keypoints` works). Both
    are loaded on first use. ``kpt_thr``: keypoints with a confidence below it are treated as
    missing (0 keeps all). ``precise``: accuracy first — the detector and the face mesh also
    run on the mirrored image and the mirror image's readings of each head are fused with the
    photo's (:mod:`hhpnet.mirror`; about twice the time); a call can override it
    (``est(image, precise=True)``). ``mesh``: the face-mesh reading of the faces BlazeFace finds
    (:mod:`hhpnet.mesh_reading`: MediaPipe's 468 landmarks read by ``hhpnet-mesh-1.0``, one
    more reading of the head; True by default, False: off, or a
    :class:`~hhpnet.mesh_reading.MeshReader`).
    Other keyword arguments go to :func:`hhpnet.detectors.create_detector`.

    A person's readings (one per detector that saw the head, and their mirror readings) are
    fused by :func:`hhpnet.fusion.fuse`; σ then goes through :func:`hhpnet.tails.honest_sigma`
    (heavier tails, back views) and ``Poses.ambiguous`` flags yaws the points cannot pin down.

    All people of an image are estimated in one batched ``model.predict`` call.

    One estimator may be shared by several threads (a web server, a thread pool): the models
    are loaded once, concurrent detector calls each get their own TFLite interpreter, and the
    pose model keeps per-thread buffers — results are identical to single-threaded calls.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | PoseModel = "hhpnet-1.0",
        detector: str | Detector | None = "auto",
        *,
        kpt_thr: float = 0.0,
        precise: bool = False,
        mesh: bool | MeshReader = True,
        **detector_options: object,
    ) -> None:
        try:
            thr = float(kpt_thr)
        except (TypeError, ValueError):
            thr = math.nan
        if not 0.0 <= thr <= 1.0:
            raise InputError(f"kpt_thr must be a number in [0, 1]; got {kpt_thr!r}")
        self.kpt_thr = thr
        self.precise = _check_precise(precise)
        self.mesh = _mesh_reader(mesh)
        self._model_spec = model
        self._detector_spec = detector
        self._detector_options = detector_options
        self._model: PoseModel | None = None if isinstance(model, (str, os.PathLike)) else model
        self._detector: Detector | None = None if isinstance(detector, str) else detector
        if not isinstance(detector, str) and detector_options:
            raise InputError("detector options only apply when the detector is given by name")

    def __repr__(self) -> str:
        m = self._model_spec if isinstance(self._model_spec, str) else type(self._model_spec)
        d = self._detector_spec if isinstance(self._detector_spec, str) else type(self._detector)
        extra = ", precise=True" if self.precise else ""
        return f"HeadPoseEstimator(model={m!r}, detector={d!r}, kpt_thr={self.kpt_thr}{extra})"

    @property
    def model(self) -> PoseModel:
        """The head-pose model (loaded on first access)."""
        if self._model is None:
            from hhpnet.model import load_model

            with _LOAD_LOCK:  # threads sharing a fresh estimator load it once
                if self._model is None:
                    # a model object is stored in _model at construction: here the spec is a name
                    self._model = load_model(cast("str | Path", self._model_spec))
        return self._model

    @property
    def detector(self) -> Detector | None:
        """The keypoint detector (created on first access); None if there is none."""
        if self._detector is None and isinstance(self._detector_spec, str):
            from hhpnet.detectors import create_detector

            with _LOAD_LOCK:
                if self._detector is None:
                    self._detector = create_detector(self._detector_spec, **self._detector_options)
        return self._detector

    def __call__(
        self,
        image: object,
        *,
        rgb: bool = False,
        source: str | None = None,
        precise: bool | None = None,
    ) -> Poses:
        """Detect people in ``image`` and estimate their head poses.

        ``image``: a path, encoded bytes, a numpy array (**BGR**, as OpenCV reads it, unless
        ``rgb=True``) or a PIL image; see :func:`hhpnet.io.read_image`. ``source`` names the
        image in the output (default: the path, if one was given). ``precise``: run the mirror
        pass for this call (None: the estimator's ``precise``).
        """
        precise = self.precise if precise is None else _check_precise(precise)
        from hhpnet.io import read_image

        if source is None and isinstance(image, (str, os.PathLike)):
            source = os.fspath(image)
        detector: Detector | None = self.detector
        if detector is None:
            raise InputError("this estimator has no detector; use from_keypoints()")
        rgb_image = read_image(image, rgb=rgb)
        h, w = rgb_image.shape[:2]
        dets = detector(rgb_image)
        mirror = flipped = m_dets = None
        if precise:
            from hhpnet.mirror import merge_mirror_pass, mirror_image

            photo = _as_detections(dets)
            flipped = mirror_image(rgb_image)
            m_dets = _as_detections(detector(flipped))
            mirror = merge_mirror_pass(photo, m_dets, int(w))
            dets = mirror.people
        meshes: list[tuple[str | Tags, F32, F32, bool]] = []
        if self.mesh is not None:
            people = _as_detections(dets)
            n = len(people)
            photo_rows = np.arange(n) < (n if mirror is None else mirror.photo_count)
            meshes.append(("facemesh", *self.mesh(rgb_image, people, photo_rows), False))
            if mirror is not None and flipped is not None and m_dets is not None:
                a, s = _mirror_mesh(self.mesh, flipped, m_dets, mirror.index)
                names = np.where(mirror.index >= 0, "facemesh_mirror", "").astype(object)
                meshes.append((names, a, s, True))
        # how many readings a head could have: the "auto" detector reads it twice, precise twice
        # more (a head fewer read was missed by a detector: hhpnet.tails widens its σ)
        expected = (2 if getattr(detector, "name", "") == "auto" else 1) * (2 if precise else 1)
        return self._estimate(
            np.asarray(dets.keypoints, np.float32).reshape(-1, 5, 3),
            np.asarray(dets.boxes, np.float32).reshape(-1, 4),
            np.asarray(dets.scores, np.float32).reshape(-1),
            (int(w), int(h)),
            source,
            getattr(dets, "detector", None),
            getattr(dets, "alt_keypoints", None),
            mirror,
            expected,
            meshes,
        )

    def from_keypoints(
        self,
        keypoints: object,
        layout: str = "coco17",
        image_size: tuple[int, int] | None = None,
        *,
        source: str | None = None,
    ) -> Poses:
        """Head poses from keypoints of another tool (no detector run).

        ``keypoints``: an array in ``layout`` (see :data:`hhpnet.adapters.LAYOUTS`; e.g.
        ``(N, 17, 3)`` COCO-17), or an object understood by :func:`hhpnet.adapters.convert`
        (ultralytics results, supervision ``KeyPoints``, MMPose instances, OpenPose/COCO JSON
        dicts, MediaPipe results, a file path), whose layout is recognised from the object
        itself. ``image_size`` = (width, height) pixels, needed for normalised coordinates.
        """
        from hhpnet.adapters import HeadKeypoints, _as_numpy, convert

        image_size = check_image_size(image_size)
        if isinstance(keypoints, HeadKeypoints):
            hk = keypoints
        elif _is_array_like(keypoints):
            hk = convert(_as_numpy(keypoints), layout, image_size=image_size)
        elif _is_detections_like(keypoints):
            hk = HeadKeypoints(
                validate_keypoints(keypoints.keypoints),
                as_rows(keypoints.boxes, 4, "boxes"),
                as_rows(keypoints.scores, 1, "scores").reshape(-1),
                image_size,
            )
        else:
            hk = convert(keypoints, None, image_size=image_size)
        kp = validate_keypoints(hk.keypoints)
        size = check_image_size(hk.image_size) if hk.image_size is not None else image_size
        return self._estimate(
            kp,
            hk.boxes if hk.boxes_given else None,
            hk.scores if hk.scores_given else None,
            size,
            source if source is not None else hk.source,
        )

    def _clean(self, kp: F32, image_size: tuple[int, int] | None) -> F32:
        """Points below ``kpt_thr`` and implausible points (far outside the frame, absurd)
        set missing."""
        if self.kpt_thr > 0:
            kp[kp[..., 2] < self.kpt_thr] = 0.0
        return drop_implausible_points(kp, image_size)[0]

    def _estimate(
        self,
        keypoints: F32,
        boxes: F32 | None,
        scores: F32 | None,
        image_size: tuple[int, int] | None,
        source: str | None,
        detector: object = None,
        alt_keypoints: ArrayLike | None = None,
        mirror: MirrorPass | None = None,
        expected: int = 1,
        poses: Sequence[tuple[str | Tags, F32, F32, bool]] = (),
    ) -> Poses:
        kp = validate_keypoints(keypoints)
        n = len(kp)
        if n == 0:
            return Poses.empty(image_size, source)
        kp = self._clean(kp, image_size)
        tags = detector if _has_rows(detector, n) and not isinstance(detector, str) else None
        readings = _Readings.collect(self, kp, tags, alt_keypoints, mirror, image_size)
        for name, angles, sigma, mirrored in poses:  # readings of other models (the face mesh)
            readings.add_poses(name, angles, sigma, np.ones(n, bool), mirrored)
        out, amb = readings.fuse(self.model, expected)
        if tags is not None:
            tags = _mesh_tags(tags, readings.used(MESH_READINGS))
        if boxes is None or len(boxes) != n:
            from hhpnet.boxes import padded_boxes

            boxes = padded_boxes(kp)
        if scores is None or len(scores) != n:
            present = kp[..., 2] > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                scores = (kp[..., 2].sum(axis=1) / present.sum(axis=1)).astype(np.float32)
            scores = np.nan_to_num(scores, nan=0.0)
        return Poses(
            boxes=np.asarray(boxes, np.float32).reshape(n, 4),
            scores=np.asarray(scores, np.float32).reshape(n),
            keypoints=kp,
            yaw=out.yaw,
            pitch=out.pitch,
            roll=out.roll,
            sigma=out.sigma,
            valid=out.valid,
            centroid=centroids(kp),
            head_size=head_size(kp),
            image_size=image_size,
            source=source,
            detector=tags if tags is not None else detector if isinstance(detector, str) else None,
            ambiguous=amb,
        )


#: readings whose use a person's detector tag shows (``+facemesh``)
MESH_READINGS = ("facemesh", "facemesh_mirror")


def _mesh_reader(value: object) -> MeshReader | None:
    from hhpnet.mesh_reading import MeshReader

    if isinstance(value, MeshReader):
        return value
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"mesh must be True, False or a MeshReader; got {value!r}")
    return MeshReader() if value else None


def _mirror_mesh(
    reader: MeshReader, flipped: NDArray[np.uint8], m_dets: Detections, index: NDArray[np.intp]
) -> tuple[F32, F32]:
    """The face mesh of the mirror image for each person (``index``: its match among the
    mirror image's detections ``m_dets``, −1: none), poses in the mirror image's frame."""
    n = len(index)
    angles = np.full((n, 3), np.nan, np.float32)
    sigma = np.full((n, 3), np.inf, np.float32)
    has = index >= 0
    if has.any():
        angles[has], sigma[has] = reader(flipped, m_dets[index[has]])
    return angles, sigma


def _mesh_tags(tags: object, used: NDArray[np.bool_]) -> Tags:
    """Detector tags with ``+facemesh`` where a face-mesh reading entered the person's pose."""
    out = np.asarray(tags, dtype=object).reshape(-1).copy()
    for i in np.flatnonzero(used):
        out[i] = f"{out[i]}+facemesh" if out[i] else "facemesh"
    return out


def _check_precise(value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"precise must be True or False; got {value!r}")
    return bool(value)


def _as_detections(dets: PeopleLike) -> Detections:
    """A detector's output as :class:`hhpnet.poses.Detections` (for the mirror pass):
    boxes around the points and mean confidences where the detector gave none."""
    from hhpnet.boxes import padded_boxes

    kp = validate_keypoints(np.asarray(dets.keypoints, np.float32).reshape(-1, 5, 3))
    n = len(kp)
    boxes = np.asarray(dets.boxes, np.float32).reshape(-1, 4)
    scores = np.asarray(dets.scores, np.float32).reshape(-1)
    tags = getattr(dets, "detector", None)
    alt = getattr(dets, "alt_keypoints", None)
    alt_boxes = getattr(dets, "alt_boxes", None)
    return Detections(
        boxes if len(boxes) == n else padded_boxes(kp),
        kp,
        scores if len(scores) == n else np.zeros(n, np.float32),
        tags if isinstance(tags, str) or _has_rows(tags, n) else None,
        None if alt is None or not _has_rows(alt, n) else validate_keypoints(alt),
        None
        if alt_boxes is None or not _has_rows(alt_boxes, n)
        else as_rows(alt_boxes, 4, "boxes"),
    )


@dataclass
class _Readings:
    """The readings of N people, one slot per source: slot k holds either a set of keypoints
    per person (``keypoints[k]`` (N, 5, 3), cleaned; read by the pose model) or poses read
    elsewhere (``poses[k]`` = angles, σ (N, 3) degrees), present where ``has[k]``, named
    ``names[k]`` (per person, for the error correlations of :mod:`hhpnet.fusion`), from the
    mirror image if ``mirrored[k]`` (its yaw and roll are negated before the fusion).

    A new source is one more :meth:`add` (keypoints for the pose model) or :meth:`add_poses`
    (a reading of its own, e.g. a face-mesh network's) in :meth:`collect`, and its pairs in
    :data:`hhpnet.fusion.CORRELATIONS`.
    """

    names: list[Tags]
    keypoints: list[F32 | None]
    poses: list[tuple[F32, F32] | None]
    has: list[NDArray[np.bool_]]
    mirrored: list[bool]
    #: (K, N) which slot gave a valid pose of which person (set by :meth:`fuse`)
    valid: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))

    @classmethod
    def collect(
        cls,
        est: HeadPoseEstimator,
        kp: F32,
        tags: object,
        alt: ArrayLike | None,
        mirror: MirrorPass | None,
        image_size: tuple[int, int] | None,
    ) -> _Readings:
        """The photo's keypoints, a second detector's (``alt``) and the mirror pass's."""
        from hhpnet.fusion import mirror_name, reading_names

        n = len(kp)
        first, second = reading_names(tags, n)
        photo = np.ones(n, bool) if mirror is None else np.arange(n) < mirror.photo_count
        out = cls([], [], [], [], [])
        out.add(first, kp, photo, False)
        if alt is not None and _has_rows(alt, n):
            out.add(second, est._clean(validate_keypoints(alt), image_size), photo, False)
        if mirror is not None:
            m_first, m_second = reading_names(mirror.detector, n)
            for names, points in ((m_first, mirror.keypoints), (m_second, mirror.alt_keypoints)):
                cleaned = est._clean(validate_keypoints(points), image_size)
                mirrored = np.array([mirror_name(s) for s in names], object)
                out.add(mirrored, cleaned, np.ones(n, bool), True)
        return out

    def add(self, names: Tags, kp: F32, rows: NDArray[np.bool_], mirrored: bool) -> None:
        """A slot of keypoints (N, 5, 3) for the pose model, present in ``rows`` where a point
        is (the first slot is always kept)."""
        has = rows & (kp[..., 2] > 0).any(axis=1)
        if has.any() or not self.has:
            self._slot(names, kp, None, has, mirrored)

    def add_poses(
        self,
        names: str | Tags,
        angles: ArrayLike,
        sigma: ArrayLike,
        rows: ArrayLike,
        mirrored: bool = False,
    ) -> None:
        """A slot of poses read by another model: ``angles``, ``sigma`` (N, 3) degrees in the
        frame of the image they were read from, present in ``rows`` where finite; ``names``
        one name or (N,) per person ("": no such reading for that person)."""
        n = len(self.has[0])
        a = np.asarray(angles, np.float32).reshape(n, 3)
        s = np.asarray(sigma, np.float32).reshape(n, 3)
        has = np.asarray(rows, bool).reshape(n) & np.isfinite(a).all(1) & np.isfinite(s).all(1)
        # kept even when empty: its name tells the fusion which readings a person could have
        # had (hhpnet.fusion.PAIRED)
        self._slot(np.broadcast_to(np.asarray(names, object), (n,)), None, (a, s), has, mirrored)

    def _slot(
        self,
        names: Tags,
        kp: F32 | None,
        poses: tuple[F32, F32] | None,
        has: NDArray[np.bool_],
        mirrored: bool,
    ) -> None:
        self.names.append(names)
        self.keypoints.append(kp)
        self.poses.append(poses)
        self.has.append(has)
        self.mirrored.append(mirrored)

    def used(self, names: tuple[str, ...]) -> NDArray[np.bool_]:
        """Per person: a valid reading named in ``names`` was among its readings (after
        :meth:`fuse`)."""
        n = len(self.has[0])
        out = np.zeros(n, bool)
        for j, slot in enumerate(self.names):
            out |= self.valid[j] & np.isin(np.asarray(slot, dtype=object), names)
        return out

    def fuse(self, model: PoseModel, expected: int = 1) -> tuple[PoseOutput, NDArray[np.bool_]]:
        """Read every present set in one batched ``model.predict`` call, fuse each person's
        readings (:func:`hhpnet.fusion.fuse`), then :func:`hhpnet.tails.honest_sigma` (with
        ``expected`` readings per head possible); also the ``ambiguous`` flags."""
        from hhpnet.fusion import correlation_matrix, fuse_robust, unmirror, unused_readings
        from hhpnet.model import PoseOutput
        from hhpnet.tails import ambiguous, honest_sigma

        k, n = len(self.has), len(self.has[0])
        angles = np.full((k, n, 3), np.nan, np.float32)
        sigma = np.full((k, n, 3), np.inf, np.float32)
        read = [j for j in range(k) if self.keypoints[j] is not None]
        batch = [cast(F32, self.keypoints[j])[self.has[j]] for j in read]
        if batch and sum(len(b) for b in batch):
            o = model.predict(np.concatenate(batch))
            got = np.stack(
                [np.asarray(getattr(o, a), np.float32).reshape(-1) for a in ANGLE_NAMES], 1
            )
            sig = np.asarray(o.sigma, np.float32).reshape(-1, 3)
            ok = np.asarray(o.valid, bool).reshape(-1)
            got[~ok], sig[~ok] = np.nan, np.inf
            start = 0
            for j in read:
                rows = np.flatnonzero(self.has[j])
                angles[j, rows] = got[start : start + len(rows)]
                sigma[j, rows] = sig[start : start + len(rows)]
                start += len(rows)
        for j, given in enumerate(self.poses):
            if given is not None:
                rows = np.flatnonzero(self.has[j])
                angles[j, rows], sigma[j, rows] = given[0][rows], given[1][rows]
        for j in range(k):  # the mirror image's pose → the photo's: (−yaw, pitch, −roll)
            if self.mirrored[j]:
                angles[j] = unmirror(angles[j])
        valid_k: NDArray[np.bool_] = np.asarray(np.isfinite(angles).all(axis=-1), bool)  # (K, N)
        drop = unused_readings(self.names, valid_k)
        angles[drop], valid_k = np.nan, valid_k & ~drop
        self.valid = valid_k
        out = np.full((n, 3), np.nan, np.float32)
        out_sig = np.full((n, 3), np.inf, np.float32)
        chi2 = np.zeros((n, 3))
        count = np.zeros((n, 3), np.int64)
        best = np.full((n, 3), np.inf)
        keys = [
            tuple((j, str(self.names[j][i])) for j in range(k) if valid_k[j, i]) for i in range(n)
        ]
        for key in set(keys):
            rows = np.array([i for i in range(n) if keys[i] == key], np.intp)
            if not key:
                continue
            slots = [j for j, _ in key]
            fused = fuse_robust(
                angles[slots][:, rows],
                sigma[slots][:, rows],
                correlation_matrix([name for _, name in key]),
            )
            out[rows], out_sig[rows] = fused.angles, fused.sigma
            chi2[rows], count[rows], best[rows] = fused.chi2, fused.count, fused.sigma_min
        out_sig = honest_sigma(out, out_sig, chi2, count, best, expected=expected)
        valid = np.asarray(np.isfinite(out).all(axis=1), bool)
        return PoseOutput.of(out, out_sig, valid), ambiguous(out, out_sig)


def _has_rows(values: object, n: int) -> bool:
    """``values`` is a sequence of ``n`` items (per-person data)."""
    try:
        return len(values) == n  # type: ignore[arg-type]
    except TypeError:
        return False


def _is_array_like(obj: object) -> bool:
    if isinstance(obj, np.ndarray):
        return True
    if hasattr(obj, "__array__") and not hasattr(obj, "xy") and not hasattr(obj, "keypoints"):
        return True  # torch tensors and the like
    if isinstance(obj, (list, tuple)):
        return len(obj) == 0 or not isinstance(obj[0], dict)
    return False


def _is_detections_like(obj: object) -> TypeGuard[PeopleLike]:
    """hhpnet Detections (or similar): keypoints already (N, 5, 3) with boxes and scores."""
    kp = getattr(obj, "keypoints", None)
    return (
        isinstance(kp, np.ndarray)
        and kp.ndim == 3
        and kp.shape[1:] == (5, 3)
        and hasattr(obj, "boxes")
        and hasattr(obj, "scores")
    )
