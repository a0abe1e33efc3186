"""Embedded, offline multi-person head-keypoint detectors.

    from hhpnet.detectors import create_detector
    det = create_detector()                     # "auto": BlazeFace + MoveNet; or "blazeface", …
    found = det(rgb_uint8_image)                # Detections: boxes, keypoints (N, 5, 3), scores

The model files (mediapipe 0.10.14, Apache-2.0, see ``models/NOTICE``) ship inside the package and
run with ai-edge-litert; nothing is downloaded. See docs/detectors.md for what the points are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.detectors.base import Detections, Detector

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detections", "Detector", "create_detector"]

#: Names accepted by :func:`create_detector`; the first is the default.
DETECTORS: tuple[str, ...] = ("auto", "blazeface", "blazepose", "movenet")
#: The detector of the pipeline, the CLI and ``hhpnet batch`` unless one is named: BlazeFace for
#: faces and MoveNet for bodies (profiles, backs of heads), merged (docs/detectors.md).
DEFAULT_DETECTOR = DETECTORS[0]


def __getattr__(name: str) -> Any:
    # Detections/Detector load numpy; importing DETECTORS alone (e.g. for CLI choices) stays light.
    if name in ("Detections", "Detector"):
        from hhpnet.detectors import base

        return getattr(base, name)
    raise AttributeError(f"module 'hhpnet.detectors' has no attribute {name!r}")


def create_detector(name: str = DEFAULT_DETECTOR, **options: Any) -> Detector:
    """A new detector instance (one interpreter per model, reused across calls).

    ``options`` are passed to the detector class (e.g. ``score_threshold``, ``num_threads``,
    ``tile=True`` for BlazeFace); an unknown name or option raises :class:`InputError`.
    """
    key = str(name).lower()
    if key == "blazeface":
        from hhpnet.detectors.blazeface import BlazeFaceDetector as cls
    elif key == "blazepose":
        from hhpnet.detectors.blazepose import BlazePoseDetector as cls  # type: ignore[assignment]
    elif key == "movenet":
        from hhpnet.detectors.movenet import MoveNetDetector as cls  # type: ignore[assignment]
    elif key == "auto":
        from hhpnet.detectors.fused import FusedDetector as cls  # type: ignore[assignment]
    else:
        raise InputError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    try:
        return cls(**options)
    except TypeError as exc:
        raise InputError(f"detector {key!r}: {exc}") from None
