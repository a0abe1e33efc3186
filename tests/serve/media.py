"""Test media made at test time from the bundled example photos: a short mp4 and a .y4m clip
(Chromium's fake camera reads .y4m), and a small catalogue of malformed uploads."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from hhpnet.commands.demo import EXAMPLES_DIR

#: the ``[serve]`` extra and httpx: without them the serve tests skip (:func:`require_serve`)
SERVE_MODULES = ("fastapi", "uvicorn", "multipart", "websockets", "httpx")


def require_serve() -> None:
    """Skip the calling test module, with the reason, where the web stack is not installed."""
    import pytest

    for name in SERVE_MODULES:
        pytest.importorskip(name, reason=f"hhpnet serve needs the [serve] extra and httpx ({name})")


PAIR = EXAMPLES_DIR / "pair_640x480.jpg"
#: how the page tests and the benchmark start Debian's Chromium (never a downloaded browser)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def pair_frames(n: int, step: int = 4) -> list[np.ndarray]:
    """``n`` BGR 640×480 frames: the pair photo sliding ``step`` px to the right per frame."""
    base = cv2.imread(str(PAIR))
    frames = []
    for k in range(n):
        m = np.float32([[1, 0, (k * step) % 40], [0, 1, 0]])
        frames.append(cv2.warpAffine(base, m, (640, 480), borderMode=cv2.BORDER_REPLICATE))
    return frames


def write_mp4(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """A YUV4MPEG2 (4:2:0) clip, the format of ``--use-file-for-fake-video-capture``."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for f in frames:
            fh.write(b"FRAME\n")
            fh.write(cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def jpeg(frame: np.ndarray, quality: int = 80) -> bytes:
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width``×``height`` px, with a tiny (wrong) body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def malformed_uploads() -> list[tuple[str, str, dict[str, str], bytes]]:
    """(name, path+query, headers, body) of requests that must each get a 4xx."""
    good = PAIR.read_bytes()
    gif = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (4, 4)).save(gif, "GIF")
    rng = np.random.default_rng(0)
    noise30 = rng.integers(0, 256, 30 * 1024 * 1024, dtype=np.uint8).tobytes()
    jpg = {"content-type": "image/jpeg"}
    boundary = "xYzBoundary"
    mp = {"content-type": f"multipart/form-data; boundary={boundary}"}
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return [
        ("truncated jpeg", "/v1/poses", jpg, good[: len(good) // 2]),
        ("truncated jpeg header", "/v1/poses", jpg, good[:40]),
        ("zero bytes", "/v1/poses", jpg, b""),
        ("text as jpeg", "/v1/poses", jpg, b"hello, this is not an image\n" * 20),
        ("text content type", "/v1/poses", {"content-type": "text/plain"}, b"hello"),
        ("no content type", "/v1/poses", {}, good),
        ("json as image", "/v1/poses", {"content-type": "application/json"}, b"{}"),
        ("svg", "/v1/poses", {"content-type": "image/svg+xml"}, b"<svg/>"),
        (
            "png 40000x40000",
            "/v1/poses",
            {"content-type": "image/png"},
            png_header_only(40000, 40000),
        ),
        ("png 1x1 declared", "/v1/poses", {"content-type": "image/png"}, png_header_only(1, 1)),
        ("30 MB noise", "/v1/poses", jpg, noise30),
        ("30 MB noise, interaction", "/v1/interaction", jpg, noise30),
        ("tiny gif", "/v1/interaction", {"content-type": "image/gif"}, gif.getvalue()),
        ("broken multipart", "/v1/poses", mp, part + good[:1000]),
        ("multipart without file", "/v1/poses", mp, f"--{boundary}--\r\n".encode()),
        ("multipart no boundary", "/v1/poses", {"content-type": "multipart/form-data"}, b"xx"),
        ("multipart garbage", "/v1/interaction", mp, b"\x00\x01garbage" * 100),
        ("bad kpt_thr", "/v1/poses?kpt_thr=7", jpg, good),
        ("bad detector", "/v1/poses?detector=yolo", jpg, good),
        ("bad model path", "/v1/poses?model=/etc/passwd", jpg, good),
        ("bad method", "/v1/interaction?method=telepathy", jpg, good),
        ("bad param", "/v1/interaction?param=nonsense", jpg, good),
        ("keypoints not json", "/v1/poses/keypoints", {"content-type": "application/json"}, b"[1,"),
        (
            "keypoints wrong shape",
            "/v1/poses/keypoints",
            {"content-type": "application/json"},
            b"[[1,2]]",
        ),
        ("keypoints as image", "/v1/poses/keypoints", jpg, good),
        ("video: text", "/v1/videos", {"content-type": "video/mp4"}, b"not a video at all" * 100),
        ("video: zero bytes", "/v1/videos", {"content-type": "video/mp4"}, b""),
        ("video: wrong type", "/v1/videos", {"content-type": "text/html"}, b"<html>"),
        ("video: bad stride", "/v1/videos?stride=0", {"content-type": "video/mp4"}, b"x"),
    ]
