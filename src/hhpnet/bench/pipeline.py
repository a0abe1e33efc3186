"""Whole-pipeline suites: image → detector → poses (→ drawing) per candidate, the command line,
and fresh-interpreter start-up times."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from hhpnet.bench.posenet import (
    get_model,
)
from hhpnet.bench.report import (
    Report,
)
from hhpnet.bench.timing import (
    Timing,
    fmt_time,
    measure,
    measure_interleaved,
)
from hhpnet.errors import InputError
from hhpnet.samples import (
    make_scene,
)

if TYPE_CHECKING:
    from hhpnet._types import U8
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.poses import Poses


# --------------------------------------------------------------------------- sections
def startup_times(repeats: int = 5) -> dict[str, Timing]:
    """Wall time of fresh interpreters: ``python -c pass``, ``import hhpnet``, ``hhpnet --help``."""
    exe = sys.executable
    cmds = {
        "python -c pass": [exe, "-c", "pass"],
        "python -c 'import hhpnet'": [exe, "-c", "import hhpnet"],
        "hhpnet --help": [exe, "-m", "hhpnet.cli", "--help"],
        "python -c 'import hhpnet.model'": [exe, "-c", "import hhpnet.model"],
    }
    script = Path(exe).with_name("hhpnet")
    if script.is_file():
        cmds["hhpnet --help"] = [str(script), "--help"]
    out: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            out[name].append(time.perf_counter() - t0)
    return {k: Timing(k, v) for k, v in out.items()}


# --------------------------------------------------------------------------- whole pipeline
@dataclass
class Candidate:
    """A head-pose pipeline on one RGB uint8 image, for side-by-side timing.

    ``analyze(rgb)`` runs everything after decoding and returns the number of faces given a pose;
    ``stages(rgb)`` returns one zero-argument closure per stage (in order) that re-runs that
    stage on this image with the previous stages' results precomputed.
    """

    name: str
    analyze: Callable[[U8], int]
    stages: Callable[[U8], dict[str, Callable[[], object]]] | None = None
    note: str = ""


def hhpnet_candidate(
    detector: str = "blazeface", model: str = "hhpnet-1.0", threads: int = 2
) -> tuple[Candidate, HeadPoseEstimator]:
    """Our pipeline (``HeadPoseEstimator``) as a :class:`Candidate`, and the estimator."""
    from hhpnet.pipeline import HeadPoseEstimator

    m, _ = get_model(model)
    est = HeadPoseEstimator(m, detector, num_threads=threads)

    def analyze(rgb: U8) -> int:
        return int(est(rgb, rgb=True).valid.sum())

    def stages(rgb: U8) -> dict[str, Callable[[], object]]:
        from hhpnet.detectors.fused import FusedDetector
        from hhpnet.detectors.movenet import COCO_HEAD

        det = est.detector
        if det is None:  # an estimator built with detector=None: no detector to time
            raise InputError("the pipeline suite needs an estimator with a detector")
        dets = det(rgb)
        size = (rgb.shape[1], rgb.shape[0])
        out: dict[str, Callable[[], object]] = {"detect": lambda: det(rgb)}
        if isinstance(det, FusedDetector):  # auto: each detector and the fusion apart
            faces = det.face(rgb)
            people = det.body.detect_coco(rgb)
            raw = people.keypoints[det.body.kept(people)][:, COCO_HEAD, :2]
            out["  BlazeFace"] = lambda: det.face(rgb)
            out["  MoveNet"] = lambda: det.body.detect_coco(rgb)
            out["  fusion (MoveNet's 5 points, merge)"] = lambda: det.merge(
                faces, det.body.to_detections(people), raw
            )
        out["pose (network + fusion of readings)"] = lambda: est.from_keypoints(
            dets, image_size=size
        )
        return out

    return Candidate(f"hhpnet + {detector}", analyze, stages), est


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _decode_and_run(analyze: Callable[[U8], int], jpeg: bytes) -> int:
    from hhpnet.io import read_image

    return analyze(read_image(jpeg))


def _draw_copy(annotate: Callable[[U8, Poses], U8], bgr: U8, poses: Poses) -> U8:
    return annotate(bgr.copy(), poses)


def pipeline_suite(
    report: Report,
    candidates: Sequence[Candidate],
    scenes: dict[int, U8],
    *,
    estimator: HeadPoseEstimator | None = None,
    repeats: int = 7,
    min_time: float = 0.1,
    out_dir: Path | None = None,
) -> None:
    """Per-image time of each candidate on each scene (interleaved), per stage, and the ratio to
    the first candidate; ``estimator`` (ours) also gets a row with drawing and JPEG writing."""
    import cv2

    from hhpnet.io import read_image

    report.heading("Whole pipeline per image")
    base = candidates[0].name
    rows = []
    stage_rows = []
    for n, bgr in scenes.items():
        jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
        rgb = read_image(jpeg)
        h, w = rgb.shape[:2]
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(out_dir / f"scene_{n}_people.jpg"), bgr)
        found = {c.name: c.analyze(rgb) for c in candidates}
        fns: dict[str, Callable[[], object]] = {
            c.name: partial(_decode_and_run, c.analyze, jpeg) for c in candidates
        }
        if estimator is not None:
            full_name = f"{base}, + draw + write JPEG"
            fns[full_name] = partial(_decode_pose_draw_encode, estimator, jpeg)
            found[full_name] = found[base]
            if out_dir is not None:
                _write_drawn(out_dir / f"scene_{n}_people_hhpnet.jpg", estimator, jpeg)
        res = measure_interleaved(fns, repeats=repeats, min_time=min_time)
        t_base = res[base].median
        for name, tm in res.items():
            k = max(found[name], 1)
            rows.append(
                [
                    f"{w}×{h}, {n} " + ("person" if n == 1 else "people"),
                    name,
                    f"{found[name]}/{n}",
                    tm.fmt(),
                    f"{1.0 / tm.median:.1f}",
                    fmt_time(tm.median / k),
                    f"{tm.median / t_base:.2f}",
                ]
            )
            report.data.setdefault("pipeline", []).append(
                {"people": n, "found": found[name], **tm.to_dict()}
            )
        # per stage (not interleaved; same machine state roughly)
        stage_rows += _stage_rows(candidates, n, jpeg, rgb, repeats, min_time / 2)
        if estimator is not None:
            stage_rows += _drawing_rows(estimator, base, n, rgb, bgr, repeats, min_time / 2)
    _pipeline_tables(report, base, rows, stage_rows)


def _imdecode(jpeg: bytes) -> U8:
    """The BGR image of JPEG bytes (OpenCV, as a user of the library would decode it)."""
    import cv2

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("not a decodable image")
    return cast("U8", img)


def _decode_pose_draw_encode(est: HeadPoseEstimator, jpeg: bytes) -> object:
    """The whole job on one JPEG: decode, poses, draw, encode."""
    import cv2

    from hhpnet.draw import annotate

    img = _imdecode(jpeg)
    poses = est(img)
    return cv2.imencode(".jpg", annotate(img, poses))[1]


def _write_drawn(path: Path, est: HeadPoseEstimator, jpeg: bytes) -> None:
    import cv2

    from hhpnet.draw import annotate

    img = _imdecode(jpeg)
    cv2.imwrite(str(path), annotate(img, est(img)))


def _stage_rows(
    candidates: Sequence[Candidate], n: int, jpeg: bytes, rgb: U8, repeats: int, min_time: float
) -> list[list[str]]:
    """Decoding and each candidate's stages, each re-run alone on the scene (``rgb``)."""
    from hhpnet.io import read_image

    dec = measure(partial(read_image, jpeg), repeats=repeats, min_time=min_time)
    rows = [[_people(n), "(all)", "decode JPEG → RGB", dec.fmt()]]
    for c in candidates:
        if c.stages is None:
            continue
        for sname, fn in c.stages(rgb).items():
            tm = measure(fn, repeats=repeats, min_time=min_time)
            rows.append([_people(n), c.name, sname, tm.fmt()])
    return rows


