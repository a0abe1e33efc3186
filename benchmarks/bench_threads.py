"""Throughput of one ``HeadPoseEstimator`` shared by several threads (issue 13, item 4).

Run: ``python benchmarks/bench_threads.py [--images 160] [--rounds 5] [--threads 4]``

Every call analyses the bundled 640×480 two-person example from its JPEG bytes (decoding
included), as a web server would. Variants, measured in interleaved rounds (the machine may be
shared: compare medians of the same round order):

* ``1 thread``: one thread, the default estimator (BlazeFace with 2 TFLite threads) — the
  baseline of the ratios;
* ``1 thread, 1 TFLite thread``: one thread, ``num_threads=1`` (one core's worth of work);
* ``N threads, pool``: N threads share one default estimator; concurrent detector calls each
  borrow their own interpreter (``hhpnet.detectors.base.BatchRunner``: the first interpreter
  has 2 TFLite threads, the ones made for concurrent calls 1);
* ``N threads, pool, extras 2 TFLite threads``: the same with 2-thread extra interpreters;
* ``N threads, lock``: the alternative design — one interpreter behind a lock.

Every result is compared bit for bit with the single-threaded reference (all output arrays);
any difference or exception is counted and printed. Prints a markdown table of images/s and
of the process CPU time per image.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hhpnet
from hhpnet import HeadPoseEstimator

EXAMPLE = Path(hhpnet.__file__).parent / "examples" / "pair_640x480.jpg"


class _Locked:
    """The lock design: one interpreter (the runner's first), used by one thread at a time."""

    def __init__(self, runner: Any) -> None:
        self._runner = runner
        self._lock = threading.Lock()

    def __call__(self, x: Any) -> Any:
        with self._lock:
            return self._runner(x)


def make(variant: str) -> HeadPoseEstimator:
    est = HeadPoseEstimator(num_threads=1 if "1 TFLite" in variant else 2)
    det = est.detector
    if "extras 2" in variant:
        det._run.extra_threads = 2
    if "lock" in variant:
        det._run = _Locked(det._run)
    return est


def _fingerprint(poses: Any) -> bytes:
    """The exact bytes of every output array (cheaper than ``to_dict``; NaN-safe)."""
    fields = ("boxes", "scores", "keypoints", "yaw", "pitch", "roll", "sigma", "valid")
    return b"".join(getattr(poses, f).tobytes() for f in fields)


def run(est: HeadPoseEstimator, data: bytes, n_images: int, n_threads: int, ref: bytes) -> tuple:
    """Analyse ``n_images`` images spread over ``n_threads`` threads; (images/s, CPU ms per
    image of the whole process, bad results)."""
    bad: list[str] = []
    per = [n_images // n_threads + (k < n_images % n_threads) for k in range(n_threads)]
    barrier = threading.Barrier(n_threads + 1)

    def work(count: int) -> None:
        barrier.wait()
        for _ in range(count):
            try:
                if _fingerprint(est(data)) != ref:
                    bad.append("different result")
            except Exception as exc:  # counted and reported
                bad.append(f"{type(exc).__name__}: {exc}".splitlines()[0])

    workers = [threading.Thread(target=work, args=(c,)) for c in per]
    for w in workers:
        w.start()
    barrier.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return n_images / wall, 1e3 * cpu / n_images, bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=80, help="images per measurement")
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    data = EXAMPLE.read_bytes()
    n = args.threads
    variants: dict[str, Callable[[], tuple]] = {}
    names = ("1 thread", "1 thread, 1 TFLite thread", f"{n} threads, pool")
    ests = {v: make(v) for v in (*names, f"{n} threads, pool, extras 2 TFLite threads")}
    ests[f"{n} threads, lock"] = make("lock")
    ref = _fingerprint(ests["1 thread"](data))
    for v, est in ests.items():
        threads = 1 if v.startswith("1 thread") else n
        variants[v] = lambda est=est, threads=threads: run(est, data, args.images, threads, ref)
        variants[v]()  # warm-up: interpreters created, buffers allocated
    rates: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    problems: dict[str, list[str]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for v, fn in variants.items():
            rate, ms, bad = fn()
            rates[v].append(rate)
            cpu[v].append(ms)
            problems[v] += bad
    base = rates["1 thread"]
    print(f"{args.images} images per measurement, {args.rounds} interleaved rounds, {EXAMPLE.name}")
    print(
        "| variant | images/s, median [min–max] | × 1 thread, median of the rounds' ratios "
        "[min–max] | CPU ms / image | wrong / failed calls |"
    )
    print("|---|---|---|---|---|")
    for v, r in rates.items():
        ratio = [a / b for a, b in zip(r, base, strict=True)]
        print(
            f"| {v} | {statistics.median(r):.1f} [{min(r):.1f}–{max(r):.1f}] "
            f"| {statistics.median(ratio):.2f} [{min(ratio):.2f}–{max(ratio):.2f}] "
            f"| {statistics.median(cpu[v]):.2f} "
            f"| {len(problems[v])} of {args.images * args.rounds} |"
        )
        for p in sorted(set(problems[v]))[:3]:
            print(f"  {v}: {p}")
    pool = ests[f"{n} threads, pool"].detector._run
    print(f"interpreters in the shared pool after the runs: {pool.created}")


if __name__ == "__main__":
    main()
