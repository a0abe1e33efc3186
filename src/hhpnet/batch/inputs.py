"""Batch inputs: files, folders, globs, URLs and manifests → named :class:`BatchInput` s."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hhpnet.batch.constants import (
    _DOWNLOAD_PREFIXES,
    _PATH_COLUMNS,
    MANIFEST_EXTENSIONS,
)
from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.batch.schema import Record


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class BatchInput:
    """One input of a batch: ``source`` (absolute path or URL), ``kind`` ("file", "url" for
    http(s) downloads, "stream" for other URLs) and an optional ``name`` given by a manifest."""

    source: str
    kind: str = "file"
    name: str | None = None


def _is_url(text: str) -> bool:
    return "://" in text and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def _url_input(text: str, name: str | None = None) -> BatchInput:
    kind = "url" if text.lower().startswith(_DOWNLOAD_PREFIXES) else "stream"
    return BatchInput(text, kind, name)


def _expand(spec: str, where: str) -> list[BatchInput]:
    """A folder or glob → its media files; a plain path → itself (even if it does not exist:
    inside a manifest a missing file is a failed input, not a usage error)."""
    from hhpnet.video.sources import resolve

    path = os.path.expanduser(spec)
    if os.path.isdir(path) or (not os.path.exists(path) and any(c in path for c in "*?[")):
        try:
            found = resolve([path])
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        return [BatchInput(os.path.abspath(str(s.value))) for s in found]
    return [BatchInput(os.path.abspath(path))]


def read_manifest(path: str | os.PathLike[str]) -> list[BatchInput]:
    """Inputs listed in a manifest file.

    Text (``.txt``, ``.lst``, ``.list``): one path or URL per line; blank lines and lines starting
    with ``#`` are skipped. CSV/TSV: a header naming a ``path`` column (or ``url``, ``source``,
    ``input``, ``file``, ``video``; case-insensitive) and optionally a ``name`` column (the
    output name of that input); a file with a single column and no such header is read as a
    text list. Relative paths are relative to the manifest's folder; folders and globs expand
    to their media files. Raises :class:`InputError` (one line) on an unreadable manifest.
    """
    path = os.fspath(path)
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc})") from None
    ext = os.path.splitext(path)[1].lower()
    entries: list[tuple[int, str, str | None]] = []  # (line number, spec, name)
    if ext in (".csv", ".tsv"):
        rows = list(csv.reader(text.splitlines(), delimiter="\t" if ext == ".tsv" else ","))
        numbered = [(k + 1, r) for k, r in enumerate(rows) if any(c.strip() for c in r)]
        numbered = [(k, r) for k, r in numbered if not r[0].lstrip().startswith("#")]
        if numbered:
            header = [c.strip().lower() for c in numbered[0][1]]
            col = next((header.index(c) for c in _PATH_COLUMNS if c in header), None)
            if col is not None:
                name_col = header.index("name") if "name" in header else None
                for k, r in numbered[1:]:
                    spec = r[col].strip() if col < len(r) else ""
                    if not spec:
                        raise InputError(f"{path} line {k}: no {header[col]!r} value")
                    nm = None
                    if name_col is not None and name_col < len(r) and r[name_col].strip():
                        nm = r[name_col].strip()
                    entries.append((k, spec, nm))
            elif all(len(r) == 1 for _, r in numbered):
                entries = [(k, r[0].strip(), None) for k, r in numbered]
            else:
                raise InputError(
                    f"{path}: no path column (header needs one of {', '.join(_PATH_COLUMNS)})"
                )
    else:
        for k, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if s and not s.startswith("#"):
                entries.append((k, s, None))
    out: list[BatchInput] = []
    for k, spec, nm in entries:
        if nm is not None and _safe_name(nm) != nm:
            raise InputError(
                f"{path} line {k}: name {nm!r} may only use letters, digits, '.', '_' and '-' "
                "and must not start with '.', '_' or '-'"
            )
        if _is_url(spec):
            out.append(_url_input(spec, nm))
            continue
        p = spec if os.path.isabs(os.path.expanduser(spec)) else os.path.join(base, spec)
        found = _expand(p, f"{path} line {k}")
        if nm is not None:
            if len(found) != 1:
                raise InputError(f"{path} line {k}: a name needs a single file, not {spec!r}")
            found = [BatchInput(found[0].source, found[0].kind, nm)]
        out.extend(found)
    return out


def collect_inputs(specs: Sequence[str]) -> list[BatchInput]:
    """Expand INPUTS (files, folders, globs, URLs, manifests) into a list of inputs.

    Duplicates (the same absolute path or URL) are kept once, in first-seen order. Raises
    :class:`InputError` on no inputs, a missing path given directly, a folder or glob without
    media files, a webcam index, or a manifest that cannot be read.
    """
    from hhpnet.video.sources import resolve

    if not specs:
        raise InputError("give at least one INPUT (video, image, folder, glob, URL or manifest)")
    found: list[BatchInput] = []
    for spec in specs:
        text = str(spec).strip()
        if not text:
            raise InputError("empty INPUT argument")
        if _is_url(text):
            found.append(_url_input(text))
        elif text.isdigit():
            raise InputError(f"{text!r}: webcams are not batch inputs (use `hhpnet video {text}`)")
        elif (
            os.path.isfile(os.path.expanduser(text))
            and os.path.splitext(text)[1].lower() in MANIFEST_EXTENSIONS
        ):
            found.extend(read_manifest(os.path.expanduser(text)))
        else:
            found.extend(BatchInput(os.path.abspath(str(s.value))) for s in resolve([text]))
    out = _unique(found)
    if not out:
        raise InputError("the INPUTS hold no video or image")
    return out


def _unique(inputs: Sequence[BatchInput]) -> list[BatchInput]:
    """Each source once, at its first place."""
    seen: set[str] = set()
    out: list[BatchInput] = []
    for inp in inputs:
        if inp.source not in seen:
            seen.add(inp.source)
            out.append(inp)
    return out


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip("._-")[:100]
    return name or "input"


def _base_name(inp: BatchInput) -> str:
    if inp.name is not None:
        return inp.name
    tail = inp.source.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return _safe_name(os.path.splitext(tail)[0] or tail)


def _assign_names(inputs: Sequence[BatchInput], records: Mapping[str, Record]) -> dict[str, str]:
    """source → output name: the recorded name for known sources, else the file stem made
    unique (``clip``, ``clip-2``, …) against the names of every record in OUT and this run."""
    by_source = {r["source"]: r["name"] for r in records.values()}
    taken = {name: r["source"] for name, r in records.items()}
    names: dict[str, str] = {}
    for inp in inputs:
        if inp.source in by_source and (inp.name is None or inp.name == by_source[inp.source]):
            names[inp.source] = by_source[inp.source]
            continue
        base = _base_name(inp)
        if inp.name is not None:
            if taken.get(base, inp.source) != inp.source:
                raise InputError(f"name {base!r} is already used by {taken[base]}")
            name = base
        else:
            name, k = base, 1
            while taken.get(name, inp.source) != inp.source:
                k += 1
                name = f"{base}-{k}"
        taken[name] = inp.source
        names[inp.source] = name
    return names
