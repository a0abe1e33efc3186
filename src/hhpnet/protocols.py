"""Structural types of the objects the package passes around (for type checkers; nothing here
runs at import beyond the class definitions).

* :class:`PoseFields` — what :func:`hhpnet.interaction.analyze` reads: a
  :class:`hhpnet.poses.Poses` (also from :func:`hhpnet.interaction.from_arrays`), or any object
  with these fields.
* :class:`PoseLike` — what drawing and video read: a :class:`hhpnet.poses.Poses` (or any
  object with its fields).
* :class:`PoseReadings` / :class:`PoseModel` — a model's ``predict`` and its output
  (:class:`hhpnet.model.HeadPoseModel` / :class:`hhpnet.model.PoseOutput`).
* :class:`Estimator` — ``estimator(image) -> poses`` (:class:`hhpnet.pipeline.HeadPoseEstimator`).
* :class:`Detector` / :class:`PeopleLike` — ``detector(rgb_image) -> people`` (the detectors of
  :mod:`hhpnet.detectors`, which return :class:`hhpnet.detectors.base.Detections`, or any
  callable returning boxes, keypoints and scores).

Runtime checks stay where they are (bad input → :class:`hhpnet.errors.InputError`): these types
say what is expected, they do not replace the checks.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

#: per-person values of any float precision (the pipeline's float32, from_arrays's float64)
Floats = NDArray[np.floating[Any]]

__all__ = [
    "Detector",
    "Estimator",
    "Floats",
    "PeopleLike",
    "PoseFields",
    "PoseLike",
    "PoseModel",
    "PoseReadings",
]


class PoseFields(Protocol):
    """Per-person arrays of N people: angles and σ in degrees, pixels for positions."""

    @property
    def yaw(self) -> Floats: ...  # (N,)
    @property
    def pitch(self) -> Floats: ...  # (N,)
    @property
    def sigma(self) -> Floats: ...  # (N, 3)
    @property
    def centroid(self) -> Floats: ...  # (N, 2)
    @property
    def head_size(self) -> Floats: ...  # (N,)
    @property
    def valid(self) -> NDArray[np.bool_]: ...  # (N,)


class PoseLike(PoseFields, Protocol):
    """:class:`PoseFields` plus roll, boxes, keypoints and the image size."""

    @property
    def roll(self) -> Floats: ...  # (N,)
    @property
    def boxes(self) -> Floats: ...  # (N, 4) x1, y1, x2, y2
    @property
    def scores(self) -> Floats: ...  # (N,)
    @property
    def keypoints(self) -> Floats: ...  # (N, 5, 3)
    @property
    def image_size(self) -> tuple[int, int] | None: ...
    def __len__(self) -> int: ...


class PoseReadings(Protocol):
    """A model's reading of N people (invalid rows: NaN angles, inf σ)."""

    @property
    def yaw(self) -> Floats: ...
    @property
    def pitch(self) -> Floats: ...
    @property
    def roll(self) -> Floats: ...
    @property
    def sigma(self) -> Floats: ...
    @property
    def valid(self) -> NDArray[np.bool_]: ...


class PoseModel(Protocol):
    """``predict((N, 5, 3) keypoints) -> readings``."""

    def predict(self, keypoints: Floats) -> PoseReadings: ...


class Estimator(Protocol):
    """``estimator(image) -> poses`` of every person in the image."""

    def __call__(self, image: object) -> PoseLike: ...


class PeopleLike(Protocol):
    """A detector's people: N boxes, five-point keypoints and scores (pixels)."""

    @property
    def boxes(self) -> Floats: ...  # (N, 4) x1, y1, x2, y2
    @property
    def keypoints(self) -> Floats: ...  # (N, 5, 3) x, y, confidence
    @property
    def scores(self) -> Floats: ...  # (N,)


class Detector(Protocol):
    """``detector(rgb_image) -> people``: ``rgb_image`` RGB uint8 (H, W, 3)."""

    def __call__(self, image: NDArray[np.uint8]) -> PeopleLike: ...
