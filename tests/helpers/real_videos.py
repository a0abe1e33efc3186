"""Small video files shaped like real ones, made with FFmpeg through PyAV at test time.

Real containers are not the tidy mp4 files ``cv2.VideoWriter`` writes: they have B-frames
(decoding order ≠ display order, decoder delay), variable frame rates, and missing, duplicated,
negative or backwards timestamps. Each clip here shows the two walking people of
:func:`tests.helpers.video_fakes.walking_scene` (320×240), so the blob detector finds them and the
interaction timeline has something to do. The timestamps are set packet by packet.

=================  ==========================================================================
``bframes_avi``    H.264 with 3 B-frames (pyramid) in AVI: the decoder's delay shifts the
                   timestamps by two frames and the last frames come out without any
``mpeg4_avi``      MPEG-4 part 2 with 2 B-frames in AVI (as DivX/Xvid TV captures)
``bframes_mp4``    H.264 with B-frames in mp4 (negative decoding timestamps, an edit list)
``vfr_mkv``        MJPEG in Matroska at 30, then 10, then 60 frames per second
``dup_mkv``        every 5th frame repeats the previous frame's timestamp
``backwards_mkv``  one frame 2 frames back in time, then the timestamps restart 1.6 s earlier
``negative_mkv``   timestamps from −0.4 s
=================  ==========================================================================
"""

from __future__ import annotations

import fractions
from collections.abc import Callable

import numpy as np
import pytest

from tests.helpers.video_fakes import walking_scene

av = pytest.importorskip("av", reason="PyAV (dev extra) makes the real-video fixtures")

W, H, FPS = 320, 240, 25


def _encode(
    path: str,
    n: int,
    codec: str,
    *,
    pts: Callable[[int], int] | None = None,
    time_base: fractions.Fraction = fractions.Fraction(1, FPS),
    b_frames: int = 0,
    container_options: dict[str, str] | None = None,
) -> str:
    """Encode ``n`` frames of the walking scene; ``pts(k)`` (in ``time_base`` units) replaces
    the timestamp of packet k (intra-only codecs: packet k is frame k). The decoding timestamps
    stay increasing and ≤ pts, as muxers require: dts_k = min(pts_j, j ≥ k) − n + k."""
    out = av.open(path, "w", options=container_options or {})
    stream = out.add_stream(codec, rate=FPS)
    stream.width, stream.height = W, H
    stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    if pts is not None:
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
    if b_frames:
        stream.codec_context.max_b_frames = b_frames
        if codec == "libx264":
            stream.options = {"bframes": str(b_frames), "b-pyramid": "normal"}
    k_out = 0

    def mux(packets: list) -> None:
        nonlocal k_out
        for p in packets:
            if pts is not None:
                p.pts = pts(k_out)
                p.dts = min(pts(j) for j in range(k_out, n)) - n + k_out
                p.time_base = time_base
            k_out += 1
            out.mux(p)

    for k, img in enumerate(walking_scene(n, W, H)):
        frame = av.VideoFrame.from_ndarray(img, format="bgr24")
        if pts is not None:
            frame.pts, frame.time_base = k, time_base
        mux(stream.encode(frame))
    mux(stream.encode())
    out.close()
    return path


def _h264() -> str:
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def _vfr_ms(k: int) -> int:
    steps = [1000 / 30] * 20 + [1000 / 10] * 10 + [1000 / 60] * 30
    return round(sum(steps[:k]))


def _dup_ms(k: int) -> int:
    return 40 * (k - (k % 5 == 3))  # frame 3, 8, 13, … repeat the previous timestamp


def _back_ms(k: int) -> int:
    if k == 10:
        return 500 + 40 * 8  # two frames back
    return 500 + 40 * k if k < 30 else 100 + 40 * (k - 30)  # restart 1.6 s earlier


MS = fractions.Fraction(1, 1000)

#: name → (file name, frames, maker(path) → path)
CLIPS: dict[str, tuple[str, int, Callable[[str], str]]] = {
    "bframes_avi": ("bframes.avi", 60, lambda p: _encode(p, 60, _h264(), b_frames=3)),
    "mpeg4_avi": ("mpeg4.avi", 60, lambda p: _encode(p, 60, "mpeg4", b_frames=2)),
    "bframes_mp4": ("bframes.mp4", 60, lambda p: _encode(p, 60, _h264(), b_frames=3)),
    "vfr_mkv": ("vfr.mkv", 60, lambda p: _encode(p, 60, "mjpeg", pts=_vfr_ms, time_base=MS)),
    "dup_mkv": ("dup.mkv", 40, lambda p: _encode(p, 40, "mjpeg", pts=_dup_ms, time_base=MS)),
    "backwards_mkv": (
        "backwards.mkv",
        60,
        lambda p: _encode(p, 60, "mjpeg", pts=_back_ms, time_base=MS),
    ),
    "negative_mkv": (
        "negative.mkv",
        40,
        lambda p: _encode(
            p,
            40,
            "mjpeg",
            pts=lambda k: 40 * k - 400,
            time_base=MS,
            container_options={"avoid_negative_ts": "disabled"},
        ),
    ),
}


def make_clip(folder, name: str) -> tuple[str, int]:
    """Write clip ``name`` of :data:`CLIPS` into ``folder``; its path and frame count."""
    file_name, n, maker = CLIPS[name]
    return maker(str(folder / file_name)), n


def container_times(path: str) -> list[float]:
    """Presentation timestamps (s) of the video packets, in file order, as FFmpeg reads them."""
    with av.open(path) as c:
        s = c.streams.video[0]
        return [
            float(p.pts * s.time_base) if p.pts is not None else np.nan
            for p in c.demux(s)
            if p.size
        ]
