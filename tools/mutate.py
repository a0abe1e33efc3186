"""Mutation check of the test suite (``make mutate``): plant plausible bugs one at a time and see
whether the tests catch each.

Every entry of :data:`MUTATIONS` replaces one short snippet of a source file (which must occur
exactly once: an entry that no longer applies is an error, so the list stays in sync with the
code) and names the tests that should catch it. The mutations are applied to a **copy** of the
working tree in a temporary folder, never to the tree itself; the copy's ``src`` comes first on
``PYTHONPATH``, so it is what the tests (and the subprocesses they start) import, ahead of the
editable install. For each mutation::

    pytest -x -m "not slow" -p no:cacheprovider <its tests>

runs in the copy (``-q`` comes from the project's pytest options); the mutation is *caught*
when the tests fail (exit code 1, or 2: the mutated module does not even import). The unmutated
copy is run first on the union of the tests: it must pass, or nothing can be concluded. The
report lists caught / survived per mutation and the share caught; the exit code is non-zero
below ``--min-caught`` (default 95 %) or on an error.

Usage::

    python tools/mutate.py            # all mutations
    python tools/mutate.py --list     # list them
    python tools/mutate.py -k fusion  # those whose name contains "fusion"
    python tools/mutate.py -j 2       # two at a time (two copies of the tree)

How to add a mutation when you add a module: docs/testing.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` (exactly one occurrence in ``file``) by ``new``; ``tests`` should fail."""

    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


E2E = "tests/test_e2e_readings.py"
E2E_AUTO = (
    f"{E2E}::test_reading_follows_the_rendered_pose[auto]",
    f"{E2E}::test_auto_fuses_both_readings_of_each_head",
)
REAL = "tests/test_real_accuracy.py"
FRAMES = ("tests/video/test_frame_times.py", "tests/video/test_video.py")
BATCH = "tests/commands/test_batch.py"

