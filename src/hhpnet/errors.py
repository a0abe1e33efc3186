"""Exceptions with one-line, user-facing messages. The CLI prints them without a traceback."""

from __future__ import annotations


class HhpnetError(Exception):
    """Base class: a problem the user can fix (bad input, missing file, wrong option)."""


class InputError(HhpnetError, ValueError):
    """Unreadable or malformed input: image, video, keypoints file, array."""
