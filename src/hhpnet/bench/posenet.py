"""The pose-network suite: numpy, onnxruntime and torch evaluations of the shipped models (or
random weights of the same shapes), memory of a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from hhpnet.bench.machine import (
    MachineInfo,
    peak_gflops,
    pose_macs,
)
from hhpnet.bench.report import (
    Report,
)
from hhpnet.bench.timing import (
    Timing,
    fmt_time,
    measure_interleaved,
)
from hhpnet.samples import (
    synthetic_model,
)

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

    from hhpnet._types import F32
    from hhpnet.model import HeadPoseModel


def get_model(name: str) -> tuple[HeadPoseModel, bool]:
    """``(model, trained)``: the shipped model, or random weights of the same shape if absent."""
    from hhpnet.errors import InputError
    from hhpnet.model import load_model

    try:
        return load_model(name), True
    except InputError:
        return synthetic_model(float(name.rsplit("-", 1)[-1])), False


def _torch_net(model: HeadPoseModel, threads: int) -> Callable[[F32], F32] | None:
    """The torch module of :mod:`hhpnet.training.nn` with ``model``'s weights (None: no torch)."""
    try:
        import torch

        from hhpnet.training.nn import HHPNet
    except ImportError:
        return None
    torch.set_num_threads(threads)
    net = HHPNet(model.alpha, model.c_mean, model.c_std, scale=1.0)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.tensors.items()})
    net.eval()

    def run(x: F32) -> F32:
        with torch.inference_mode():
            out: F32 = net(torch.from_numpy(x)).numpy()
            return out

    return run


def _rss_probe(code: str, prelude: str = "") -> float | None:
    """Peak RSS (MiB) added by ``code`` in a fresh interpreter, after numpy and ``prelude``.

    Uses ``VmHWM`` of /proc/self/status, reset with /proc/self/clear_refs after the prelude
    (``ru_maxrss`` would carry the parent's peak over ``exec``). None where unsupported.
    """
    script = (
        "import numpy\n" + prelude + "\ndef _kib(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key):\n"
        "            return int(line.split()[1])\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "_r0 = _kib('VmRSS')\n" + code + "\nprint((_kib('VmHWM') - _r0) / 1024)"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    try:
        out = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError, OSError):
        return None


def posenet_suite(
    report: Report,
    info: MachineInfo,
    *,
    names: Sequence[str] = ("hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2"),
    batches: Sequence[int] = (1, 64, 4096),
    threads: int = 1,
    repeats: int = 7,
    min_time: float = 0.05,
) -> None:
    """Latency / throughput of the pose network per backend, size, memory and GFLOP/s."""
    peak, _ = peak_gflops(info)
    report.heading("Pose network alone")
    report.text(
        f"One process, {threads} thread(s) for every backend (BLAS/OpenMP variables, onnxruntime "
        "intra-op threads, torch.set_num_threads). Inputs: realistic face keypoints (a generic "
        "head projected at random poses, sizes and positions). *predict* = the full numpy API "
        "call (validation, normalisation, network, σ and wrapping; batch 1 passes a (5, 3) "
        "array); *ORT keypoints* = the exported ONNX graph with the normalisation inside; "
        "*network* rows take the already normalised (N, 15) input. Time per call: median "
        "[interquartile range] over interleaved repeats. GFLOP/s counts 2 FLOP per multiply-add "
        f"of the dense layers; core peak ≈ {peak:.0f} GFLOP/s (machine table)."
    )
    rows: list[list[object]] = []
    ratio_rows: list[list[object]] = []
    size_rows = []
    for name in names:
        model, trained = get_model(name)
        sessions, onnx_bytes = _onnx_sessions(model, threads)
        tnet = _torch_net(model, threads)
        for b in batches:
            fns = _backends(model, b, sessions, tnet)
            res = measure_interleaved(fns, items=b, repeats=repeats, min_time=min_time)
            if "ORT keypoints" in res:
                ratio = res["numpy predict"].per_item / res["ORT keypoints"].per_item
                ratio_rows.append([f"{model.alpha:g}", b, f"{ratio:.2f}", f"{1.0 / ratio:.2f}"])
                report.data.setdefault("posenet_vs_ort", []).append(
                    {"alpha": model.alpha, "batch": b, "numpy_time_over_ort": ratio}
                )
            rows += _timing_rows(report, model.alpha, b, trained, res, peak)
        size_rows.append(_size_row(name, model, trained, onnx_bytes))
    _timing_tables(report, rows, ratio_rows, threads)
    _size_table(report, size_rows)


def _onnx_sessions(
    model: HeadPoseModel, threads: int
) -> tuple[tuple[InferenceSession, InferenceSession] | None, int | None]:
    """onnxruntime sessions of the exported graph (keypoints and normalised input) and the
    file size; ``(None, None)`` when onnx / onnxruntime are not installed."""
    from hhpnet.errors import HhpnetError
    from hhpnet.export import build_onnx, onnx_session

    try:
        sess_kp = onnx_session(build_onnx(model, input="keypoints"), threads)
        sess_x = onnx_session(build_onnx(model, input="normalized"), threads)
        return (sess_kp, sess_x), len(build_onnx(model).SerializeToString())
    except HhpnetError:  # onnx / onnxruntime not installed: numpy and torch only
        return None, None


