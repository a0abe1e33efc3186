"""``hhpnet serve`` under load, on the loopback only (issue 19, "Targets").

Run: ``python benchmarks/bench_serve.py [--sections overhead,load,overload,stream,page]
[--clients 8] [--seconds 60] [--stream-seconds 120] [--detector auto] [--json FILE]``

The server is the real command (``hhpnet serve --port 0``) in its own process, so its CPU and
memory are its own (RSS read from ``/proc``). Every request loop is bounded in count and time
and stops by itself. Sections:

* ``overhead``: one client, keep-alive; ``POST /v1/poses`` of the 640×480 example alternated
  with the same work in this process (``Engine.image_record``: decode, estimate, record) —
  p50 of each and the difference (the HTTP overhead); and, less exposed to the machine's load,
  the round trip minus the server's own time for that same request (``Server-Timing``).
* ``load``: N clients (threads, keep-alive) post the example for T seconds: throughput,
  p50/p95/p99 latency, errors, server RSS at start and end; in-process images/s with the
  server's pool size (``--workers`` threads sharing one estimator) measured just before and
  after, for the ratio.
* ``overload``: a small queue (``--workers 2 --queue 2``) and 4× the clients for a while: how
  many 200 / 503 answers, any other outcome, RSS sampled every second (flat?), and the server
  still answering afterwards.
* ``stream``: a WebSocket client sends 640×480 JPEG frames as the page does (the next one when
  the answer to the last came back) for S seconds: processed frames/s, latency p50/p95, the
  p50 of the first and the last 20 s (growth = backlog), frames the server dropped.
* ``page``: headless Chromium (Debian's, via Playwright) uploads the example on the page:
  seconds from choosing the file to the drawn overlays, table and matrix (model warm),
  and the hosts the page contacted.

Prints a markdown summary; ``--json`` writes every figure. Report ``uptime`` with it: the
machine may be shared.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import hhpnet

EXAMPLE = Path(hhpnet.__file__).parent / "examples" / "pair_640x480.jpg"
# the test media helpers (the .y4m/mp4 makers, Chromium's flags) live in tests/serve/media.py
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SECTIONS = ("overhead", "load", "overload", "stream", "page")


# ----------------------------------------------------------------------------- the server
class Server:
    """``hhpnet serve --port 0 ARGS`` in a subprocess; ``url``, ``rss_mb()``, ``stop()``."""

    def __init__(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "hhpnet.cli", "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        if "serving" not in line:
            self.proc.kill()
            raise SystemExit(f"the server did not start: {line.strip()}")
        self.url = line.split()[2]
        u = urlparse(self.url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        # keep reading the server's stderr (a full pipe would block it); keep what it says
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=120)

    def stop(self) -> int:
        # SIGTERM: a clean stop like Ctrl-C, and not ignored where this runs in the background
        # (a background job inherits SIGINT ignored, and so does the server)
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # show where it hangs: the server's thread stacks
            self.proc.send_signal(10)  # SIGUSR1
            time.sleep(2)
            self.proc.kill()
            print("\n".join(self.log[-80:]), file=sys.stderr)
            return -9

    def unexpected_log(self) -> list[str]:
        """What the server printed besides its start and stop lines."""
        return [x for x in self.log if not x.startswith(("hhpnet: stopp", "hhpnet: serving"))]


def post(conn: http.client.HTTPConnection, body: bytes, path: str = "/v1/poses") -> int:
    return post_timed(conn, body, path)[0]


def post_timed(
    conn: http.client.HTTPConnection, body: bytes, path: str = "/v1/poses"
) -> tuple[int, float]:
    """Status and the server's own estimation time (``Server-Timing``), ms (NaN if none)."""
    conn.request("POST", path, body=body, headers={"Content-Type": "image/jpeg"})
    res = conn.getresponse()
    res.read()
    timing = res.getheader("Server-Timing") or ""
    ms = float(timing.split("dur=")[1]) if "dur=" in timing else float("nan")
    return res.status, ms


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def in_process_rate(detector: str, workers: int, seconds: float) -> float:
    """Images/s of ``workers`` threads sharing one estimator, in this process."""
    from hhpnet.serve.engine import Engine, PoseOptions
    from hhpnet.serve.settings import ServeSettings

    engine = Engine(ServeSettings(detector=detector, workers=workers))
    body = EXAMPLE.read_bytes()
    engine.image_record(PoseOptions(), body, None, interact=False)
    done = [0] * workers
    stop = time.perf_counter() + seconds

    def run(k: int) -> None:
        while time.perf_counter() < stop:
            engine.image_record(PoseOptions(), body, None, interact=False)
            done[k] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    return sum(done) / (time.perf_counter() - t0)


