"""Resume after a real SIGINT or SIGKILL of ``hhpnet video`` in its own process: the resumed
run's CSV, JSON Lines, Parquet and timeline files equal an uninterrupted run's, byte for byte
(Parquet: table equality). The kill lands wherever the process is when the CSV has reached a
given frame — in the middle of a write or between frames; also before any output exists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hhpnet.video.sinks import read_csv_rows
from tests.helpers.video_fakes import conversation_scene, write_video

DRIVER = str(Path(__file__).resolve().parents[1] / "helpers" / "cli_driver.py")
N = 60
FILES = ("p.csv", "p.jsonl", "t.csv", "t_people.csv")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    return write_video(str(tmp_path_factory.mktemp("sig") / "conv.mp4"), conversation_scene(N))


def command(clip: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        DRIVER,
        "video",
        clip,
        "--csv",
        str(out / "p.csv"),
        "--json",
        str(out / "p.jsonl"),
        "--parquet",
        str(out / "p.parquet"),
        "--timeline-csv",
        str(out / "t.csv"),
        "--no-progress",
        *extra,
    ]


def env(delay: float) -> dict[str, str]:
    return {**os.environ, "HHPNET_TEST_FRAME_DELAY": str(delay)}


@pytest.fixture(scope="module")
def reference(clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref")
    proc = subprocess.run(command(clip, out), env=env(0), capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def frames_written(path: Path) -> int:
    try:
        rows = read_csv_rows(path)
    except Exception:
        return -1
    return int(rows["frame"].max()) if rows["frame"].size else -1


def interrupt(clip: str, out: Path, sig: int, at_frame: int) -> int:
    proc = subprocess.Popen(
        command(clip, out), env=env(0.02), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while frames_written(out / "p.csv") < at_frame and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err, err
    return proc.returncode


def assert_same(out: Path, ref: Path) -> None:
    import pyarrow.parquet as pq

    for name in FILES:
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    assert pq.read_table(out / "p.parquet").equals(pq.read_table(ref / "p.parquet"))


@pytest.mark.parametrize(
    "sig, at_frame",
    [(signal.SIGINT, 20), (signal.SIGKILL, 33), (signal.SIGKILL, -1)],
    ids=["sigint-20", "sigkill-33", "sigkill-at-start"],
)
def test_resume_after_a_signal_equals_an_uninterrupted_run(
    clip, reference, tmp_path, sig, at_frame
):
    pytest.importorskip("pyarrow")
    code = interrupt(clip, tmp_path, sig, at_frame)
    assert code in ((130, -signal.SIGINT) if sig == signal.SIGINT else (-signal.SIGKILL,))
    done = subprocess.run(
        command(clip, tmp_path, "--resume"), env=env(0), capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert_same(tmp_path, reference)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_resume_after_signals_at_many_points(clip, reference, tmp_path, sig):
    pytest.importorskip("pyarrow")
    for at in range(-1, N, 4):
        out = tmp_path / f"{sig}-{at}"
        out.mkdir()
        interrupt(clip, out, sig, at)
        interrupt(clip, out, sig, at + 2)  # and killed again while resuming
        done = subprocess.run(
            command(clip, out, "--resume"), env=env(0), capture_output=True, timeout=300
        )
        assert done.returncode == 0, (at, done.stderr)
        assert_same(out, reference)
