"""Drawing: head poses (:mod:`hhpnet.draw.pose`) and interactions (:mod:`hhpnet.draw.interaction`).

``from hhpnet.draw import annotate`` (and the annotator classes, ``outlined_text``) keeps working:
they are the names of :mod:`hhpnet.draw.pose`, re-exported here.
"""

from __future__ import annotations

from hhpnet.draw.pose import (
    AxisAnnotator,
    KeypointAnnotator,
    LabelAnnotator,
    UncertaintyAnnotator,
    annotate,
    outlined_text,
)

__all__ = [
    "AxisAnnotator",
    "KeypointAnnotator",
    "LabelAnnotator",
    "UncertaintyAnnotator",
    "annotate",
    "outlined_text",
]
