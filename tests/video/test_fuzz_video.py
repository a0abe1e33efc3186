"""Property-based fuzzing of the video readers on mutated and truncated containers.

Seeds: small clips in five containers/codecs (MJPEG AVI, mp4v mp4, H.264 with B-frames in AVI and
mp4, MJPEG Matroska with odd timestamps). Hypothesis cuts them, flips, overwrites, inserts or
deletes bytes. Invariants, for every mutant:

* opening raises nothing but a one-line :class:`InputError`;
* reading yields BGR uint8 frames with consecutive indices and times that never go backwards,
  ends with None and at most a one-line ``error``, and never raises;
* ``process_video`` on it (blob detector + geometric model) returns a summary or raises
  ``InputError``; its CSV rows have non-decreasing ``time_s``.

The ``ci`` profile (default) runs a bounded number of mutants; ``make fuzz`` runs 10,000.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hhpnet.errors import InputError
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.video import open_source, process_video
from hhpnet.video.sinks import read_csv_rows
from tests.helpers.fakes import GeometricModel
from tests.helpers.video_fakes import BlobDetector, walking_scene, write_video

pytestmark = pytest.mark.fuzz

_DIR = Path(tempfile.mkdtemp(prefix="hhpnet-fuzz-video-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


def _examples(ci: int) -> int:
    """``ci`` examples in the ci profile, the profile's own count (≥ 10,000) under make fuzz."""
    n = settings.default.max_examples
    return n if n >= 1000 else ci


def _seeds() -> dict[str, bytes]:
    frames = walking_scene(8, 160, 120)
    out = {}
    out["mjpeg.avi"] = Path(write_video(str(_DIR / "s.avi"), frames, fourcc="MJPG")).read_bytes()
    out["mp4v.mp4"] = Path(write_video(str(_DIR / "s.mp4"), frames)).read_bytes()
    try:
        from tests.helpers.real_videos import make_clip

        for name in ("bframes_avi", "bframes_mp4", "backwards_mkv"):
            path, _ = make_clip(_DIR, name)
            out[Path(path).name] = Path(path).read_bytes()
    except pytest.skip.Exception:  # PyAV missing: the OpenCV-written seeds only
        pass
    return out


SEEDS = _seeds()


@st.composite
def mutants(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "flip", "overwrite", "insert", "delete"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=64))
            data[at : at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            del data[at : at + draw(st.integers(1, 256))]
    return name, bytes(data)


def _write(name: str, data: bytes) -> str:
    path = _DIR / f"m{Path(name).suffix}"
    path.write_bytes(data)
    return str(path)


def _one_line(msg: str | None) -> None:
    assert msg is None or (msg and "\n" not in msg), msg


@settings(
    max_examples=_examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_reading_a_mutated_video_never_raises_and_time_never_goes_back(mutant):
    path = _write(*mutant)
    try:
        reader = open_source(path)
    except InputError as exc:
        _one_line(str(exc))
        return
    prev_t, prev_i = -np.inf, -1
    with reader:
        for _ in range(200):
            frame = reader.read()
            if frame is None:
                break
            img = frame.image
            assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
            assert frame.index == prev_i + 1 and np.isfinite(frame.time_s)
            assert frame.time_s >= prev_t
            prev_t, prev_i = frame.time_s, frame.index
        else:
            pytest.fail("more than 200 frames from an 8–60 frame seed")
    _one_line(reader.error)


@settings(
    max_examples=_examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_process_video_on_a_mutated_video_returns_a_summary_or_one_line_error(mutant):
    path = _write(*mutant)
    csv = _DIR / "rows.csv"
    est = HeadPoseEstimator(model=GeometricModel(), detector=BlobDetector())
    try:
        s = process_video(path, est, progress=False, csv=csv, timeline_csv=_DIR / "t.csv")
    except InputError as exc:
        _one_line(str(exc))
        return
    _one_line(s.error)
    t = read_csv_rows(csv)["time_s"]
    assert np.all(np.diff(t) >= 0)
