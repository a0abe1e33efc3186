"""Resolve command-line SOURCE strings into a list of inputs (images, videos, webcams, streams).

One ``SOURCE`` argument may be:

* an image file (any extension that is not a video extension is treated as an image);
* a video file, recognised by its extension (:data:`VIDEO_EXTENSIONS`, case-insensitive);
* a folder: its images and videos (not recursive), sorted by file name;
* a glob pattern (``*``, ``?``, ``[...]``; ``**`` recurses): matching images and videos, sorted;
* a webcam index: a string of digits such as ``"0"``;
* a stream URL: ``rtsp://``, ``rtmp://``, ``http://``, ``https://``, ``udp://``, ``tcp://``.

Nothing is opened here; a path that does not exist or a folder/glob that yields nothing raises
:class:`~hhpnet.errors.InputError` with a one-line message.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hhpnet.errors import InputError

__all__ = [
    "IMAGE_EXTENSIONS",
    "STREAM_PREFIXES",
    "VIDEO_EXTENSIONS",
    "Source",
    "SourceKind",
    "resolve",
]

SourceKind = Literal["image", "video", "webcam", "stream"]

#: extensions picked up from folders and globs as images (lower case, with dot)
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm", ".pbm"}
)
#: extensions that make a file a video source
VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})
#: URL prefixes of network streams
STREAM_PREFIXES: tuple[str, ...] = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")
_GLOB_CHARS = ("*", "?", "[")


@dataclass(frozen=True)
class Source:
    """One input: ``kind`` and ``value`` (a path or URL string, or a webcam index)."""

    kind: SourceKind
    value: str | int

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_image(self) -> bool:
        """True for a still image (handled by the image pipeline, not the video loop)."""
        return self.kind == "image"


def _file_kind(path: str) -> SourceKind:
    return "video" if os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS else "image"


def _is_media(path: str) -> bool:
    ext = os.path.splitext(path)[1].lower()
    return ext in IMAGE_EXTENSIONS or ext in VIDEO_EXTENSIONS


def _resolve_one(spec: str) -> list[Source]:
    text = spec.strip()
    if not text:
        raise InputError("empty SOURCE argument")
    if text.isdigit():
        return [Source("webcam", int(text))]
    if text.lower().startswith(STREAM_PREFIXES):
        return [Source("stream", text)]
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        files = sorted(str(p) for p in Path(path).iterdir() if p.is_file() and _is_media(p.name))
        if not files:
            raise InputError(f"no images or videos found in folder {text!r}")
        return [Source(_file_kind(f), f) for f in files]
    if os.path.isfile(path):
        return [Source(_file_kind(path), path)]
    if any(ch in path for ch in _GLOB_CHARS):
        matches = sorted(
            m for m in glob.glob(path, recursive=True) if os.path.isfile(m) and _is_media(m)
        )
        if not matches:
            raise InputError(f"no images or videos match {text!r}")
        return [Source(_file_kind(m), m) for m in matches]
    raise InputError(f"no such file or folder: {text!r}")


def resolve(spec: list[str] | tuple[str, ...] | str) -> list[Source]:
    """Expand SOURCE strings into :class:`Source` objects, keeping the argument order.

    Folders and globs expand to their images and videos sorted by path. A path given twice is
    kept twice. Raises :class:`InputError` on an empty list, a missing path, or a folder/glob
    without any image or video.
    """
    specs = [spec] if isinstance(spec, str) else list(spec)
    if not specs:
        raise InputError("no SOURCE given (an image, folder, glob, video, webcam index or URL)")
    out: list[Source] = []
    for s in specs:
        out.extend(_resolve_one(str(s)))
    return out
