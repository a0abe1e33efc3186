"""Type aliases shared across the package (for annotations only; no runtime behaviour).

numpy arrays by element type — ``F32`` / ``F64`` for a fixed float precision, ``FloatArray``
for float arrays of either precision, ``IntArray``, ``BoolArray``, ``U8`` for 8-bit images,
``Array`` for any element type — and ``JSONObject`` for a decoded JSON/YAML object (a run
configuration, a fit file) whose schema the reading code checks.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = ["F32", "F64", "U8", "Array", "BoolArray", "FloatArray", "IntArray", "JSONObject"]

F32: TypeAlias = NDArray[np.float32]
F64: TypeAlias = NDArray[np.float64]
#: an array of any element type (an image of any depth, labels, …)
Array: TypeAlias = NDArray[np.generic]
FloatArray: TypeAlias = NDArray[np.floating[Any]]
IntArray: TypeAlias = NDArray[np.integer[Any]]
BoolArray: TypeAlias = NDArray[np.bool_]
U8: TypeAlias = NDArray[np.uint8]
#: a decoded JSON/YAML object; values are checked where they are read
JSONObject: TypeAlias = dict[str, Any]