# ----------------------------------------------------------------------------- sections
def overhead(args: argparse.Namespace) -> dict[str, Any]:
    from hhpnet.serve.engine import Engine, PoseOptions
    from hhpnet.serve.settings import ServeSettings

    body = EXAMPLE.read_bytes()
    engine = Engine(ServeSettings(detector=args.detector))
    srv = Server("--detector", args.detector, "--workers", "1")
    try:
        conn = srv.connection()
        for _ in range(5):  # warm both
            post(conn, body)
            engine.image_record(PoseOptions(), body, None, interact=False)
        local: list[float] = []
        http_: list[float] = []
        beyond: list[float] = []  # round trip − the server's own time for the same request
        deadline = time.perf_counter() + args.overhead_seconds
        while time.perf_counter() < deadline and len(local) < args.overhead_count:
            t = time.perf_counter()
            engine.image_record(PoseOptions(), body, None, interact=False)
            local.append(time.perf_counter() - t)
            t = time.perf_counter()
            status, server_ms = post_timed(conn, body)
            http_.append(time.perf_counter() - t)
            assert status == 200
            beyond.append(http_[-1] * 1e3 - server_ms)
    finally:
        code = srv.stop()
        engine.close()
    p50_l, p50_h = statistics.median(local), statistics.median(http_)
    return {
        "pairs": len(local),
        "in_process_p50_ms": p50_l * 1e3,
        "http_p50_ms": p50_h * 1e3,
        "overhead_p50_ms": (p50_h - p50_l) * 1e3,
        "same_request_overhead_p50_ms": statistics.median(beyond),
        "same_request_overhead_p95_ms": pct(beyond, 0.95),
        "exit_code": code,
    }


def _clients(srv: Server, n: int, seconds: float, body: bytes) -> dict[str, Any]:
    lat: list[float] = []
    codes: Counter[Any] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client() -> None:
        conn = srv.connection()
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                code: Any = post(conn, body)
            except (OSError, http.client.HTTPException) as exc:
                code = type(exc).__name__
                conn.close()
                conn = srv.connection()
            dt = time.perf_counter() - t
            with lock:
                codes[code] += 1
                if code == 200:
                    lat.append(dt)
        conn.close()

    rss: list[float] = [srv.rss_mb()]
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1.0)
        rss.append(srv.rss_mb())
    wall = time.perf_counter() - t0
    return {
        "clients": n,
        "seconds": wall,
        "ok": codes.get(200, 0),
        "codes": {str(k): v for k, v in codes.items()},
        "images_per_s": codes.get(200, 0) / wall,
        "p50_ms": pct(lat, 0.50) * 1e3,
        "p95_ms": pct(lat, 0.95) * 1e3,
        "p99_ms": pct(lat, 0.99) * 1e3,
        "rss_start_mb": rss[0],
        "rss_after_5s_mb": rss[min(5, len(rss) - 1)],
        "rss_end_mb": rss[-1],
        "rss_max_mb": max(rss),
        "rss_every_10s_mb": [round(v, 1) for v in rss[::10]],
    }


def load(args: argparse.Namespace) -> dict[str, Any]:
    body = EXAMPLE.read_bytes()
    before = in_process_rate(args.detector, args.workers, args.inproc_seconds)
    srv = Server("--detector", args.detector, "--workers", str(args.workers))
    try:
        conn = srv.connection()
        for _ in range(3):
            post(conn, body)
        conn.close()
        out = _clients(srv, args.clients, args.seconds, body)
    finally:
        out_code = srv.stop()
    out["exit_code"] = out_code
    out["server_log_lines"] = srv.unexpected_log()[:20]
    after = in_process_rate(args.detector, args.workers, args.inproc_seconds)
    out["in_process_images_per_s"] = (before + after) / 2
    out["in_process_before_after"] = [before, after]
    out["ratio"] = out["images_per_s"] / out["in_process_images_per_s"]
    out["errors"] = sum(v for k, v in out["codes"].items() if k != "200")
    return out


def overload(args: argparse.Namespace) -> dict[str, Any]:
    body = EXAMPLE.read_bytes()
    srv = Server("--detector", args.detector, "--workers", "2", "--queue", "2")
    try:
        out = _clients(srv, args.clients * 4, args.overload_seconds, body)
        conn = srv.connection()
        conn.request("GET", "/v1/health")
        res = conn.getresponse()
        out["health_after"] = json.loads(res.read())
        out["alive_after"] = res.status == 200 and post(conn, body) == 200
    finally:
        out["exit_code"] = srv.stop()
        out["server_log_lines"] = srv.unexpected_log()[:20]
    return out


