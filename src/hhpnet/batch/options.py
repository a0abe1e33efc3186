"""The options of a batch run (:class:`BatchOptions`), the hash that pins them, and the video
run of each input they make (:func:`video_settings`, :func:`input_formats`, its files:
:func:`_output_plan`)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hhpnet.batch.constants import _FLUSH_FRAMES
from hhpnet.batch.files import _sha256
from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.batch.schema import Processing
    from hhpnet.video.outputs import OutputFormat
    from hhpnet.video.settings import VideoSettings


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
        """Raise :class:`InputError` (one line) on an impossible combination: the running
        options here, the processing options as ``hhpnet video`` checks them
        (:meth:`hhpnet.video.VideoSettings.check`)."""
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
        opts = self._processing(self.model, None)
        video_settings(opts, {f.name: f.files[0][1] for f in input_formats(opts)}).check()

    def processing(self) -> Processing:
        """The options that determine the results (recorded with every input)."""
        model_file = os.path.isfile(self.model)
        return self._processing(
            os.path.abspath(self.model) if model_file else self.model,
            _sha256(self.model) if model_file else None,
        )

    def _processing(self, model: str, model_sha256: str | None) -> Processing:
        import hhpnet

        out: Processing = {
            "hhpnet": hhpnet.__version__,
            "model": model,
            "model_sha256": model_sha256,
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
        }
        if self.precise:  # only when set: results made before the option existed keep their hash
            out["precise"] = True
        return out


def _config_hash(processing: Processing) -> str:
    blob = json.dumps(processing, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def input_formats(opts: Processing) -> list[OutputFormat]:
    """The output formats of every input, in this order: the table (CSV, Parquet: the dataset)
    and, with the interaction analysis, the timeline CSV; then the formats ``opts`` asks for
    (``jsonl``, ``save_video``, ``timeline_png``: a format's name set true)."""
    from hhpnet.video import outputs

    always = ["csv", "parquet", *(["timeline_csv"] if opts["interact"] else [])]
    asked = [f for f in outputs.formats() if f.name not in always and opts.get(f.name)]
    return [outputs.get(n) for n in always] + asked


def video_settings(opts: Processing, paths: Mapping[str, str]) -> VideoSettings:
    """The :class:`~hhpnet.video.VideoSettings` of one input's run: the processing options
    ``opts`` (:meth:`BatchOptions.processing`) writing ``paths``
    ({format name: path}); no window, no progress bar, large Parquet row groups."""
    from hhpnet.video.settings import VideoSettings

    return VideoSettings(
        model=opts["model"],
        detector=opts["detector"],
        kpt_thr=opts["kpt_thr"],
        precise=bool(opts.get("precise", False)),
        interact=opts["interact"],
        interaction_method=opts["method"],
        stride=opts["stride"],
        max_frames=opts["max_frames"],
        fps=opts["fps"],
        smooth_accel=opts["smooth_accel"],
        progress=False,
        show=False,
        flush_every=_FLUSH_FRAMES,
    ).with_paths(paths)


def _output_plan(name: str, opts: Processing) -> list[tuple[str, str, str]]:
    """(key in the record, file name in the temp folder, final path relative to OUT) of each
    file of the input ``name``: the files of its output formats
    (:func:`hhpnet.batch.options.input_formats`) under ``inputs/<name>/``, the Parquet rows as
    the dataset's partition ``dataset/input=<name>/part-0.parquet``."""
    plan = []
    for fmt in input_formats(opts):
        for key, file in fmt.files:
            rel = f"dataset/input={name}/part-0.parquet" if key == "parquet" else None
            plan.append((key, file, rel or f"inputs/{name}/{file}"))
    return plan
