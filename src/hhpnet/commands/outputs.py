"""What the commands share around a run: sources resolved one by one, output files checked
before anything is read and named per source, one-line error and summary texts.

Standard library only at import time (the commands import it for their help).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hhpnet.video.processor import FrameResult
    from hhpnet.video.run import VideoSummary
    from hhpnet.video.sources import Source


def check_output_file(path: str | os.PathLike[str] | None, option: str) -> None:
    """Raise a one-line InputError now if ``path`` cannot be written as a file: a folder, or
    under an existing file."""
    from hhpnet.errors import InputError

    if path is None:
        return
    p = Path(path)
    if str(path) == "":
        raise InputError(f"{option}: empty file name")
    if p.is_dir():
        raise InputError(f"{option} {str(path)!r}: is a folder; give a file name")
    _check_parents(p.parent, f"{option} {str(path)!r}")


def check_output_dir(path: str | os.PathLike[str] | None, option: str) -> None:
    """Raise a one-line InputError now if ``path`` cannot be a folder (an existing file, or
    under one)."""
    from hhpnet.errors import InputError

    if path is None:
        return
    p = Path(path)
    if str(path) == "":
        raise InputError(f"{option}: empty folder name")
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} {str(path)!r}: is a file, not a folder")
    _check_parents(p.parent, f"{option} {str(path)!r}")


def check_output_files(paths: Mapping[str, str]) -> None:
    """:func:`check_output_file` for each output of a video run ({format name: path}), named
    by its option (:mod:`hhpnet.video.outputs`)."""
    from hhpnet.video import outputs

    for name, path in paths.items():
        check_output_file(path, outputs.get(name).option)


def _check_parents(parent: Path, what: str) -> None:
    from hhpnet.errors import InputError

    for q in (parent, *parent.parents):
        if q.exists():
            if not q.is_dir():
                raise InputError(f"{what}: cannot create a folder under the file {str(q)!r}")
            if not os.access(q, os.W_OK | os.X_OK):
                raise InputError(f"{what}: the folder {str(q)!r} is not writable")
            return


def resolve_each(specs: Sequence[str]) -> tuple[list[Source], list[tuple[str, str]]]:
    """Resolve every SOURCE on its own: (sources found, [(spec, one-line error)] of those
    that are missing or empty) — one bad SOURCE does not stop the others."""
    from hhpnet.errors import InputError
    from hhpnet.video.sources import resolve

    found: list[Source] = []
    bad: list[tuple[str, str]] = []
    for spec in specs:
        try:
            found.extend(resolve([spec]))
        except InputError as exc:
            bad.append((spec, str(exc)))
    return found, bad


def safe_name(text: str) -> str:
    """A file-name piece from a source name: letters, digits, ``._-`` (others → ``_``)."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return out or "source"


def unique_names(names: Sequence[str]) -> list[str]:
    """``names`` made unique by appending ``_1``, ``_2``, … to repeats (order kept)."""
    used: set[str] = set()
    out = []
    for n in names:
        cand, k = n, 1
        while cand in used:
            cand, k = f"{n}_{k}", k + 1
        used.add(cand)
        out.append(cand)
    return out


def written_files(*paths: str | None) -> str:
    """``"; wrote a, b"`` for the given output paths (empty without any)."""
    written = [p for p in paths if p]
    return f"; wrote {', '.join(written)}" if written else ""


def error_line(label: object, exc: BaseException) -> str:
    """``hhpnet: error: <label>: <message>`` without repeating a label the message already has."""
    msg = str(exc) if str(label) in str(exc) else f"{label}: {exc}"
    return f"hhpnet: error: {msg}"


def derived(path: str | os.PathLike[str] | None, name: str | None, ext: str = "") -> str | None:
    """The output file of one source: ``out.csv`` itself when ``name`` is None (the run has
    one source), else ``out.<name>.csv``; ``ext`` replaces the extension (``.timeline.csv``)."""
    if path is None:
        return None
    p = Path(path)
    ext = ext or p.suffix
    if name is None:
        return str(p.with_name(f"{p.stem}{ext}")) if ext != p.suffix else str(p)
    return str(p.with_name(f"{p.stem}.{name}{ext}"))


def stream_name(src: Source) -> str:
    """Base name of the per-video files: the file stem, ``webcam<index>`` or ``stream``."""
    if src.kind == "video":
        return safe_name(Path(str(src.value)).stem)
    if src.kind == "webcam":
        return f"webcam{src.value}"
    return "stream"


def print_records(result: FrameResult) -> None:
    """``on_frame`` callback: one JSON line per frame on standard output (no output file)."""
    import json

    rec = result.record()
    sys.stdout.write(json.dumps(rec, allow_nan=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def report_summary(summary: VideoSummary, *, stdout: bool = False) -> None:
    """Print a :class:`hhpnet.video.VideoSummary` on stderr (warnings, one summary line;
    ``stdout``: the records went to standard output).

    Ctrl-C → exit 130; a damaged video or lost stream raises :class:`HhpnetError` with the
    one-line reason after its files were kept (callers count it as failed, exit code 1).
    """
    import typer

    from hhpnet.errors import HhpnetError

    for w in summary.warnings:
        print(f"hhpnet: warning: {w}", file=sys.stderr)
    outs = ", ".join(summary.outputs.values())
    outs = outs or ("JSON Lines on standard output" if stdout else "no files written")
    print(
        f"{summary.source}: {summary.frames} frames, {summary.tracks} tracks, "
        f"{summary.fps:.1f} fps → {outs}",
        file=sys.stderr,
    )
    if summary.interrupted:
        print("hhpnet: interrupted; files written so far are kept", file=sys.stderr)
        raise typer.Exit(130)
    if summary.error:
        raise HhpnetError(summary.error)
