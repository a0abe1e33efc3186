"""Shared test configuration: hypothesis profiles for the property-based (fuzz) tests, and the
fixtures several test modules use.

``HYPOTHESIS_PROFILE=ci`` (default) keeps every property test bounded so the default suite stays
fast; ``make fuzz`` selects ``fuzz`` (≥ 10,000 examples per property over the suite's properties).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def random_model() -> Callable[..., Any]:
    """Factory ``random_model(alpha, seed=0)``: a :class:`hhpnet.model.HeadPoseModel` with random
    weights of the shipped shapes (:func:`hhpnet.samples.synthetic_model`)."""
    from hhpnet.samples import synthetic_model

    return synthetic_model


@pytest.fixture(scope="session")
def scene() -> Callable[..., Any]:
    """Factory ``scene(n_people, width=640, height=480)``: a BGR image of ``n_people`` real faces
    from the bundled example photos (:func:`hhpnet.samples.make_scene`)."""
    from hhpnet.samples import make_scene

    return make_scene


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's estimator becomes the blob detector + geometric model of
    :mod:`tests.helpers.video_fakes` (fast, deterministic, whatever model or detector is named)
    and ``hhpnet.interaction.analyze`` a facing-direction stand-in."""
    import sys
    import types

    import hhpnet.pipeline
    from tests.helpers.fakes import GeometricModel
    from tests.helpers.video_fakes import BlobDetector, facing_analyzer

    real = hhpnet.pipeline.HeadPoseEstimator

    def factory(model: Any = "hhpnet-1.0", detector: Any = "blazeface", **kw: Any) -> Any:
        return real(
            model=GeometricModel(), detector=BlobDetector(), precise=kw.get("precise", False)
        )

    monkeypatch.setattr(hhpnet.pipeline, "HeadPoseEstimator", factory)
    fake = types.ModuleType("hhpnet.interaction")
    fake.analyze = facing_analyzer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hhpnet.interaction", fake)
