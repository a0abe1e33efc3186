"""The output folder: layout, atomic writes, commit records and their verification."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from hhpnet.batch.constants import (
    _STATUS_FINISHED,
)
from hhpnet.batch.inputs import (
    BatchInput,
)

if TYPE_CHECKING:
    from hhpnet.batch.schema import Fingerprint, Record


# --------------------------------------------------------------------------- files
def _sha256(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_json_atomic(path: str, data: object) -> None:
    """Write JSON to ``path`` via a temporary file, fsync and rename (never half-written)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, allow_nan=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


def _read_json(path: str) -> object:
    """The decoded JSON of ``path``; None when it is missing or not JSON (callers check the
    shape)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class _Layout:
    """Paths inside the output folder."""

    out: str

    @property
    def control(self) -> str:
        return os.path.join(self.out, "_batch")

    @property
    def records(self) -> str:
        return os.path.join(self.control, "records")

    @property
    def running(self) -> str:
        return os.path.join(self.control, "running")

    @property
    def tmp(self) -> str:
        return os.path.join(self.control, "tmp")

    @property
    def marker(self) -> str:
        return os.path.join(self.control, "batch.json")

    @property
    def dataset(self) -> str:
        return os.path.join(self.out, "dataset")

    @property
    def summary(self) -> str:
        return os.path.join(self.out, "summary.csv")

    def record(self, name: str) -> str:
        return os.path.join(self.records, f"{name}.json")

    def input_dir(self, name: str) -> str:
        return os.path.join(self.out, "inputs", name)

    def partition(self, name: str) -> str:
        return os.path.join(self.dataset, f"input={name}")


def _input_fingerprint(inp: BatchInput, with_hash: bool) -> Fingerprint:
    if inp.kind != "file":
        return {"url": inp.source}
    try:
        st = os.stat(inp.source)
    except OSError:
        return {"missing": True}
    fp: Fingerprint = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if with_hash:
        fp["sha256"] = _sha256(inp.source)
    return fp


def _verify_finished(
    layout: _Layout, rec: Record | None, inp: BatchInput, config: str, check: str
) -> bool:
    """True if ``rec`` is a finished result of ``inp`` with these options and its files are
    intact (sizes, or SHA-256 with ``check="hash"``)."""
    if not rec or rec.get("status") not in _STATUS_FINISHED:
        return False
    if rec.get("source") != inp.source or rec.get("config") != config:
        return False
    old = rec.get("input") or {}
    if inp.kind == "file":
        now = _input_fingerprint(inp, with_hash=False)
        if now.get("size") != old.get("size") or now.get("mtime_ns") != old.get("mtime_ns"):
            return False
        if check == "hash" and "sha256" in old and _sha256(inp.source) != old["sha256"]:
            return False
    for info in (rec.get("outputs") or {}).values():
        p = os.path.join(layout.out, info["path"])
        try:
            if os.path.getsize(p) != info["size"]:
                return False
        except OSError:
            return False
        if check == "hash" and _sha256(p) != info["sha256"]:
            return False
    return bool(rec.get("outputs"))


def _load_records(layout: _Layout) -> dict[str, Record]:
    """name → record (unreadable or foreign files are ignored)."""
    out: dict[str, Record] = {}
    if not os.path.isdir(layout.records):
        return out
    for fn in sorted(os.listdir(layout.records)):
        if not fn.endswith(".json"):
            continue
        rec = _read_json(os.path.join(layout.records, fn))
        if isinstance(rec, dict) and rec.get("name") == fn[:-5] and "source" in rec:
            out[rec["name"]] = cast("Record", rec)
    return out


def _remove_orphans(layout: _Layout, records: dict[str, Record]) -> list[str]:
    """Delete per-input folders and dataset partitions that no finished record owns."""
    keep = {n for n, r in records.items() if r.get("status") in _STATUS_FINISHED}
    removed = []
    for parent, prefix in ((os.path.join(layout.out, "inputs"), ""), (layout.dataset, "input=")):
        if not os.path.isdir(parent):
            continue
        for entry in os.listdir(parent):
            if not entry.startswith(prefix):
                continue
            name = entry[len(prefix) :]
            if name not in keep:
                shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
                removed.append(entry)
    return removed