MUTATIONS: list[Mutation] = [
    # ------------------------------------------------------------------ model
    Mutation(
        "model: pitch 0.3° too high (a model 0.3° worse)",
        "src/hhpnet/model.py",
        "out64[:, 1] = raw[:, 2]",
        "out64[:, 1] = raw[:, 2] + 0.3",
        (REAL,),
    ),
    Mutation(
        "model: σ calibration not applied in the batch path",
        "src/hhpnet/model.py",
        "np.multiply(self.sigma_calibration64, sigma_of(raw[:, 1::2]), out=out64[:, 3:])",
        "np.multiply(1.0, sigma_of(raw[:, 1::2]), out=out64[:, 3:])",
        ("tests/test_model.py", REAL),
    ),
    Mutation(
        "model: leaky-ReLU slope 0.2 instead of 0.1",
        "src/hhpnet/model.py",
        "LEAK = 0.1",
        "LEAK = 0.2",
        ("tests/test_model.py", REAL),
    ),
    # ------------------------------------------------------------------ keypoints
    Mutation(
        "keypoints: the centroid not subtracted before scaling",
        "src/hhpnet/keypoints.py",
        "d = v - total / np.maximum(count, 1)",
        "d = v - 0.0 * total",
        ("tests/test_keypoints.py", "tests/test_model.py"),
    ),
    Mutation(
        "keypoints: BlazeFace's far side flagged on the near side",
        "src/hhpnet/keypoints.py",
        "left_far = t > 0",
        "left_far = t < 0",
        ("tests/test_keypoints.py", REAL),
    ),
    Mutation(
        "keypoints: mirroring keeps left and right",
        "src/hhpnet/keypoints.py",
        "FLIP_PERMUTATION = np.array([0, 2, 1, 4, 3])",
        "FLIP_PERMUTATION = np.array([0, 1, 2, 3, 4])",
        ("tests/test_keypoints.py", "tests/test_fuzz_core.py"),
    ),
    # ------------------------------------------------------------------ adapters
    Mutation(
        "adapters: COCO-17 eyes swapped",
        "src/hhpnet/adapters.py",
        'Layout("coco17", 17, (0, 1, 2, 3, 4)',
        'Layout("coco17", 17, (0, 2, 1, 3, 4)',
        ("tests/test_adapters.py", REAL),
    ),
    Mutation(
        "adapters: OpenPose BODY_25 eyes swapped",
        "src/hhpnet/adapters.py",
        "(0, 16, 15, 18, 17)",
        "(0, 15, 16, 18, 17)",
        ("tests/test_adapters.py",),
    ),
    Mutation(
        "adapters: BlazePose-33 ears swapped",
        "src/hhpnet/adapters.py",
        "(0, 2, 5, 7, 8),",
        "(0, 2, 5, 8, 7),",
        ("tests/test_adapters.py",),
    ),
    # ------------------------------------------------------------------ detectors (end to end)
    Mutation(
        "blazeface: eyes swapped in the keypoint mapping",
        "src/hhpnet/detectors/blazeface.py",
        "BLAZEFACE_TO_HHPNET = np.array([2, 1, 0, 5, 4])",
        "BLAZEFACE_TO_HHPNET = np.array([2, 0, 1, 5, 4])",
        (E2E,),
    ),
    Mutation(
        "blazeface: eyes swapped, seen through auto only",
        "src/hhpnet/detectors/blazeface.py",
        "BLAZEFACE_TO_HHPNET = np.array([2, 1, 0, 5, 4])",
        "BLAZEFACE_TO_HHPNET = np.array([2, 0, 1, 5, 4])",
        E2E_AUTO,
    ),
    Mutation(
        "blazeface: ears swapped in the keypoint mapping",
        "src/hhpnet/detectors/blazeface.py",
        "BLAZEFACE_TO_HHPNET = np.array([2, 1, 0, 5, 4])",
        "BLAZEFACE_TO_HHPNET = np.array([2, 1, 0, 4, 5])",
        (E2E,),
    ),
    Mutation(
        "detectors: SSD keypoint offsets subtracted (sign flip)",
        "src/hhpnet/detectors/base.py",
        "reshape(-1, num_keypoints, 2) + a[:, None, :]",
        "reshape(-1, num_keypoints, 2) * -1.0 + a[:, None, :]",
        (E2E,),
    ),
    Mutation(
        "movenet: eyes swapped in the keypoint mapping",
        "src/hhpnet/detectors/movenet.py",
        "COCO_HEAD = np.array([0, 1, 2, 3, 4])",
        "COCO_HEAD = np.array([0, 2, 1, 3, 4])",
        (E2E,),
    ),
    Mutation(
        "movenet: ears swapped in the keypoint mapping",
        "src/hhpnet/detectors/movenet.py",
        "COCO_HEAD = np.array([0, 1, 2, 3, 4])",
        "COCO_HEAD = np.array([0, 1, 2, 4, 3])",
        (E2E,),
    ),
    Mutation(
        "movenet: x mirrored when decoding (sign flip)",
        "src/hhpnet/detectors/movenet.py",
        "yx = kp[..., :2] * view.size",
        "yx = (kp[..., :2] * [1.0, -1.0] + [0.0, 1.0]) * view.size",
        (E2E,),
    ),
    Mutation(
        "movenet: x and y swapped when decoding",
        "src/hhpnet/detectors/movenet.py",
        "xy = view.to_image(yx[..., ::-1])",
        "xy = view.to_image(yx)",
        (E2E,),
    ),
    Mutation(
        "fused: BlazeFace's eyes swapped when attached to MoveNet's person",
        "src/hhpnet/detectors/fused.py",
        "alt[k] = other.keypoints[o]",
        "alt[k] = other.keypoints[o][[0, 2, 1, 3, 4]]",
        E2E_AUTO,
    ),
    Mutation(
        "fused: the two detectors' heads hardly ever match",
        "src/hhpnet/detectors/fused.py",
        "MATCH_THRESHOLD = 0.5",
        "MATCH_THRESHOLD = 0.005",
        E2E_AUTO,
    ),
    # ------------------------------------------------------------------ fusion, pipeline
    Mutation(
        "fusion: ERROR_CORRELATION = (0, 0, 0)",
        "src/hhpnet/fusion.py",
        "ERROR_CORRELATION: tuple[float, float, float] = (0.33, 0.41, 0.42)",
        "ERROR_CORRELATION: tuple[float, float, float] = (0.0, 0.0, 0.0)",
        ("tests/test_fusion.py",),
    ),
    Mutation(
        "fusion: yaw readings combined off the circle",
        "src/hhpnet/fusion.py",
        "d[..., 0] = wrap_degrees(d[..., 0])",
        "pass",
        ("tests/test_fusion.py",),
    ),
    Mutation(
        "fusion: negative weights allowed (the BLUE extrapolates past the better reading)",
        "src/hhpnet/fusion.py",
        "better = (w >= 0).all(axis=-1) & (total > 0) & (var < best_var[rows])",
        "better = (total > 0) & (var < best_var[rows])",
        ("tests/test_fusion.py",),
    ),
    Mutation(
        "pipeline: the batch's σ handed to the slots in reverse order",
        "src/hhpnet/pipeline.py",
        "sigma[j, rows] = sig[start : start + len(rows)]",
        "sigma[j, rows] = sig[::-1][start : start + len(rows)]",
        ("tests/test_fusion.py", "tests/test_pipeline.py"),
    ),
    Mutation(
        "pipeline: centroid averaged over all five points, missing ones too",
        "src/hhpnet/poses.py",
        "c = total / count[:, None]",
        "c = total / 5.0",
        ("tests/test_pipeline.py", "tests/test_interaction.py", "tests/test_fuzz_core.py"),
    ),
    # ------------------------------------------------------------------ face mesh
    Mutation(
        "mesh: de-rotation by the eye line turned the wrong way",
        "src/hhpnet/mesh_model.py",
        "rot = angles_to_matrix(0.0, 0.0, theta[rows]) @ angles_to_matrix(*ang.T)",
        "rot = angles_to_matrix(0.0, 0.0, -theta[rows]) @ angles_to_matrix(*ang.T)",
        (f"{E2E}::test_reading_follows_the_rendered_pose[facemesh]", REAL),
    ),
    Mutation(
        "mesh: the face mesh read in MoveNet's head box of a merged person",
        "src/hhpnet/detectors/fused.py",
        "alt_boxes[k] = other.boxes[o]",
        "alt_boxes[k] = keep.boxes[k]",
        (REAL, f"{E2E}::test_reading_follows_the_rendered_pose[auto]"),
    ),
    Mutation(
        "mesh: the mirror image's mesh reading not mapped back to the photo",
        "src/hhpnet/pipeline.py",
        "meshes.append((names, a, s, True))",
        "meshes.append((names, a, s, False))",
        (f"{E2E}::test_reading_follows_the_rendered_pose[precise]", REAL),
    ),
    Mutation(
        "mesh: the mirror image's mesh of another person of the mirror image",
        "src/hhpnet/mirror.py",
        "index[rows] = cols",
        "index[rows] = cols[::-1]",
        ("tests/test_mirror.py", REAL),
    ),
    Mutation(
        "mesh fusion: mesh–BlazeFace error correlation unmeasured (a misspelt pair)",
        "src/hhpnet/fusion.py",
        '("blazeface", "facemesh"): (',
        '("blazeface", "face_mesh"): (',
        (REAL, "tests/test_fusion.py"),
    ),
    Mutation(
        "mesh fusion: a mesh reading kept when its mirror twin was gated out",
        "src/hhpnet/fusion.py",
        'PAIRED: tuple[tuple[str, str], ...] = (("facemesh", "facemesh_mirror"),)',
        "PAIRED: tuple[tuple[str, str], ...] = ()",
        ("tests/test_mirror.py", "tests/test_fusion.py"),
    ),
    Mutation(
        "mesh: presence gate inverted (the mesh read where it sees no face)",
        "src/hhpnet/mesh_reading.py",
        "seen = np.asarray(mesh.presence, np.float32).reshape(-1) >= MIN_PRESENCE",
        "seen = np.asarray(mesh.presence, np.float32).reshape(-1) < MIN_PRESENCE",
        (f"{E2E}::test_reading_follows_the_rendered_pose[facemesh]", "tests/test_mesh_reading.py"),
    ),
    # ------------------------------------------------------------------ interaction
    Mutation(
        "interaction: head radius dropped from the score",
        "src/hhpnet/interaction/scores.py",
        "radius = np.rad2deg(np.arctan2(p.head_radius_mm, dist))",
        "radius = 0.0 * dist",
        ("tests/test_interaction.py",),
    ),
    Mutation(
        "interaction: head radius seen from a fixed 1 m",
        "src/hhpnet/interaction/scores.py",
        "radius = np.rad2deg(np.arctan2(p.head_radius_mm, dist))",
        "radius = np.rad2deg(np.arctan2(p.head_radius_mm, 1000.0 + 0.0 * dist))",
        ("tests/test_interaction.py",),
    ),
    Mutation(
        "interaction: pitch σ not foreshortened by cos(yaw)",
        "src/hhpnet/interaction/scores.py",
        "sp = np.where(np.isnan(sigma[:, 1]), np.inf, sigma[:, 1]) * np.abs(np.cos(psi))",
        "sp = np.where(np.isnan(sigma[:, 1]), np.inf, sigma[:, 1])",
        ("tests/test_interaction.py",),
    ),
    Mutation(
        "interaction: the matrix is one-way attention (not symmetric)",
        "src/hhpnet/interaction/scores.py",
        "matrix = np.sqrt(att * att.T)",
        "matrix = att",
        ("tests/test_interaction.py",),
    ),
    Mutation(
        "interaction (paper): LAEO not averaged over both directions",
        "src/hhpnet/interaction/paper.py",
        "laeo = (m + m.T) / 2.0",
        "laeo = m",
        ("tests/test_interaction.py",),
    ),
    # ------------------------------------------------------------------ video
    Mutation(
        "readers: generator/iterable frame time (k + 1) / fps",
        "src/hhpnet/video/readers.py",
        "return Frame(k, k / (self.fps or DEFAULT_FPS), arr)",
        "return Frame(k, (k + 1) / (self.fps or DEFAULT_FPS), arr)",
        FRAMES,
    ),
    Mutation(
        "readers: generator/iterable grab time (k + 1) / fps",
        "src/hhpnet/video/readers.py",
        "k = self.next_index - 1\n        return k, k / (self.fps or DEFAULT_FPS)",
        "k = self.next_index - 1\n        return k, (k + 1) / (self.fps or DEFAULT_FPS)",
        FRAMES,
    ),
    Mutation(
        "readers: image sequence frame time (k + 1) / fps",
        "src/hhpnet/video/readers.py",
        "return Frame(k, k / (self.fps or DEFAULT_FPS), bgr_to_rgb(rgb))",
        "return Frame(k, (k + 1) / (self.fps or DEFAULT_FPS), bgr_to_rgb(rgb))",
        FRAMES,
    ),
    Mutation(
        "readers: webcam time = k / fps instead of the wall clock",
        "src/hhpnet/video/readers.py",
        "self._current = (self.next_index, now - self._t0)",
        "self._current = (self.next_index, self.next_index / (self.fps or DEFAULT_FPS))",
        FRAMES,
    ),
    Mutation(
        "readers: a frame without timestamp keeps the previous time",
        "src/hhpnet/video/readers.py",
        "elif not ok:\n            t = self.prev + self.step",
        "elif not ok:\n            t = self.prev",
        ("tests/video/test_video_resume.py", *FRAMES),
    ),
    Mutation(
        "smoothing: measurement variance σ instead of σ²",
        "src/hhpnet/video/smoothing.py",
        "s = p[..., 0, 0] + r_sig**2",
        "s = p[..., 0, 0] + r_sig",
        ("tests/video/test_smoothing.py",),
    ),
    Mutation(
        "smoothing: process noise q·dt³/2 instead of q·dt³/3",
        "src/hhpnet/video/smoothing.py",
        "q * dt**3 / 3",
        "q * dt**3 / 2",
        ("tests/video/test_smoothing.py",),
    ),
    Mutation(
        "tracking: forbidden pairs matched anyway",
        "src/hhpnet/video/tracking.py",
        "if cost[r, c] >= _BIG:",
        "if cost[r, c] > 2 * _BIG:",
        ("tests/video/test_tracking.py",),
    ),
    Mutation(
        "tracking: tracks not moved by their velocity",
        "src/hhpnet/video/tracking.py",
        "return self.box + self.velocity * dt",
        "return self.box + 0.0 * dt",
        ("tests/video/test_tracking.py",),
    ),
    Mutation(
        "sinks: −inf written as inf",
        "src/hhpnet/video/sinks.py",
        'return "inf" if v > 0 else "-inf"',
        'return "inf"',
        ("tests/video/test_sinks.py", "tests/video/test_video.py"),
    ),
    Mutation(
        "sinks: commas kept in text cells",
        "src/hhpnet/columns.py",
        'text.replace(",", ";")',
        "text",
        ("tests/video/test_sinks.py", "tests/video/test_video.py"),
    ),
    # ------------------------------------------------------------------ batch
    Mutation(
        "batch: mutual and one-way gaze totals swapped",
        "src/hhpnet/batch/worker.py",
        'mutual = [float(iv.duration_s) for iv in timeline.intervals if iv.kind == "mutual"]',
        'mutual = [float(iv.duration_s) for iv in timeline.intervals if iv.kind != "mutual"]',
        (f"{BATCH}::test_gaze_totals_sum_the_timeline_intervals",),
    ),
    Mutation(
        "batch: a second input of the same name overwrites the first's folder",
        "src/hhpnet/batch/inputs.py",
        "taken[name] = inp.source\n        names[inp.source] = name",
        "names[inp.source] = name",
        (f"{BATCH}::test_names_are_unique_and_stable",),
    ),
    # ------------------------------------------------------------------ training
    Mutation(
        "train: σ calibration multipliers in reverse angle order",
        "src/hhpnet/training/train.py",
        "float(np.quantile(ratio[:, i], ONE_SIGMA))",
        "float(np.quantile(ratio[:, 2 - i], ONE_SIGMA))",
        (
            "tests/training/test_train.py::test_tiny_training_learns_is_reproducible_and_writes_metadata",
        ),
    ),
]


