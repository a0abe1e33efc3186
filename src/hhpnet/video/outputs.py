"""The output formats of a video run, each registered once by name: what
:func:`hhpnet.video.process_video` writes (``csv=``, ``parquet=``, …, or ``outputs={name:
path}``), which file endings it accepts, the files ``hhpnet batch`` and ``hhpnet serve`` keep per
video, and which class writes it.

Cheap to import (no numpy): a format names its writer as ``"module:attribute"``, imported when
a run opens it. Adding a format is one module and one :func:`register` line: the module holds a
:class:`hhpnet.video.writers.Writer` subclass (opened with the file's path and the run's
:class:`~hhpnet.video.writers.RunInfo`; it writes each frame in :meth:`~hhpnet.video.writers.
Writer.write` and/or its end-of-run files in :meth:`~hhpnet.video.writers.Writer.finish`), and
the line below names it (docs/video.md, "Adding an output format"). A run opens the formats it
is given in registration order, writes every frame to each in that order, and closes them in
that order.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.video.writers import Writer

__all__ = [
    "PICTURE_OUT_EXTENSIONS",
    "VIDEO_OUT_EXTENSIONS",
    "OutputFormat",
    "formats",
    "get",
    "names",
    "register",
]

#: file name endings of the annotated video (the 'mp4v' codec) and of the timeline picture
VIDEO_OUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv")
PICTURE_OUT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".svg", ".pdf")


@dataclass(frozen=True)
class OutputFormat:
    """A registered output format.

    ``name``: the keyword of :func:`~hhpnet.video.process_video` and the key of
    ``VideoSettings.paths()``; ``option``: the command-line option (``hhpnet video``);
    ``writer``: "module:attribute" of its :class:`~hhpnet.video.writers.Writer`; ``files``:
    (summary key, file name) of each file it writes, the name used where a run names the files
    itself (``hhpnet batch``'s per-input folder, ``hhpnet serve``'s job folder), the summary key
    in ``VideoSummary.outputs`` and ``hhpnet batch``'s records; ``suffixes``: accepted file
    name endings (empty: any) and ``kind``, what the file is (for the error naming them);
    ``needs_interaction``: written from the interaction analysis (refused with
    ``interact=False``); ``help``: what the file holds, in one phrase (``hhpnet video``'s help
    of ``option`` and of ``--output NAME=FILE``).
    """

    name: str
    option: str
    writer: str
    files: tuple[tuple[str, str], ...]
    suffixes: tuple[str, ...] = ()
    kind: str = ""
    needs_interaction: bool = False
    help: str = ""

    def load(self) -> type[Writer]:
        """The writer class (imported now)."""
        module, _, attr = self.writer.partition(":")
        return cast("type[Writer]", getattr(importlib.import_module(module), attr))

    def check_path(self, path: str) -> None:
        """A one-line :class:`InputError` when ``path`` lacks one of the accepted endings."""
        if self.suffixes and os.path.splitext(path)[1].lower() not in self.suffixes:
            raise InputError(f"{path}: {self.kind} needs a name ending {', '.join(self.suffixes)}")


_REGISTRY: dict[str, OutputFormat] = {}


def register(fmt: OutputFormat) -> OutputFormat:
    """Add ``fmt`` under its name (registering a name twice is a programming error)."""
    if fmt.name in _REGISTRY:
        raise ValueError(f"output format {fmt.name!r} is already registered")
    _REGISTRY[fmt.name] = fmt
    return fmt


def names() -> tuple[str, ...]:
    """The registered format names, in registration order."""
    return tuple(_REGISTRY)


def formats() -> tuple[OutputFormat, ...]:
    """The registered formats, in registration order (the order a run opens and writes them)."""
    return tuple(_REGISTRY.values())


def get(name: str) -> OutputFormat:
    """The format called ``name``; a one-line :class:`InputError` naming the choices otherwise."""
    fmt = _REGISTRY.get(name)
    if fmt is None:
        raise InputError(f"unknown output format {name!r} (known: {', '.join(_REGISTRY)})")
    return fmt


_W = "hhpnet.video.writers:"
register(
    OutputFormat(
        "csv",
        "--csv",
        _W + "CsvOutput",
        (("csv", "poses.csv"),),
        help="One row per person per frame.",
    )
)
register(
    OutputFormat(
        "parquet",
        "--parquet",
        _W + "ParquetOutput",
        (("parquet", "poses.parquet"),),
        help="Same rows as Parquet (needs the parquet extra).",
    )
)
register(
    OutputFormat(
        "jsonl",
        "--json",
        _W + "JsonlOutput",
        (("jsonl", "poses.jsonl"),),
        help="JSON Lines, one record per frame.",
    )
)
register(
    OutputFormat(
        "save_video",
        "--save-video",
        _W + "VideoOutput",
        (("video", "annotated.mp4"),),
        VIDEO_OUT_EXTENSIONS,
        "the annotated video",
        help="Annotated mp4 (smoothed axes, σ fans, track ids).",
    )
)
register(
    OutputFormat(
        "timeline_csv",
        "--timeline-csv",
        _W + "TimelineCsvOutput",
        (("timeline_csv", "timeline.csv"), ("timeline_people_csv", "timeline_people.csv")),
        needs_interaction=True,
        help="Interaction intervals (+ <stem>_people.csv totals).",
    )
)
register(
    OutputFormat(
        "timeline_png",
        "--timeline-png",
        _W + "TimelinePngOutput",
        (("timeline_png", "timeline.png"),),
        PICTURE_OUT_EXTENSIONS,
        "the timeline picture",
        needs_interaction=True,
        help="Timeline picture, one row per pair.",
    )
)