def stream(args: argparse.Namespace) -> dict[str, Any]:
    import cv2
    from websockets.sync.client import connect

    from tests.serve.media import pair_frames

    frames = [
        cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
        for f in pair_frames(30)
    ]
    srv = Server("--detector", args.detector)
    ws_url = srv.url.replace("http://", "ws://") + "v1/stream"
    times: list[tuple[float, float]] = []  # (when, latency)
    server_ms: list[float] = []
    dropped = 0
    errors = 0
    rss = [srv.rss_mb()]
    try:
        with connect(ws_url, max_size=None) as ws:
            t0 = time.perf_counter()
            k = 0
            next_rss = t0 + 1.0
            while time.perf_counter() - t0 < args.stream_seconds:
                t = time.perf_counter()
                ws.send(frames[k % len(frames)])
                rec = json.loads(ws.recv(timeout=30))
                times.append((t - t0, time.perf_counter() - t))
                dropped = rec.get("stream", {}).get("dropped", dropped)
                server_ms.append(rec.get("stream", {}).get("ms", float("nan")))
                errors += "error" in rec
                k += 1
                if time.perf_counter() > next_rss:
                    rss.append(srv.rss_mb())
                    next_rss += 1.0
            wall = time.perf_counter() - t0
    finally:
        code = srv.stop()
    lat = [dt for _, dt in times]
    # time a frame spends beyond the server's own work on it (transfer, waiting): growth = backlog
    wait = [dt * 1e3 - ms for (_, dt), ms in zip(times, server_ms, strict=True)]
    first_wait = [w for (t, _), w in zip(times, wait, strict=True) if t < 20.0]
    last_wait = [w for (t, _), w in zip(times, wait, strict=True) if t > wall - 20.0]
    first = [dt for t, dt in times if t < 20.0]
    last = [dt for t, dt in times if t > wall - 20.0]
    return {
        "seconds": wall,
        "frames": len(times),
        "fps": len(times) / wall,
        "p50_ms": pct(lat, 0.5) * 1e3,
        "p95_ms": pct(lat, 0.95) * 1e3,
        "server_p50_ms": pct(server_ms, 0.5),
        "first_20s_p50_ms": pct(first, 0.5) * 1e3,
        "last_20s_p50_ms": pct(last, 0.5) * 1e3,
        "first_20s_wait_p50_ms": pct(first_wait, 0.5),
        "last_20s_wait_p50_ms": pct(last_wait, 0.5),
        "server_dropped": dropped,
        "errors": errors,
        "max_in_flight": 1,
        "rss_start_mb": rss[0],
        "rss_end_mb": rss[-1],
        "exit_code": code,
    }


def page(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.serve.media import CHROMIUM_FLAGS

    srv = Server("--detector", args.detector)
    seconds: list[float] = []
    hosts: set[str] = set()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=list(CHROMIUM_FLAGS))
            for _ in range(args.page_runs):
                p = browser.new_page(viewport={"width": 1366, "height": 900})
                p.on(
                    "request", lambda r: hosts.add(urlparse(r.url).netloc or urlparse(r.url).scheme)
                )
                p.goto(srv.url)
                p.wait_for_function("document.getElementById('opt-model').options.length > 1")
                t = time.perf_counter()
                p.set_input_files("#image-input", str(EXAMPLE))
                p.wait_for_selector("article.result.done table.matrix", timeout=30_000)
                seconds.append(time.perf_counter() - t)
                p.close()
            browser.close()
    finally:
        code = srv.stop()
    return {
        "exit_code": code,
        "runs": len(seconds),
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
        "all_s": seconds,
        "hosts": sorted(hosts),
    }


# ----------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--detector", default="auto")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--inproc-seconds", type=float, default=15.0)
    ap.add_argument("--overhead-seconds", type=float, default=30.0)
    ap.add_argument("--overhead-count", type=int, default=300)
    ap.add_argument("--overload-seconds", type=float, default=20.0)
    ap.add_argument("--stream-seconds", type=float, default=120.0)
    ap.add_argument("--page-runs", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    if bad := [s for s in chosen if s not in SECTIONS]:
        raise SystemExit(f"unknown section(s) {bad}; choose from {', '.join(SECTIONS)}")
    results: dict[str, Any] = {"load_avg_start": os.getloadavg(), "detector": args.detector}
    for name in chosen:
        t = time.perf_counter()
        results[name] = globals()[name](args)
        results[name]["bench_wall_s"] = time.perf_counter() - t
        print(
            f"## {name}\n```\n{json.dumps(results[name], indent=1, default=str)}\n```", flush=True
        )
    results["load_avg_end"] = os.getloadavg()
    print(f"load average: start {results['load_avg_start']}, end {results['load_avg_end']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
