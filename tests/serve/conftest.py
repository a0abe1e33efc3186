"""Fixtures of the ``hhpnet serve`` tests: in-process clients (FastAPI's TestClient) and test
media. Each test module skips itself without the ``[serve]`` extra (:data:`NEEDS_SERVE`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BASE = "http://127.0.0.1"


@contextmanager
def client_for(**options: Any) -> Iterator[Any]:
    """A TestClient of an app with these :class:`ServeSettings` (lifespan run: jobs work)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's notice about httpx
        from fastapi.testclient import TestClient

    from hhpnet.serve import ServeSettings, create_app

    options.setdefault("warm", False)
    app = create_app(ServeSettings(**options))
    with TestClient(app, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One in-process client per module: default settings (detector ``auto``), not warmed."""
    with client_for() as c:
        yield c


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """``with make_client(token="x") as c:`` — a client of an app with other settings."""
    return client_for


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame 640×480 mp4 of the bundled pair photo sliding sideways."""
    from tests.serve.media import pair_frames, write_mp4

    return write_mp4(tmp_path_factory.mktemp("clip") / "pair_clip.mp4", pair_frames(12))


def wait_job(c: Any, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll ``GET /v1/videos/{id}`` until the job has ended; its last state."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/v1/videos/{job_id}").json()
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")
