"""Fixtures of the video tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hhpnet.pipeline import HeadPoseEstimator
from tests.helpers.fakes import GeometricModel
from tests.helpers.video_fakes import BlobDetector


def blob_estimator() -> HeadPoseEstimator:
    """The real estimator with the blob detector and the geometric model: fast, deterministic
    poses of the synthetic people of :mod:`tests.helpers.video_fakes`."""
    return HeadPoseEstimator(model=GeometricModel(), detector=BlobDetector())


@pytest.fixture
def estimator() -> Callable[[], HeadPoseEstimator]:
    """Factory of fresh :func:`blob_estimator` instances (one per run: the model counts calls)."""
    return blob_estimator
