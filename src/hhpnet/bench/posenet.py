"""The pose-network suite: numpy, onnxruntime and torch evaluations of the shipped models (or
random weights of the same shapes), memory of a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from hhpnet.bench.machine import (
    MachineInfo,
    peak_gflops,
    pose_macs,
)
from hhpnet.bench.report import (
    Report,
)
from hhpnet.bench.timing import (
    fmt_time,
    measure_interleaved,
)
from hhpnet.samples import (
    synthetic_model,
)


def get_model(name: str) -> tuple[Any, bool]:
    """``(model, trained)``: the shipped model, or random weights of the same shape if absent."""
    from hhpnet.errors import InputError
    from hhpnet.model import load_model

    try:
        return load_model(name), True
    except InputError:
        return synthetic_model(float(name.rsplit("-", 1)[-1])), False


def _torch_net(model: Any, threads: int) -> Callable[[Any], Any] | None:
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

    def run(x: Any) -> Any:
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()

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
    """Latency / throughput of the pose network per backend, size, memory and GFLOP/s.

    Long: one measurement script; per model it times every backend and batch size on the same
    inputs and memory probes, and the report tables are built from those shared rows.
    """
    import tracemalloc

    from hhpnet.errors import HhpnetError
    from hhpnet.export import build_onnx, onnx_session, sample_inputs
    from hhpnet.keypoints import normalize, validate_keypoints
    from hhpnet.model import WEIGHTS_DIR

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
    rows = []
    ratio_rows = []
    size_rows = []
    torch_fn_cache: dict[str, Any] = {}
    for name in names:
        model, trained = get_model(name)
        alpha = model.alpha
        macs = pose_macs(alpha)
        try:
            sess_kp = onnx_session(build_onnx(model, input="keypoints"), threads)
            sess_x = onnx_session(build_onnx(model, input="normalized"), threads)
            onnx_bytes: int | None = len(build_onnx(model).SerializeToString())
        except HhpnetError:  # onnx / onnxruntime not installed: numpy and torch only
            sess_kp = sess_x = None
            onnx_bytes = None
        tnet = _torch_net(model, threads)
        torch_fn_cache[name] = tnet
        for b in batches:
            kp = sample_inputs(2 * b, seed=b)[b:]  # the realistic half
            x15 = normalize(validate_keypoints(kp))[0]
            kp_in = kp[0] if b == 1 else kp
            fns: dict[str, Callable[[], Any]] = {
                "numpy predict": partial(model.predict, kp_in),
                "numpy network": partial(model.forward, x15),
            }
            if sess_kp is not None and sess_x is not None:
                fns["ORT keypoints"] = partial(sess_kp.run, None, {"keypoints": kp})
                fns["ORT network"] = partial(sess_x.run, None, {"x": x15})
            if tnet is not None:
                fns["torch network"] = partial(tnet, x15)
            res = measure_interleaved(fns, items=b, repeats=repeats, min_time=min_time)
            if "ORT keypoints" in res:
                ratio = res["numpy predict"].per_item / res["ORT keypoints"].per_item
                ratio_rows.append([f"{alpha:g}", b, f"{ratio:.2f}", f"{1.0 / ratio:.2f}"])
                report.data.setdefault("posenet_vs_ort", []).append(
                    {"alpha": alpha, "batch": b, "numpy_time_over_ort": ratio}
                )
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
        # size and memory
        wfile = WEIGHTS_DIR / f"{name}.safetensors"
        kp = sample_inputs(8192, seed=1)[4096:]
        tracemalloc.start()
        model.predict(kp)
        _, peak_bytes = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        folded = sum(w.nbytes for w in model._layers1)
        size_rows.append(
            [
                f"{alpha:g}",
                f"{model.parameter_count():,}",
                f"{macs:,}",
                f"{wfile.stat().st_size / 1024:.0f} KiB" if wfile.is_file() else "(not shipped)",
                f"{onnx_bytes / 1024:.0f} KiB" if onnx_bytes else "(no onnx)",
                f"{folded / 1024:.0f} KiB",
                f"{peak_bytes / 1024:.0f} KiB",
                "trained" if trained else "random",
            ]
        )
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