# --------------------------------------------------------------------------- machinery
def check_snippets(mutations: Sequence[Mutation], root: Path) -> list[str]:
    """One line per mutation that does not apply: its snippet is absent or not unique."""
    errors = []
    for m in mutations:
        path = root / m.file
        text = path.read_text(encoding="utf-8") if path.is_file() else None
        count = 0 if text is None else text.count(m.old)
        if count != 1:
            where = "file missing" if text is None else f"found {count}×"
            errors.append(f"{m.name}: snippet of {m.file} must occur once ({where}): {m.old!r}")
        elif m.old == m.new:
            errors.append(f"{m.name}: the new snippet equals the old one")
        for t in m.tests:
            if not (root / t.split("::")[0]).exists():
                errors.append(f"{m.name}: test path {t} does not exist")
    return errors


def copy_tree(dest: Path) -> None:
    """The working tree's files (tracked and untracked, not ignored) as they are now."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for rel in filter(None, out.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def environment(copy: Path) -> dict[str, str]:
    """The copy's ``src`` first on the path, no bytecode (a mutated file keeps its size and
    could otherwise be served from a stale cache), the real data where the tests look for it."""
    from tests.helpers.realdata import shared_data_dir

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy / "src"), str(copy)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["HHPNET_SHARED_DATA"] = str(shared_data_dir())
    env.setdefault("HYPOTHESIS_SEED", "0")  # the same examples for every mutation
    return env


def run_tests(copy: Path, tests: Sequence[str], timeout: float) -> tuple[int, float, str]:
    # (-q is in the project's addopts already: once more would hide the summary line)
    cmd = [sys.executable, "-m", "pytest", "-x", "-m", "not slow", "-p", "no:cacheprovider"]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [*cmd, *tests],
            cwd=copy,
            env=environment(copy),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - t0, "timed out"
    lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    tail = next((ln for ln in reversed(lines) if " in " in ln and "seed" not in ln), "")
    failed = next((ln.split(" - ")[0] for ln in lines if ln.startswith(("FAILED", "ERROR"))), "")
    return proc.returncode, time.monotonic() - t0, f"{tail} {failed}".strip()


@dataclass
class Outcome:
    mutation: Mutation
    verdict: str  # "caught", "survived", "error"
    seconds: float
    detail: str


def run_one(m: Mutation, copy: Path, timeout: float) -> Outcome:
    path = copy / m.file
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace(m.old, m.new, 1), encoding="utf-8")
        rc, seconds, tail = run_tests(copy, m.tests, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    verdict = {0: "survived", 1: "caught", 2: "caught"}.get(rc, "error")
    detail = tail if rc != 2 else "collection error (the mutant does not import)"
    return Outcome(m, verdict, seconds, detail if rc >= 0 else "timed out")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", default="", help="only mutations whose name contains this text")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="mutations run at once (copies)")
    ap.add_argument("--list", action="store_true", help="list the mutations and exit")
    ap.add_argument("--min-caught", type=float, default=0.95, help="required share caught")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per test run")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    args = ap.parse_args(argv)
    chosen = [m for m in MUTATIONS if args.k.lower() in m.name.lower()]
    if args.list:
        for i, m in enumerate(chosen, 1):
            print(f"{i:2d}. {m.name}  [{m.file}]  → {' '.join(m.tests)}")
        return 0
    errors = check_snippets(MUTATIONS, ROOT)
    if errors:
        print("mutations out of sync with the code:", *errors, sep="\n  ", file=sys.stderr)
        return 2
    if not chosen:
        print(f"no mutation matches {args.k!r}", file=sys.stderr)
        return 2
    jobs = max(1, min(args.jobs, len(chosen)))
    with tempfile.TemporaryDirectory(prefix="hhpnet-mutate-") as tmp:
        copies = [Path(tmp) / f"tree{i}" for i in range(jobs)]
        for c in copies:
            copy_tree(c)
        probe = subprocess.run(
            [sys.executable, "-c", "import hhpnet; print(hhpnet.__file__)"],
            cwd=copies[0],
            env=environment(copies[0]),
            capture_output=True,
            text=True,
        )
        if not probe.stdout.strip().startswith(str(copies[0])):
            print(f"the copy's hhpnet is not the one imported: {probe.stdout}", file=sys.stderr)
            return 2
        if not args.no_baseline:
            union = list(dict.fromkeys(t for m in chosen for t in m.tests))
            rc, seconds, tail = run_tests(copies[0], union, args.timeout)
            print(f"baseline (no mutation, {len(union)} test paths): {tail} [{seconds:.0f} s]")
            if rc != 0:
                print("the unmutated tree fails its tests: fix that first", file=sys.stderr)
                return 2
        outcomes = _run_all(chosen, copies, args.timeout)
    return report(outcomes, args.min_caught)


def _run_all(chosen: list[Mutation], copies: list[Path], timeout: float) -> list[Outcome]:
    free = list(copies)

    def work(m: Mutation) -> Outcome:
        copy = free.pop()
        try:
            out = run_one(m, copy, timeout)
        finally:
            free.append(copy)
        print(f"{out.verdict:8s} {m.name}  [{out.seconds:.0f} s] {out.detail}", flush=True)
        return out

    with ThreadPoolExecutor(max_workers=len(copies)) as pool:
        return list(pool.map(work, chosen))


def report(outcomes: list[Outcome], min_caught: float) -> int:
    caught = sum(o.verdict == "caught" for o in outcomes)
    errors = [o for o in outcomes if o.verdict == "error"]
    share = caught / len(outcomes)
    print(f"\n{caught} of {len(outcomes)} mutations caught ({100 * share:.1f} %)")
    for o in outcomes:
        if o.verdict != "caught":
            print(f"  {o.verdict.upper()}: {o.mutation.name} ({o.mutation.file}) {o.detail}")
    if errors:
        return 2
    return 0 if share >= min_caught else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
