"""The options of a batch run (:class:`BatchOptions`) and the hash that pins them."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from hhpnet.batch.files import (
    _sha256,
)
from hhpnet.errors import InputError


# --------------------------------------------------------------------------- options
@dataclass
class BatchOptions:
    """Options of a batch run.

    Processing (as ``hhpnet video``; they make the results, so an output folder keeps them):
    ``model``, ``detector``, ``kpt_thr``, ``interact``, ``method``, ``stride``, ``max_frames``,
    ``fps``, ``smooth_accel``, ``precise`` (also read every frame mirrored: accuracy first,
    about twice the detector time), and the optional per-input files ``jsonl``, ``save_video``,
    ``timeline_png``.

    Running: ``address`` (None: start a local Ray instance; else ``ray.init(address)``, e.g.
    ``"auto"`` or ``"head:6379"``), ``num_cpus`` (CPUs of the local instance, default all),
    ``workers`` (inputs processed at once; default local CPUs, or cluster CPUs, ÷ ``threads``),
    ``threads`` (CPUs per task = detector threads, default 1), ``retries`` (per task, for dead
    workers and unexpected errors), ``check`` ("size" or "hash", how finished inputs are
    verified), ``force`` (redo this run's inputs, and drop the results in OUT made with other
    processing options instead of refusing to run), ``progress`` (progress bar on stderr;
    None: only on a terminal), ``ray_logs`` (show Ray's and the workers' own log lines).
    """

    model: str = "hhpnet-1.0"
    detector: str = "auto"
    kpt_thr: float = 0.0
    interact: bool = True
    method: str = "hhpnet"
    stride: int = 1
    max_frames: int | None = None
    fps: float | None = None
    smooth_accel: float | None = None
    precise: bool = False
    jsonl: bool = False
    save_video: bool = False
    timeline_png: bool = False
    address: str | None = None
    num_cpus: int | None = None
    workers: int | None = None
    threads: int = 1
    retries: int = 2
    check: str = "size"
    force: bool = False
    progress: bool | None = None
    ray_logs: bool = False

    def validate(self) -> None:
        """Raise :class:`InputError` (one line) on an impossible combination."""
        if self.stride < 1:
            raise InputError(f"--stride must be ≥ 1; got {self.stride}")
        if self.max_frames is not None and self.max_frames < 1:
            raise InputError(f"--max-frames must be ≥ 1; got {self.max_frames}")
        if self.threads < 1:
            raise InputError(f"--threads must be ≥ 1; got {self.threads}")
        if self.retries < 0:
            raise InputError(f"--retries must be ≥ 0; got {self.retries}")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"--workers must be ≥ 1; got {self.workers}")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise InputError(f"--num-cpus must be ≥ 1; got {self.num_cpus}")
        if self.num_cpus is not None and self.address is not None:
            raise InputError(
                "--num-cpus sizes the local Ray instance; with --address the cluster's CPUs "
                "are used (limit them with --workers)"
            )
        if self.check not in ("size", "hash"):
            raise InputError(f"--check must be 'size' or 'hash'; got {self.check!r}")
        if self.timeline_png and not self.interact:
            raise InputError("a timeline needs the interaction analysis (remove --no-interact)")
        if not 0.0 <= self.kpt_thr <= 1.0:
            raise InputError(f"--kpt-thr must be in [0, 1]; got {self.kpt_thr}")

    def processing(self) -> dict[str, Any]:
        """The options that determine the results (recorded with every input)."""
        import hhpnet

        model_file = os.path.isfile(self.model)
        return {
            "hhpnet": hhpnet.__version__,
            "model": os.path.abspath(self.model) if model_file else self.model,
            "model_sha256": _sha256(self.model) if model_file else None,
            "detector": self.detector,
            "kpt_thr": self.kpt_thr,
            "interact": self.interact,
            "method": self.method,
            "stride": self.stride,
            "max_frames": self.max_frames,
            "fps": self.fps,
            "smooth_accel": self.smooth_accel,
            "jsonl": self.jsonl,
            "save_video": self.save_video,
            "timeline_png": self.timeline_png,
            # only when set: results made before the option existed keep their hash
            **({"precise": True} if self.precise else {}),
        }


def _config_hash(processing: dict[str, Any]) -> str:
    blob = json.dumps(processing, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