def _drawing_rows(
    estimator: HeadPoseEstimator,
    base: str,
    n: int,
    rgb: U8,
    bgr: U8,
    repeats: int,
    min_time: float,
) -> list[list[str]]:
    """Drawing the poses on the scene and encoding the drawing as JPEG."""
    import cv2

    from hhpnet.draw import annotate

    poses = estimator(rgb, rgb=True)
    drawn = annotate(bgr.copy(), poses)
    tm = measure(partial(_draw_copy, annotate, bgr, poses), repeats=repeats, min_time=min_time)
    rows = [[_people(n), base, "draw (annotate)", tm.fmt()]]
    tm = measure(partial(cv2.imencode, ".jpg", drawn), repeats=repeats, min_time=min_time)
    rows.append([_people(n), base, "write (JPEG encode)", tm.fmt()])
    return rows


def _pipeline_tables(
    report: Report, base: str, rows: list[list[str]], stage_rows: list[list[str]]
) -> None:
    report.text(
        "Decode (JPEG bytes in memory → RGB) + detection + landmarks/pose, per image; every "
        "pipeline timed interleaved in the same run. *faces* = faces given a pose / people in "
        f"the image. *× time of {base}*: > 1 means slower than ours."
    )
    report.table(
        [
            "image",
            "pipeline",
            "faces",
            "time / image",
            "images/s",
            "time / face",
            f"× time of {base}",
        ],
        rows,
    )
    report.text("Per stage (each stage re-run alone on the same image):")
    report.table(["image", "pipeline", "stage", "time [IQR]"], stage_rows)


