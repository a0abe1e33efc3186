"""Clips whose container announces more frames than it holds (issue 21): an AVI whose count
includes dropped-frame entries, an AVI whose header count is patched upwards, files cut short."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def avi_with_dropped_frames(
    path: Path, frames: list[np.ndarray], dropped: set[int], fps: int = 25
) -> Path:
    """MJPEG AVI of ``frames`` (BGR) with the frames at the indices ``dropped`` left out: FFmpeg's
    AVI muxer writes an empty chunk for each gap in the timestamps, which the header counts, as
    capture tools do for dropped frames. The decoder then returns ``len(frames) - len(dropped)``
    frames whose timestamps still reach the announced end."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuvj420p"
        for i, img in enumerate(frames):
            if i in dropped:
                continue
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def avi_count_plus(src: Path, dst: Path, extra: int) -> Path:
    """A copy of the AVI ``src`` whose header announces ``extra`` more frames than it holds
    (the total-frames field of ``avih`` and the stream length of ``strh``)."""
    data = bytearray(src.read_bytes())
    avih = data.find(b"avih")
    strh = data.find(b"strh")
    assert avih > 0 and strh > 0, "not an AVI file"
    for offset in (avih + 8 + 16, strh + 8 + 32):  # dwTotalFrames, dwLength
        (count,) = struct.unpack_from("<I", data, offset)
        struct.pack_into("<I", data, offset, count + extra)
    dst.write_bytes(bytes(data))
    return dst


def cut(src: Path, dst: Path, share: float) -> Path:
    """The first ``share`` of the bytes of ``src`` (a file that ends in the middle)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * share)])
    return dst
