"""Machine facts for benchmark reports: CPU, memory, library versions, peak GFLOP/s, and the
pose network's multiply-accumulates."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hhpnet.bench.timing import (
    THREAD_VARS,
)


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

    def to_dict(self) -> dict[str, object]:
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
