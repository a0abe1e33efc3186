"""Benchmark harness: machine facts, repeated timings with spread, and a markdown report.

Run as ``hhpnet bench`` (or ``python -m hhpnet.bench``); ``benchmarks/run_all.py`` adds the
competing pipelines to the same run. Every figure is the median over repeated timed blocks with
the interquartile range; comparisons are timed *interleaved* (A, B, C, A, B, C, …) so that load
from other processes hits all candidates alike, and ratios are taken within one run.

Thread counts matter more than anything else for small CPU workloads, so they are pinned
explicitly: :func:`pin_threads` sets ``OMP_NUM_THREADS`` and friends, which only works **before**
numpy is imported — :func:`main` therefore re-executes itself in a fresh interpreter when numpy is
already loaded. onnxruntime, torch and the TFLite detectors get their thread counts as arguments.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "THREAD_VARS",
    "MachineInfo",
    "Report",
    "Timing",
    "machine_info",
    "measure",
    "measure_interleaved",
    "peak_gflops",
    "pin_threads",
    "pose_macs",
]

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def pin_threads(n: int) -> bool:
    """Set the BLAS/OpenMP thread variables to ``n``; False if numpy was already imported
    (then the variables no longer affect numpy's BLAS in this process)."""
    for var in THREAD_VARS:
        os.environ[var] = str(int(n))
    return "numpy" not in sys.modules


# --------------------------------------------------------------------------- timing
@dataclass
class Timing:
    """Seconds per call over repeated timed blocks; ``items`` = work items (faces…) per call."""

    label: str
    seconds: list[float]  # one value per repeat: mean seconds per call within that block
    items: int = 1
    calls_per_repeat: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def q1(self) -> float:
        return _quantile(self.seconds, 0.25)

    @property
    def q3(self) -> float:
        return _quantile(self.seconds, 0.75)

    @property
    def per_item(self) -> float:
        """Median seconds per item."""
        return self.median / max(self.items, 1)

    @property
    def rate(self) -> float:
        """Median items per second."""
        return self.items / self.median if self.median > 0 else math.inf

    def fmt(self, per_item: bool = False) -> str:
        """``"1.23 ms [1.20–1.31]"``: median and interquartile range."""
        k = max(self.items, 1) if per_item else 1
        scale = _unit_scale(self.median / k)  # the bounds in the median's unit
        return f"{fmt_time(self.median / k)} [{fmt_time(self.q1 / k, unit=False, scale=scale)}–" + (
            f"{fmt_time(self.q3 / k, unit=False, scale=scale)}]"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "median_s": self.median,
            "q1_s": self.q1,
            "q3_s": self.q3,
            "items": self.items,
            "repeats": len(self.seconds),
            "calls_per_repeat": self.calls_per_repeat,
        }


def _quantile(values: Sequence[float], q: float) -> float:
    v = sorted(values)
    if len(v) == 1:
        return v[0]
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def _unit_scale(seconds: float) -> float:
    """The unit (1, 1e-3, 1e-6 or 1e-9 s) :func:`fmt_time` picks for ``seconds``."""
    for scale, _ in _UNITS:
        if abs(seconds) >= scale:
            return scale
    return 1e-9


def fmt_time(seconds: float, unit: bool = True, scale: float | None = None) -> str:
    """Three significant digits with a unit chosen from s, ms, µs, ns (or the given ``scale``)."""
    if not math.isfinite(seconds):
        return "—"
    if scale is None:
        scale = _unit_scale(seconds)
    name = dict(_UNITS)[scale]
    v = seconds / scale
    text = f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return f"{text} {name}" if unit else text


def _calibrate(fn: Callable[[], Any], min_time: float) -> int:
    """Number of calls so that one timed block lasts at least ``min_time`` seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or n >= 1 << 22:
            return n
        n = max(n * 2, int(n * min_time / max(dt, 1e-9) * 1.2)) if dt > min_time / 20 else n * 8


def _block(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def measure(
    fn: Callable[[], Any],
    *,
    label: str = "",
    items: int = 1,
    repeats: int = 7,
    min_time: float = 0.05,
    warmup: int = 1,
) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` blocks of ≥ ``min_time`` s."""
    for _ in range(warmup):
        fn()
    n = _calibrate(fn, min_time)
    return Timing(label, [_block(fn, n) for _ in range(repeats)], items, n)


def measure_interleaved(
    fns: dict[str, Callable[[], Any]],
    *,
    items: int | dict[str, int] = 1,
    repeats: int = 7,
    min_time: float = 0.05,
    warmup: int = 1,
) -> dict[str, Timing]:
    """Time several candidates in round-robin blocks so they share the same machine load."""
    counts = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        counts[name] = _calibrate(fn, min_time)
    secs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            secs[name].append(_block(fn, counts[name]))
    return {
        name: Timing(
            name, secs[name], items[name] if isinstance(items, dict) else items, counts[name]
        )
        for name in fns
    }


# --------------------------------------------------------------------------- machine
@dataclass
class MachineInfo:
    """What the numbers were measured on."""

    cpu_model: str
    cpu_vendor: str
    cpu_family: int | None
    cpu_model_id: int | None
    logical_cpus: int
    usable_cpus: int
    clock_mhz: float | None
    simd: str  # "avx512", "avx2", "sse" or "unknown"
    fma: bool
    python: str
    platform: str
    versions: dict[str, str]
    threads_env: dict[str, str]
    load_average: tuple[float, float, float] | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def markdown(self) -> str:
        peak, how = peak_gflops(self)
        lines = [
            "| item | value |",
            "|---|---|",
            f"| CPU | {self.cpu_model} (vendor {self.cpu_vendor}, family {self.cpu_family}, "
            f"model {self.cpu_model_id}) |",
            f"| cores | {self.logical_cpus} logical, {self.usable_cpus} usable by this process |",
            f"| clock | {self.clock_mhz:.0f} MHz (as reported by /proc/cpuinfo) |"
            if self.clock_mhz
            else "| clock | unknown |",
            f"| SIMD | {self.simd}, FMA {'yes' if self.fma else 'no'} |",
            f"| fp32 peak per core | {peak:.1f} GFLOP/s ({how}) |",
            f"| load average (1, 5, 15 min) at start | {self.load_average} |",
            f"| Python | {self.python} on {self.platform} |",
            "| thread env | " + ", ".join(f"{k}={v}" for k, v in self.threads_env.items()) + " |",
        ]
        lines += [f"| {k} | {v} |" for k, v in self.versions.items()]
        return "\n".join(lines)


def _cpuinfo() -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        if not line.strip():
            break  # first processor only
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def _version(module: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> MachineInfo:
    """CPU model, cores, clock, SIMD width, library versions and thread settings."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    if "avx512f" in flags:
        simd = "avx512"
    elif "avx2" in flags:
        simd = "avx2"
    elif "sse2" in flags:
        simd = "sse"
    else:
        simd = "unknown"
    model = info.get("model name") or ""
    if not model:
        try:
            import cpuinfo  # py-cpuinfo, optional (slow): the brand string off Linux

            model = cpuinfo.get_cpu_info().get("brand_raw") or ""
        except Exception:
            pass
    model = model or platform.processor() or "unknown"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    mhz = info.get("cpu MHz")
    versions = {}
    for pkg in (
        "hhpnet",
        "numpy",
        "onnxruntime",
        "onnx",
        "torch",
        "opencv-python-headless",
        "ai-edge-litert",
        "dlib-bin",
        "dlib",
    ):
        v = _version(pkg)
        if v is not None:
            versions[pkg] = v
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = None
    return MachineInfo(
        cpu_model=model,
        cpu_vendor=info.get("vendor_id", "unknown"),
        cpu_family=int(info["cpu family"]) if "cpu family" in info else None,
        cpu_model_id=int(info["model"]) if info.get("model", "").isdigit() else None,
        logical_cpus=os.cpu_count() or 1,
        usable_cpus=usable,
        clock_mhz=float(mhz) if mhz else None,
        simd=simd,
        fma="fma" in flags,
        python=platform.python_version(),
        platform=platform.platform(),
        versions=versions,
        threads_env={k: os.environ.get(k, "unset") for k in THREAD_VARS[:3]},
        load_average=tuple(round(x, 2) for x in load) if load else None,  # type: ignore[arg-type]
    )


def peak_gflops(info: MachineInfo) -> tuple[float, str]:
    """Estimated fp32 peak of one core in GFLOP/s and how it was estimated.

    peak = 2 FLOP per FMA × fp32 lanes per FMA unit × FMA units × clock. We assume two FMA units
    per core (every x86 core with AVX2 since Haswell / Zen 1 has two; Zen 1 at half width). AMD
    Zen 4 (family 25 with AVX-512) runs 512-bit FMAs on 256-bit units, so its effective width is
    8 lanes; Intel server cores with AVX-512 get 16. Without a reported clock 3 GHz is assumed.
    """
    ghz = (info.clock_mhz or 3000.0) / 1000.0
    units = 2
    if info.simd == "avx512" and not (info.cpu_vendor == "AuthenticAMD"):
        lanes = 16
    elif info.simd in ("avx512", "avx2"):
        lanes = 8
    else:
        lanes = 4
    if not info.fma:
        # separate multiply and add pipes: same FLOP count per cycle as one FMA unit pair
        how_fma = "no FMA: mul + add pipes"
    else:
        how_fma = "FMA"
    peak = 2.0 * lanes * units * ghz
    return peak, f"2 FLOP × {lanes} fp32 lanes × {units} {how_fma} units × {ghz:.2f} GHz"


def pose_macs(alpha: float) -> int:
    """Multiply-adds per face of the pose network at width ``alpha`` (≈ 93.5k at α = 1).

    Three 1×1 branches (3 × 25), then 50 → H1 → H2 → H3 → 6 dense layers; activations and the
    gate products are not counted (O(H) element-wise operations).
    """
    h1, h2, h3 = (round(h * alpha) for h in (250, 200, 150))
    return 75 + 50 * h1 + h1 * h2 + h2 * h3 + h3 * 6


# --------------------------------------------------------------------------- report
@dataclass
class Report:
    """A markdown report built section by section; also keeps the raw numbers for JSON."""

    title: str
    parts: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def heading(self, text: str, level: int = 2) -> None:
        self.parts.append(f"{'#' * level} {text}\n")

    def text(self, text: str) -> None:
        self.parts.append(text.rstrip() + "\n")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.parts.append("\n".join(lines) + "\n")

    def markdown(self) -> str:
        return f"# {self.title}\n\n" + "\n".join(self.parts)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown())
        path.with_suffix(".json").write_text(json.dumps(self.data, indent=1, default=str))
        return path


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


# --------------------------------------------------------------------------- pose network
def synthetic_model(alpha: float, seed: int = 0) -> Any:
    """A :class:`hhpnet.model.HeadPoseModel` with random weights of the contract's shapes
    (timings do not depend on the weight values; used when no trained file is shipped)."""
    import numpy as np

    from hhpnet.model import HeadPoseModel, tensor_shapes

    rng = np.random.default_rng(seed)
    t = {
        k: rng.normal(0.0, 1.0 / math.sqrt(shape[-1]), shape).astype(np.float32)
        for k, shape in tensor_shapes(alpha).items()
    }
    t["head.weight"] *= 30.0
    t["head.bias"][1::2] = 3.0
    return HeadPoseModel(t, {"alpha": f"{alpha:g}", "name": f"hhpnet-{alpha:g} (random weights)"})


def get_model(name: str) -> tuple[Any, bool]:
    """``(model, trained)``: the shipped model, or random weights of the same shape if absent."""
    from hhpnet.errors import InputError
    from hhpnet.model import load_model

    try:
        return load_model(name), True
    except InputError:
        return synthetic_model(float(name.rsplit("-", 1)[-1])), False


def _torch_net(model: Any, threads: int) -> Callable[[Any], Any] | None:
    """The torch module of :mod:`hhpnet.nn` with ``model``'s weights, or None without torch."""
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
    """Latency / throughput of the pose network per backend, size, memory and GFLOP/s."""
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


# --------------------------------------------------------------------------- whole pipeline
@dataclass
class Candidate:
    """A head-pose pipeline on one RGB uint8 image, for side-by-side timing.

    ``analyze(rgb)`` runs everything after decoding and returns the number of faces given a pose;
    ``stages(rgb)`` returns one zero-argument closure per stage (in order) that re-runs that
    stage on this image with the previous stages' results precomputed.
    """

    name: str
    analyze: Callable[[Any], int]
    stages: Callable[[Any], dict[str, Callable[[], Any]]] | None = None
    note: str = ""


def hhpnet_candidate(
    detector: str = "blazeface", model: str = "hhpnet-1.0", threads: int = 2
) -> tuple[Candidate, Any]:
    """Our pipeline (``HeadPoseEstimator``) as a :class:`Candidate`, and the estimator."""
    from hhpnet.pipeline import HeadPoseEstimator

    m, _ = get_model(model)
    est = HeadPoseEstimator(m, detector, num_threads=threads)

    def analyze(rgb: Any) -> int:
        return int(est(rgb, rgb=True).valid.sum())

    def stages(rgb: Any) -> dict[str, Callable[[], Any]]:
        det = est.detector
        dets = det(rgb)
        size = (rgb.shape[1], rgb.shape[0])
        return {
            "detect": lambda: det(rgb),
            "pose": lambda: est.from_keypoints(dets, image_size=size),
        }

    return Candidate(f"hhpnet + {detector}", analyze, stages), est


def face_tiles() -> list[Any]:
    """Square BGR head crops from the bundled example photos (public domain / CC0), found with
    BlazeFace: the faces of ``astronaut``, ``grace_hopper`` and ``pair_640x480``, plus mirrors."""
    import cv2

    from hhpnet.detectors import create_detector

    root = Path(__file__).parent / "examples"
    det = create_detector("blazeface", num_threads=1)
    tiles = []
    for fname in ("astronaut.jpg", "grace_hopper.jpg", "pair_640x480.jpg"):
        bgr = cv2.imread(str(root / fname))
        if bgr is None:
            continue
        found = det(np.ascontiguousarray(bgr[..., ::-1]))
        for x1, y1, x2, y2 in found.boxes:
            side = 1.9 * max(x2 - x1, y2 - y1)
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.05 * side
            m = np.array([[1, 0, side / 2 - cx], [0, 1, side / 2 - cy]], np.float32)
            s = round(side)
            tiles.append(cv2.warpAffine(bgr, m, (s, s), borderMode=cv2.BORDER_REPLICATE))
    tiles += [t[:, ::-1].copy() for t in tiles[:2]]
    return tiles


def make_scene(n_people: int, width: int = 640, height: int = 480) -> Any:
    """A BGR test image with ``n_people`` heads from :func:`face_tiles` on a textured background."""
    import cv2

    tiles = face_tiles()
    if not tiles:
        raise RuntimeError("no example faces found (hhpnet/examples missing?)")
    rng = np.random.default_rng(n_people)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    bg = np.stack([90 + 60 * xx / width, 110 + 40 * yy / height, 130 - 50 * xx / width], -1)
    img = np.clip(bg + rng.normal(0, 6, bg.shape), 0, 255).astype(np.uint8)
    cols = 1 if n_people == 1 else math.ceil(math.sqrt(n_people * width / height))
    rows = math.ceil(n_people / cols)
    cell_w, cell_h = width // cols, height // rows
    side = int(min(cell_w, cell_h) * (0.9 if n_people > 1 else 0.6))
    for i in range(n_people):
        r, c = divmod(i, cols)
        tile = cv2.resize(tiles[i % len(tiles)], (side, side), interpolation=cv2.INTER_AREA)
        x0 = c * cell_w + (cell_w - side) // 2
        y0 = r * cell_h + (cell_h - side) // 2
        img[y0 : y0 + side, x0 : x0 + side] = tile
    return img


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _decode_and_run(analyze: Callable[[Any], int], jpeg: bytes) -> int:
    from hhpnet.io import read_image

    return analyze(read_image(jpeg))


def _draw_copy(annotate: Callable[..., Any], bgr: Any, poses: Any) -> Any:
    return annotate(bgr.copy(), poses)


def pipeline_suite(
    report: Report,
    candidates: Sequence[Candidate],
    scenes: dict[int, Any],
    *,
    estimator: Any = None,
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
        fns: dict[str, Callable[[], Any]] = {
            c.name: partial(_decode_and_run, c.analyze, jpeg) for c in candidates
        }
        if estimator is not None:
            from hhpnet.draw import annotate

            def full(est: Any = estimator, j: bytes = jpeg) -> Any:
                img = cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR)
                poses = est(img)
                return cv2.imencode(".jpg", annotate(img, poses))[1]

            full_name = f"{base}, + draw + write JPEG"
            fns[full_name] = full
            found[full_name] = found[base]
            if out_dir is not None:
                img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
                cv2.imwrite(
                    str(out_dir / f"scene_{n}_people_hhpnet.jpg"), annotate(img, estimator(img))
                )
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
        dec = measure(partial(read_image, jpeg), repeats=repeats, min_time=min_time / 2)
        stage_rows.append([_people(n), "(all)", "decode JPEG → RGB", dec.fmt()])
        for c in candidates:
            if c.stages is None:
                continue
            for sname, fn in c.stages(rgb).items():
                tm = measure(fn, repeats=repeats, min_time=min_time / 2)
                stage_rows.append([_people(n), c.name, sname, tm.fmt()])
        if estimator is not None:
            from hhpnet.draw import annotate

            poses = estimator(rgb, rgb=True)
            drawn = annotate(bgr.copy(), poses)
            tm = measure(
                partial(_draw_copy, annotate, bgr, poses), repeats=repeats, min_time=min_time / 2
            )
            stage_rows.append([_people(n), base, "draw (annotate)", tm.fmt()])
            tm = measure(
                partial(cv2.imencode, ".jpg", drawn), repeats=repeats, min_time=min_time / 2
            )
            stage_rows.append([_people(n), base, "write (JPEG encode)", tm.fmt()])
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


# --------------------------------------------------------------------------- entry point
def run(
    *,
    output: Path | None = None,
    quick: bool = False,
    sections: Sequence[str] = ("posenet", "pipeline", "cli", "startup"),
    threads: int = 1,
    pipeline_threads: int = 2,
    extra_candidates: Sequence[Candidate] = (),
    title: str = "hhpnet benchmark",
) -> Report:
    """Run the selected sections and return (and optionally write) the report.

    ``threads``: threads of the pose-network backends (1 = per-core figures);
    ``pipeline_threads``: detector (TFLite) and OpenCV threads of the whole-pipeline section.
    ``extra_candidates`` are timed next to ours in the pipeline section (benchmarks/run_all.py).
    """
    info = machine_info()
    report = Report(title)
    report.data["machine"] = info.to_dict()
    report.heading("Machine")
    report.text(
        "Shared machine: other processes may run at the same time, so absolute times are noisy; "
        "compare the ratios, which are measured interleaved within this run."
    )
    report.table(["item", "value"], [])  # placeholder removed below
    report.parts[-1] = info.markdown() + "\n"
    repeats = 5 if quick else 9
    t0 = time.perf_counter()
    if "posenet" in sections:
        posenet_suite(
            report,
            info,
            batches=(1, 64, 4096),
            names=("hhpnet-1.0",) if quick else ("hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2"),
            threads=threads,
            repeats=repeats,
            min_time=0.02 if quick else 0.05,
        )
    if "pipeline" in sections:
        import cv2

        cv2.setNumThreads(pipeline_threads)
        ours, est = hhpnet_candidate("blazeface", threads=pipeline_threads)
        cands = [ours]
        if not quick:
            cands.append(hhpnet_candidate("blazepose", threads=pipeline_threads)[0])
        cands += list(extra_candidates)
        scenes = {1: make_scene(1), 6: make_scene(6)}
        report.text(
            f"Detector (TFLite) and OpenCV threads: {pipeline_threads}; numpy single-threaded."
        )
        pipeline_suite(
            report,
            cands,
            scenes,
            estimator=est,
            repeats=repeats,
            min_time=0.05 if quick else 0.1,
            out_dir=output.parent if output is not None else None,
        )
    if "cli" in sections:
        cli_suite(report, repeats=2 if quick else 3)
    if "startup" in sections:
        report.heading("Start-up")
        st = startup_times(repeats=3 if quick else 7)
        report.text("Wall time of a fresh process, median [IQR].")
        report.table(["command", "time"], [[k, v.fmt()] for k, v in st.items()])
        report.data["startup"] = [v.to_dict() for v in st.values()]
    report.text(
        f"Total benchmark time {time.perf_counter() - t0:.0f} s; load average at the end "
        f"{tuple(round(x, 2) for x in os.getloadavg())}."
    )
    if output is not None:
        report.write(output)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hhpnet.bench [--quick] [-o report.md] [--threads N] [--sections ...]``.

    Re-executes itself once with the thread variables set before numpy is imported.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="hhpnet bench", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=None, help="markdown report path")
    parser.add_argument("--quick", action="store_true", help="α=1.0 only, fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="pose-network threads")
    parser.add_argument("--pipeline-threads", type=int, default=2, help="detector threads")
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["posenet", "pipeline", "cli", "startup"],
        choices=["posenet", "pipeline", "cli", "startup"],
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if os.environ.get("HHPNET_BENCH_CHILD") != "1":
        env = dict(os.environ, HHPNET_BENCH_CHILD="1")
        env.update({v: str(args.threads) for v in THREAD_VARS})
        cmd = [sys.executable, "-m", "hhpnet.bench", *(sys.argv[1:] if argv is None else argv)]
        return subprocess.run(cmd, env=env, check=False).returncode
    report = run(
        output=args.output,
        quick=args.quick,
        sections=args.sections,
        threads=args.threads,
        pipeline_threads=args.pipeline_threads,
    )
    print(report.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
