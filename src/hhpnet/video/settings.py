"""One video run's configuration (:class:`VideoSettings`), checked once
(:meth:`VideoSettings.check`) and built by every command that runs videos: ``hhpnet video``,
``hhpnet predict`` / ``interact`` given a video, ``hhpnet batch`` (each input's run) and
``hhpnet serve``'s video jobs; :func:`hhpnet.video.process_video` takes it (or builds it from
its keywords).

Usage errors are one-line :class:`~hhpnet.errors.InputError` (docs/errors.md), raised before a
source is opened or a file written.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hhpnet.errors import InputError
from hhpnet.video import outputs

if TYPE_CHECKING:
    from hhpnet.detectors.base import Detector
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.protocols import PoseModel
    from hhpnet.video.smoothing import SmootherParams

    #: what :class:`~hhpnet.pipeline.HeadPoseEstimator` takes as its model and its detector
    ModelSpec = str | os.PathLike[str] | PoseModel
    DetectorSpec = str | Detector | None

__all__ = ["NAMED_OUTPUTS", "VideoSettings", "check_options"]

PathLike = str | os.PathLike[str]
#: the output formats with a field (and a keyword of process_video) of their own
NAMED_OUTPUTS = ("csv", "parquet", "jsonl", "save_video", "timeline_csv", "timeline_png")


@dataclass(frozen=True)
class VideoSettings:
    """The options of one :func:`~hhpnet.video.process_video` run (see its docstring for each).

    Outputs: ``csv``, ``parquet``, ``jsonl``, ``save_video``, ``timeline_csv``,
    ``timeline_png``, and ``outputs`` ({format name: path}) for any format of
    :mod:`hhpnet.video.outputs` (:meth:`paths` gives them all); analysis: ``interact``,
    ``interaction_method``, ``interaction_params``; frame selection: ``stride``,
    ``max_frames``, ``start``, ``end``, ``fps``; the run itself: ``resume``, ``show``,
    ``progress``, ``flush_every``, ``name``, ``body_every`` (MoveNet on every K-th frame only,
    ``auto`` detector; :mod:`hhpnet.video.cadence`); ``smooth_accel``: the smoother's process
    noise (None: its default). The estimator a run makes when none is given
    (:meth:`estimator`): ``model``, ``detector``, ``kpt_thr`` and ``precise`` (every frame read
    mirrored as well; a given estimator must then have ``precise`` set).
    """

    csv: PathLike | None = None
    parquet: PathLike | None = None
    jsonl: PathLike | None = None
    save_video: PathLike | None = None
    timeline_csv: PathLike | None = None
    timeline_png: PathLike | None = None
    interact: bool = True
    interaction_method: str = "hhpnet"
    interaction_params: dict[str, object] | None = None
    stride: int = 1
    max_frames: int | None = None
    start: float = 0.0
    end: float | None = None
    fps: float | None = None
    resume: bool = False
    show: bool = False
    progress: bool | None = None
    flush_every: int = 1
    name: str | None = None
    body_every: int = 1
    precise: bool = False
    outputs: Mapping[str, PathLike] = field(default_factory=dict)
    model: ModelSpec = "hhpnet-1.0"
    detector: DetectorSpec = "auto"
    kpt_thr: float = 0.0
    smooth_accel: float | None = None

    @classmethod
    def of_keywords(cls, keywords: Mapping[str, object]) -> VideoSettings:
        """The settings of :func:`~hhpnet.video.process_video`'s keywords: each field whose
        name is a key of ``keywords`` takes its value (``outputs``: None is none), the others
        keep their defaults; other keys are ignored. Nothing is checked yet
        (:meth:`check`)."""
        given: dict[str, Any] = {
            f.name: keywords[f.name] for f in dataclasses.fields(cls) if f.name in keywords
        }
        given["outputs"] = dict(given.get("outputs") or {})
        return cls(**given)

    def paths(self) -> dict[str, str]:
        """{format name: path} of every output of the run, in the registry's order (the
        order a run opens and writes them); an unknown format name is an InputError."""
        given: dict[str, PathLike | None] = {n: getattr(self, n) for n in NAMED_OUTPUTS}
        given.update(self.outputs)
        for name, path in given.items():
            if path is not None:
                outputs.get(name)
        return {n: os.fspath(p) for n in outputs.names() if (p := given.get(n)) is not None}

    def with_paths(self, paths: Mapping[str, PathLike | None]) -> VideoSettings:
        """These settings writing ``paths`` ({format name: path or None}) instead."""
        named: dict[str, Any] = {n: paths.get(n) for n in NAMED_OUTPUTS}
        rest = {n: p for n, p in paths.items() if n not in NAMED_OUTPUTS and p is not None}
        return dataclasses.replace(self, outputs=rest, **named)

    def check(self) -> None:
        """Raise a one-line :class:`InputError` for settings a run refuses (frame selection,
        output names, option combinations, the interaction method and its parameters,
        ``kpt_thr``, ``smooth_accel``)."""
        paths = self.paths()
        check_options(
            stride=self.stride,
            max_frames=self.max_frames,
            start=self.start,
            end=self.end,
            fps=self.fps,
        )
        for name, path in paths.items():
            outputs.get(name).check_path(path)
        self._check_combinations(paths)
        self._check_components()

    def _check_combinations(self, paths: Mapping[str, str]) -> None:
        if not self.interact and any(outputs.get(n).needs_interaction for n in paths):
            raise InputError("a timeline needs the interaction analysis (remove --no-interact)")
        if self.resume and self.csv is None:
            raise InputError("--resume needs --csv: the CSV is the journal a run resumes from")
        if self.flush_every < 1:
            raise InputError(f"flush_every must be ≥ 1; got {self.flush_every}")
        if not isinstance(self.body_every, int) or self.body_every < 1:
            raise InputError(f"body_every must be an integer ≥ 1; got {self.body_every!r}")
        if self.body_every > 1 and self.precise:
            # the cadence keeps the last frame's bodies; the mirror pass would mix in the
            # mirrored frame's
            raise InputError("--body-every and --precise cannot be combined")

    def _check_components(self) -> None:
        """The smoother's, the interaction analysis' and the estimator's own checks."""
        from hhpnet.pipeline import HeadPoseEstimator

        self.smoother_params()
        if self.interact:
            from hhpnet.interaction import analyze
            from hhpnet.poses import Poses

            analyze(
                Poses.empty(), method=self.interaction_method, **(self.interaction_params or {})
            )
        # its kpt_thr and precise (nothing is loaded: the names are checked by :meth:`estimator`)
        HeadPoseEstimator(
            model=self.model, detector=self.detector, kpt_thr=self.kpt_thr, precise=self.precise
        )

    def smoother_params(self) -> SmootherParams | None:
        """The :class:`~hhpnet.video.smoothing.SmootherParams` of ``smooth_accel`` (None: the
        smoother's defaults)."""
        from hhpnet.video.smoothing import SmootherParams

        return None if self.smooth_accel is None else SmootherParams(accel_std=self.smooth_accel)

    def estimator(self, **detector_options: Any) -> HeadPoseEstimator:
        """The estimator of these settings with its model and detector loaded now (a bad name
        or option is one :class:`InputError` before any source is opened; so is
        ``body_every`` with another detector than ``auto``). ``detector_options`` go to the
        detector (e.g. ``num_threads``)."""
        from hhpnet.pipeline import HeadPoseEstimator

        est = HeadPoseEstimator(
            model=self.model,
            detector=self.detector,
            kpt_thr=self.kpt_thr,
            precise=self.precise,
            **detector_options,
        )
        est.model  # noqa: B018 - load now: a bad name is a usage error
        est.detector  # noqa: B018
        if self.body_every != 1:
            from hhpnet.video.cadence import with_body_cadence

            with_body_cadence(est, self.body_every)  # a bad value or detector: usage error
        return est


