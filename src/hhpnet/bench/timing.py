"""Timing: thread pinning, repeated timed blocks with median and interquartile range, and
interleaved A/B/C comparisons."""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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

    def to_dict(self) -> dict[str, object]:
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


def _calibrate(fn: Callable[[], object], min_time: float) -> int:
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


def _block(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def measure(
    fn: Callable[[], object],
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
    fns: dict[str, Callable[[], object]],
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
