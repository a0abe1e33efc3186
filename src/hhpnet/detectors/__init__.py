"""Embedded, offline multi-person head-keypoint detectors.

    from hhpnet.detectors import create_detector
    det = create_detector()                     # "auto": BlazeFace + MoveNet; or "blazeface", …
    found = det(rgb_uint8_image)                # Detections: boxes, keypoints (N, 5, 3), scores

The model files (mediapipe 0.10.14, Apache-2.0, see ``models/NOTICE``) ship inside the package and
run with ai-edge-litert; nothing is downloaded. See docs/detectors.md for what the points are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hhpnet.detectors import registry

if TYPE_CHECKING:
    from hhpnet.detectors.base import Detections, Detector

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detections", "Detector", "create_detector"]

#: Names of the built-in detectors (:func:`hhpnet.detectors.registry.names` also lists those
#: registered later); the first is the default.
DETECTORS: tuple[str, ...] = registry.names()
#: The detector of the pipeline, the CLI and ``hhpnet batch`` unless one is named: BlazeFace for
#: faces and MoveNet for bodies (profiles, backs of heads), merged (docs/detectors.md).
DEFAULT_DETECTOR = registry.DEFAULT


def __getattr__(name: str) -> Any:
    # Detections/Detector load numpy; importing DETECTORS alone (e.g. for CLI choices) stays light.
    if name in ("Detections", "Detector"):
        from hhpnet.detectors import base

        return getattr(base, name)
    raise AttributeError(f"module 'hhpnet.detectors' has no attribute {name!r}")


def create_detector(name: str = DEFAULT_DETECTOR, **options: object) -> Detector:
    """A new detector instance (one interpreter per model, reused across calls).

    ``name``: a registered detector (:mod:`hhpnet.detectors.registry`, any case). ``options``
    are passed to the detector class (e.g. ``score_threshold``, ``num_threads``, ``tile=True``
    for BlazeFace); an unknown name or option raises :class:`InputError`.
    """
    return registry.create(name, **options)