def check_options(
    *,
    stride: object = 1,
    max_frames: object = None,
    start: object = 0.0,
    end: object = None,
    fps: object = None,
    save_video: PathLike | None = None,
    timeline_png: PathLike | None = None,
) -> None:
    """Raise a one-line :class:`InputError` for options that :func:`process_video` would
    refuse (frame selection, output file types), so a caller can check before opening
    anything."""
    _check_selection(stride, max_frames, start, end)
    if fps is not None and not (
        isinstance(fps, (int, float, np.number)) and math.isfinite(fps) and 0 < fps <= 1000
    ):
        raise InputError(f"fps must be a number in (0, 1000]; got {fps}")
    for name, path in (("save_video", save_video), ("timeline_png", timeline_png)):
        if path is not None:
            outputs.get(name).check_path(os.fspath(path))


def _check_selection(stride: object, max_frames: object, start: object, end: object) -> None:
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise InputError(f"stride must be an integer ≥ 1; got {stride}")
    if max_frames is not None and (
        isinstance(max_frames, bool)
        or not isinstance(max_frames, (int, np.integer))
        or max_frames < 1
    ):
        raise InputError(f"max_frames must be an integer ≥ 1; got {max_frames}")
    if not (isinstance(start, (int, float, np.number)) and math.isfinite(start) and start >= 0):
        raise InputError(f"start must be a finite number of seconds ≥ 0; got {start}")
    if end is not None and not (
        isinstance(end, (int, float, np.number)) and not math.isnan(end) and end > start
    ):
        raise InputError(f"end must be a number of seconds after start ({start}); got {end}")
