"""MoveNet's whole-image view: the previous full-graph TFLite file against hhpnet's backbone file +
numpy decoding (and ``trim``), interleaved in one process.

    .venv/bin/python benchmarks/ab_movenet.py --old OLD.tflite [--threads 1] [--blocks 15]

``OLD.tflite``: the previous shipped file, ``tools/convert_movenet.py --full --out OLD.tflite``
(byte-identical to it). Scenes: ``hhpnet.samples.make_scene`` with 1 and 6 people (640×480, the
``hhpnet bench`` scenes) and a 1280×720 frame of the pair photo. Prints the median time per
view of each variant over interleaved blocks and the ratio to the old file.
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np

from hhpnet.commands.demo import EXAMPLES_DIR
from hhpnet.detectors.movenet import MoveNetDetector, input_shape, render_top_left
from hhpnet.io import read_image
from hhpnet.samples import make_scene


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="the previous full-graph .tflite file")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--blocks", type=int, default=15)
    ap.add_argument("--per-block", type=int, default=10)
    args = ap.parse_args()
    from ai_edge_litert.interpreter import Interpreter

    old = Interpreter(model_path=args.old, num_threads=args.threads)
    old.allocate_tensors()
    inp, out = old.get_input_details()[0]["index"], old.get_output_details()[0]["index"]
    det = MoveNetDetector(num_threads=args.threads)
    pair = cv2.resize(read_image(EXAMPLES_DIR / "pair_640x480.jpg"), (1280, 960))[120:840]
    scenes = {
        "640×480, 1 person": cv2.cvtColor(make_scene(1), cv2.COLOR_BGR2RGB),
        "640×480, 6 people": cv2.cvtColor(make_scene(6), cv2.COLOR_BGR2RGB),
        "1280×720, 2 people": np.ascontiguousarray(pair),
    }
    print(f"threads {args.threads}, load average {os.getloadavg()[0]:.2f}")
    print("| scene | old file | backbone + numpy | × old | trim | × old |")
    print("|---|---|---|---|---|---|")
    for name, img in scenes.items():
        x = render_top_left(img)
        rows, cols = input_shape(img.shape[1], img.shape[0])

        def run_old(x: np.ndarray = x) -> None:
            old.set_tensor(inp, x[None].astype(np.int32))
            old.invoke()
            old.get_tensor(out)

        fns = {
            "old": run_old,
            "new": lambda x=x: det.infer(x),
            "trim": lambda x=x, r=rows, c=cols: det.infer(x[:r, :c]),
        }
        times: dict[str, list[float]] = {k: [] for k in fns}
        for fn in fns.values():
            fn()
        for _ in range(args.blocks):
            for k, fn in fns.items():
                t = time.perf_counter()
                for _ in range(args.per_block):
                    fn()
                times[k].append((time.perf_counter() - t) / args.per_block)
        med = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
        ratio = {k: float(np.median(np.array(times[k]) / np.array(times["old"]))) for k in times}
        print(
            f"| {name} | {med['old']:.2f} ms | {med['new']:.2f} ms | {ratio['new']:.2f} | "
            f"{med['trim']:.2f} ms ({rows}×{cols}) | {ratio['trim']:.2f} |"
        )


if __name__ == "__main__":
    main()