def _backends(
    model: HeadPoseModel,
    b: int,
    sessions: tuple[InferenceSession, InferenceSession] | None,
    tnet: Callable[[F32], F32] | None,
) -> dict[str, Callable[[], object]]:
    """The calls timed for batch size ``b``, on the realistic half of :func:`sample_inputs`."""
    from hhpnet.export import sample_inputs
    from hhpnet.keypoints import normalize, validate_keypoints

    kp = sample_inputs(2 * b, seed=b)[b:]  # the realistic half
    x15 = normalize(validate_keypoints(kp))[0]
    kp_in = kp[0] if b == 1 else kp
    fns: dict[str, Callable[[], object]] = {
        "numpy predict": partial(model.predict, kp_in),
        "numpy network": partial(model.forward, x15),
    }
    if sessions is not None:
        fns["ORT keypoints"] = partial(sessions[0].run, None, {"keypoints": kp})
        fns["ORT network"] = partial(sessions[1].run, None, {"x": x15})
    if tnet is not None:
        fns["torch network"] = partial(tnet, x15)
    return fns


def _timing_rows(
    report: Report, alpha: float, b: int, trained: bool, res: dict[str, Timing], peak: float
) -> list[list[object]]:
    """Table rows of one model and batch size (and their records in ``report.data``)."""
    macs = pose_macs(alpha)
    rows: list[list[object]] = []
    for label, tm in res.items():
        gflops = 2.0 * macs * tm.rate / 1e9
        rows.append(
            [
                f"{alpha:g}",
                b,
                label,
                tm.fmt(),
                fmt_time(min(tm.seconds)),
                fmt_time(tm.per_item),
                f"{tm.rate:,.0f}",
                f"{gflops:.2f}",
                f"{100 * gflops / peak:.1f} %",
            ]
        )
        report.data.setdefault("posenet", []).append(
            {"alpha": alpha, "batch": b, "trained": trained, **tm.to_dict()}
        )
    return rows


def _size_row(name: str, model: HeadPoseModel, trained: bool, onnx_bytes: int | None) -> list[str]:
    """Sizes and numpy working memory (tracemalloc peak of one 4096-face ``predict``)."""
    import tracemalloc

    from hhpnet.export import sample_inputs
    from hhpnet.model import WEIGHTS_DIR

    wfile = WEIGHTS_DIR / f"{name}.safetensors"
    kp = sample_inputs(8192, seed=1)[4096:]
    tracemalloc.start()
    model.predict(kp)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    folded = sum(w.nbytes for w in model._layers1)
    return [
        f"{model.alpha:g}",
        f"{model.parameter_count():,}",
        f"{pose_macs(model.alpha):,}",
        f"{wfile.stat().st_size / 1024:.0f} KiB" if wfile.is_file() else "(not shipped)",
        f"{onnx_bytes / 1024:.0f} KiB" if onnx_bytes else "(no onnx)",
        f"{folded / 1024:.0f} KiB",
        f"{peak_bytes / 1024:.0f} KiB",
        "trained" if trained else "random",
    ]


def _timing_tables(
    report: Report, rows: list[list[object]], ratio_rows: list[list[object]], threads: int
) -> None:
    report.table(
        [
            "α",
            "batch",
            "backend",
            "time / call",
            "best block",
            "time / face",
            "faces/s",
            "GFLOP/s",
            "of peak",
        ],
        rows,
    )
    if ratio_rows:
        report.text(
            f"numpy `predict` against onnxruntime on the same keypoints (the exported graph with "
            f"the normalisation inside), {threads} thread(s), from the interleaved medians above "
            "(targets, issue 21: batch 1 time ≤ 0.7× onnxruntime's, batch 4096 throughput "
            "≥ 0.9× onnxruntime's):"
        )
        report.table(
            ["α", "batch", "numpy time / ORT time", "numpy faces/s / ORT faces/s"], ratio_rows
        )


def _size_table(report: Report, size_rows: list[list[str]]) -> None:
    """The sizes table, with the peak RSS of a fresh process predicting 1 and 4096 faces."""
    rss = {
        b: _rss_probe(
            "from hhpnet.bench import get_model\nm, _ = get_model('hhpnet-1.0')\nm.predict(kp)",
            prelude=f"from hhpnet.export import sample_inputs\nkp = sample_inputs({2 * b})[{b}:]",
        )
        for b in (1, 4096)
    }
    report.text(
        "Sizes and memory. *numpy working memory* = peak of numpy allocations (tracemalloc) "
        "during one `predict` of 4096 faces; the folded matrices are what the numpy path keeps "
        "in memory. "
        + (
            f"Peak RSS added to a fresh python + numpy process by importing hhpnet.model, "
            f"loading hhpnet-1.0 and predicting: {rss[1]:.1f} MiB for 1 face, "
            f"{rss[4096]:.1f} MiB for 4096 faces (VmHWM)."
            if None not in rss.values()
            else ""
        )
    )
    report.table(
        [
            "α",
            "parameters",
            "multiply-adds / face",
            "weight file",
            "ONNX file",
            "folded weights in RAM",
            "numpy working memory (4096 faces)",
            "weights",
        ],
        size_rows,
    )
    report.data["posenet_rss_mib"] = rss