# --------------------------------------------------------------------------- command line
def cli_suite(report: Report, *, n_images: int = 100, repeats: int = 3) -> None:
    """``hhpnet predict FOLDER`` on ``n_images`` 640×480 JPEGs (half 1-person, half 6-person),
    wall time of the whole command (start-up included), with and without writing outputs."""
    import shutil
    import tempfile

    import cv2

    exe = Path(sys.executable).with_name("hhpnet")
    base_cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "hhpnet.cli"]
    report.heading("Command line")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "images"
        folder.mkdir()
        scenes = [make_scene(1), make_scene(6)]
        for i in range(n_images):
            cv2.imwrite(
                str(folder / f"img{i:04d}.jpg"), scenes[i % 2], [cv2.IMWRITE_JPEG_QUALITY, 92]
            )
        model, trained = get_model("hhpnet-1.0")
        model_arg = "hhpnet-1.0" if trained else str(model.save(root / "random.safetensors"))
        variants = {
            "no output files": [],
            "--json": ["--json", str(root / "out.jsonl")],
            "--json --save-dir (annotated JPEGs)": [
                "--json",
                str(root / "out.jsonl"),
                "--save-dir",
                str(root / "annotated"),
            ],
        }
        rows = []
        for name, extra in variants.items():
            cmd = [*base_cmd, "predict", str(folder), "--model", model_arg, "--no-progress", *extra]
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                res = subprocess.run(cmd, capture_output=True, text=True, check=False)
                times.append(time.perf_counter() - t0)
                if res.returncode != 0:
                    report.text(f"`hhpnet predict` failed: {res.stderr.strip().splitlines()[-1:]}")
                    return
                shutil.rmtree(root / "annotated", ignore_errors=True)
            tm = Timing(name, times, items=n_images)
            rows.append([name, tm.fmt(), f"{tm.rate:.0f}"])
            report.data.setdefault("cli", []).append(tm.to_dict())
    report.text(
        f"`hhpnet predict FOLDER --no-progress` on {n_images} JPEGs of 640×480 (half with 1 "
        "person, half with 6), whole command including interpreter start-up and model "
        f"loading; median [IQR] of {repeats} runs."
    )
    report.table(["outputs", f"wall time, {n_images} images", "images/s"], rows)
