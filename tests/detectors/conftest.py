"""Session fixtures: one interpreter per detector model for the whole test session."""

from __future__ import annotations

import pytest

from hhpnet.detectors import create_detector
from hhpnet.detectors.blazeface import BlazeFaceDetector
from hhpnet.detectors.blazepose import BlazePoseDetector
from tests.detectors.detector_images import astronaut, grace_hopper


@pytest.fixture(scope="session")
def blazeface() -> BlazeFaceDetector:
    det = create_detector("blazeface", num_threads=1)
    assert isinstance(det, BlazeFaceDetector)
    return det


@pytest.fixture(scope="session")
def blazeface_tiled() -> BlazeFaceDetector:
    det = create_detector("blazeface", tile=True, num_threads=1)
    assert isinstance(det, BlazeFaceDetector)
    return det


@pytest.fixture(scope="session")
def blazepose() -> BlazePoseDetector:
    det = create_detector("blazepose", num_threads=1)
    assert isinstance(det, BlazePoseDetector)
    return det


@pytest.fixture(scope="session")
def astro():  # type: ignore[no-untyped-def]
    return astronaut()


@pytest.fixture(scope="session")
def grace():  # type: ignore[no-untyped-def]
    return grace_hopper()
