"""Where the tests find the real development data, and what happens when it is missing.

The real data (``aflw2000-dev-keypoints.csv``, ``aflw2000-dev-landmarks.npz``; non-commercial
research data, never copied into the repository) lives in ``../shared/data`` next to the
checkout. ``HHPNET_SHARED_DATA`` points elsewhere (the folder), ``HHPNET_DEV_KEYPOINTS`` at
another keypoints CSV.

Missing data is a **skip** with the reason on a user's machine, and a **failure** in CI
(``CI=true``, set by ``.ci/run``): CI has the data, so a missing folder there is a broken path,
not a reason for the real-data tests to read as green.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYPOINTS_CSV = "aflw2000-dev-keypoints.csv"
LANDMARKS_NPZ = "aflw2000-dev-landmarks.npz"


def shared_data_dir() -> Path:
    """The real-data folder: ``$HHPNET_SHARED_DATA``, else ``../shared/data`` of the checkout."""
    return Path(os.environ.get("HHPNET_SHARED_DATA") or ROOT.parent / "shared" / "data")


def in_ci() -> bool:
    """True when the suite runs in CI (``CI=true``, as CI services and ``.ci/run`` set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def dev_file(name: str) -> Path:
    """The path of a real development file; skips the test (fails it in CI) when absent."""
    if name == KEYPOINTS_CSV and os.environ.get("HHPNET_DEV_KEYPOINTS"):
        path = Path(os.environ["HHPNET_DEV_KEYPOINTS"])
    else:
        path = shared_data_dir() / name
    if path.is_file():
        return path
    reason = (
        f"real development data not found: {path} (expected in ../shared/data next to the "
        "checkout, or set HHPNET_SHARED_DATA)"
    )
    if in_ci():
        pytest.fail(f"{reason}; CI=true, and CI must have it", pytrace=False)
    pytest.skip(reason)
