"""Shared test configuration: hypothesis profiles for the property-based (fuzz) tests, and the
fixtures several test modules use.

``HYPOTHESIS_PROFILE=ci`` (default) keeps every property test bounded so the default suite stays
fast; ``make fuzz`` selects ``fuzz`` (≥ 10,000 examples per property over the suite's properties).

The ``ci`` profile explores: every run draws a fresh seed, printed in the header and at the end
of the run (``hypothesis seed N``); ``HYPOTHESIS_SEED=N make test`` replays it. Failing examples
are kept in the example database ``.hypothesis/examples`` (gitignored) and tried first on the
next local run (docs/testing.md).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

#: failing examples of earlier local runs, replayed first (gitignored)
EXAMPLES_DB = Path(__file__).resolve().parents[1] / ".hypothesis" / "examples"

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=DirectoryBasedExampleDatabase(EXAMPLES_DB),
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _hypothesis_seed(config: pytest.Config) -> str | None:
    return config.getoption("hypothesis_seed", default=None)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Give the ``ci`` profile a fresh seed per run (``HYPOTHESIS_SEED`` or
    ``--hypothesis-seed`` replays one), through the hypothesis plugin's own seed option, which
    it reads after this hook."""
    if _hypothesis_seed(config) is not None or not hasattr(config.option, "hypothesis_seed"):
        return
    seed = os.environ.get("HYPOTHESIS_SEED", "").strip()
    if not seed and settings.get_current_profile_name() == "ci":
        seed = str(random.SystemRandom().randrange(2**32))
    if seed:
        config.option.hypothesis_seed = seed


def _seed_line(config: pytest.Config) -> str | None:
    seed = _hypothesis_seed(config)
    if seed is None:
        return None
    return f"hypothesis seed {seed} (replay: HYPOTHESIS_SEED={seed} make test)"


def pytest_report_header(config: pytest.Config) -> str | None:
    return _seed_line(config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    # the header is hidden by -q (the suite's default): say it again at the end
    line = _seed_line(config)
    if line is not None:
        terminalreporter.write_line(line)


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

    import hhpnet.interaction.registry  # the CLI's --method help reads it (stubbed below)
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
