"""The JSON record of one image: what ``hhpnet predict --json`` and ``hhpnet interact --json``
write per image and what ``hhpnet serve`` answers (``POST /v1/poses``, ``/v1/interaction``).

One function builds it for all of them, so the command line and the HTTP API give the same
numbers: :meth:`hhpnet.poses.Poses.to_dict` (README "Output"), plus an ``"interaction"``
block (:meth:`hhpnet.interaction.Interaction.to_dict`) when an analysis is given.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hhpnet.interaction.result import Interaction
    from hhpnet.poses import Poses

__all__ = ["image_record", "record_line"]


def image_record(poses: Poses, interaction: Interaction | None = None) -> dict[str, object]:
    """The record of one image: ``poses.to_dict()`` + ``"interaction"`` (if given)."""
    record: dict[str, Any] = poses.to_dict()
    if interaction is not None:
        record["interaction"] = interaction.to_dict()
    return record


def record_line(poses: Poses, interaction: Interaction | None = None) -> str:
    """:func:`image_record` as one JSON line (no NaN: missing values are null)."""
    return json.dumps(image_record(poses, interaction), allow_nan=False)
