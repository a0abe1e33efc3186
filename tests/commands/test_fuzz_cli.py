"""Property-based fuzzing of the command line: random argument lists for ``predict``,
``interact`` and ``video`` (and ``--help``/``--version`` anywhere) through the console-script
entry point, with the real models and detectors.

Vocabulary: the commands' real options plus misspelt ones, values that are fine, out of range,
NaN/inf, huge, negative, empty or not numbers, paths that exist, are missing, are folders or lie
under a file, real and broken images and videos, a webcam index and a closed stream port.
Invariants: the exit code is one of the documented ones (0, 1, 2; docs/errors.md), stderr holds
no traceback, and every ``hhpnet: error:`` message is one line.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hhpnet.cli import main
from tests.helpers.fakes import random_model_file
from tests.helpers.video_fakes import walking_scene, write_video

pytestmark = pytest.mark.fuzz

_DIR = Path(tempfile.mkdtemp(prefix="hhpnet-fuzz-cli-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_IN = _DIR / "in"
_IN.mkdir()


def _examples(ci: int) -> int:
    n = settings.default.max_examples
    return n if n >= 1000 else ci


def _inputs() -> dict[str, str]:
    frames = walking_scene(4, 160, 120)
    cv2.imwrite(str(_IN / "a.png"), frames[0])
    (_IN / "bad.jpg").write_bytes(b"\xff\xd8\xff not really")
    clip = write_video(str(_IN / "clip.avi"), frames, fourcc="MJPG")
    data = Path(clip).read_bytes()
    (_IN / "cut.avi").write_bytes(data[: len(data) // 2])
    (_IN / "afile").write_text("x")
    (_IN / "imgs").mkdir()
    cv2.imwrite(str(_IN / "imgs" / "0.png"), frames[1])
    return {
        "image": str(_IN / "a.png"),
        "bad_image": str(_IN / "bad.jpg"),
        "clip": clip,
        "cut": str(_IN / "cut.avi"),
        "folder": str(_IN / "imgs"),
        "glob": str(_IN / "imgs" / "*.png"),
        "model": random_model_file(_IN / "tiny.safetensors"),
    }


PATHS = _inputs()

SOURCES = [
    PATHS["image"],
    PATHS["bad_image"],
    PATHS["clip"],
    PATHS["cut"],
    PATHS["folder"],
    PATHS["glob"],
    str(_IN / "missing.jpg"),
    str(_IN / "nothing*.png"),
    "9",
    "rtsp://127.0.0.1:9/none",
    "",
]
NUMBERS = ["0", "1", "2", "-1", "-5", "0.5", "nan", "inf", "-inf", "1e308", "abc", "", "3e-320"]
OUT_FILES = ["{out}/o.csv", "{out}/o.jsonl", "{out}", f"{_IN}/afile/x.csv", f"{_IN}/afile", ""]
OUT_DIRS = ["{out}/vis", "{out}", f"{_IN}/afile", f"{_IN}/afile/d"]
NAMES = ["hhpnet-0.2", PATHS["model"], "nope", str(_IN / "missing.safetensors"), ""]

COMMON = {
    "--model": NAMES,
    "--detector": ["blazeface", "blazepose", "nope", ""],
    "--kpt-thr": NUMBERS,
    "--json": OUT_FILES,
    "--csv": OUT_FILES,
    "--progress": None,
    "--no-progress": None,
    "--bogus": None,
    "-x": NUMBERS,
}
OPTIONS = {
    "predict": {
        **COMMON,
        "--save-dir": OUT_DIRS,
        "--tile": None,
        "--layout": ["coco17", "hhpnet5", "nope"],
        "--keypoints": [PATHS["image"], str(_IN / "missing.npy")],
    },
    "interact": {
        **COMMON,
        "--save-dir": OUT_DIRS,
        "--method": ["hhpnet", "paper", "paper-v1", "laeo"],
        "--threshold": NUMBERS,
        "--param": ["fov_deg=70", "fov_deg=abc", "depth=none", "x=1", "converge_range=1", "=", "a"],
        "--no-heatmap": None,
    },
    "video": {
        **COMMON,
        "--parquet": OUT_FILES,
        "--save-video": ["{out}/a.mp4", *OUT_FILES],
        "--timeline-csv": OUT_FILES,
        "--timeline-png": ["{out}/t.png", *OUT_FILES],
        "--stride": NUMBERS,
        "--max-frames": NUMBERS,
        "--start": NUMBERS,
        "--end": NUMBERS,
        "--fps": NUMBERS,
        "--smooth-accel": NUMBERS,
        "--method": ["hhpnet", "paper", "laeo"],
        "--resume": None,
        "--no-interact": None,
        "--no-show": None,
    },
}


@st.composite
def command_lines(draw) -> list[str]:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from([["--version"], ["--help"], [], ["nope"]]))
    cmd = draw(st.sampled_from(sorted(OPTIONS)))
    args = [cmd]
    pieces: list[list[str]] = []
    for _ in range(draw(st.integers(0, 3))):
        pieces.append([draw(st.sampled_from(SOURCES))])
    for _ in range(draw(st.integers(0, 5))):
        opt = draw(st.sampled_from(sorted(OPTIONS[cmd])))
        values = OPTIONS[cmd][opt]
        if values is None:
            pieces.append([opt])
        elif draw(st.booleans()):
            pieces.append([opt, draw(st.sampled_from(values))])
        else:
            pieces.append([f"{opt}={draw(st.sampled_from(values))}"])
    if draw(st.integers(0, 10)) == 0:
        pieces.append([draw(st.sampled_from(["--help", "--", "-", "--version"]))])
    order = draw(st.permutations(range(len(pieces))))
    for k in order:
        args.extend(pieces[k])
    if cmd == "video" and "--max-frames" not in args:
        args += ["--max-frames", "3"]  # keep each example short
    return args


@settings(
    max_examples=_examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(args=command_lines())
def test_random_command_lines_give_documented_exit_codes_and_no_traceback(args, capfd):
    out = _DIR / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    argv = [a.replace("{out}", str(out)) for a in args]
    old_argv, old_cwd = sys.argv, os.getcwd()
    sys.argv = ["hhpnet", *argv]
    os.chdir(out)
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    err = capfd.readouterr().err
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    for line in err.splitlines():
        if line.startswith("hhpnet: error:"):
            assert len(line) > len("hhpnet: error: "), (argv, err)
