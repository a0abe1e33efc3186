"""HHP-Net inference in pure numpy (float32): five keypoints → yaw, pitch, roll + σ (degrees).

Architecture (method.md; α = width multiplier, H = (250, 200, 150)·α)::

    input  [x1, y1, c1, …, x5, y5, c5]   (hhpnet.keypoints.normalize)
    x-branch  leaky(w_x[f] · x_k + b_x[f])          5 filters, shared over the 5 points (1×1 conv)
    y-branch  leaky(w_y[f] · y_k + b_y[f])
    c-branch  sigmoid(w_c[f] · (c_k − c_mean) / c_std)       no bias
    gated     [x-branch · c-branch (k*5+f, 25 values), y-branch · c-branch (25 values)]  → 50
    fc1 → fc2 → fc3   Dense H1, H2, H3 with LeakyReLU(0.1)
    head      Dense(6): rows [yaw, s_yaw, pitch, s_pitch, roll, s_roll], s = log σ² (degrees²)

The weight file is a safetensors file (float32, no pickle) with exactly the tensor names and
layouts of the shared contract (see :data:`TENSOR_SHAPES`) and string metadata (α, c_mean, c_std,
angle convention, generator version, training config, σ calibration, creation time).

For speed, the three branches and the confidence standardisation are folded at load time into
one ``(15, 75)`` matrix: a single matmul gives the 25 x-, 25 y- and 25 c-pre-activations. The
result is identical to the layer-by-layer definition (tested against the torch module). Every
person is computed with the same matrix-vector products (biases folded into the matrices), so a
person's result is identical bit for bit alone and in any batch (docs/validity.md). One clean
face takes a separate path with the same arithmetic (no batch bookkeeping, per-thread
preallocated activations): ~21 µs per ``predict`` for α = 1 on a quiet core.

Deviation from the paper's output, documented: ``s`` is clipped to [:data:`S_MIN`, :data:`S_MAX`]
before σ = exp(s/2) (0.25° … 1100°), the same clip the training loss uses, and σ is multiplied by
the per-angle ``sigma_calibration`` stored in the file. Yaw is wrapped to (−180, 180].
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import ANGLE_NAMES
from hhpnet.errors import InputError
from hhpnet.keypoints import FAR_POINT_FACTOR, MAX_COORD, normalize, plausible, validate_keypoints

__all__ = [
    "MODEL_NAMES",
    "TENSOR_SHAPES",
    "WEIGHTS_DIR",
    "HeadPoseModel",
    "PoseOutput",
    "hidden_sizes",
    "load_model",
    "parameter_count",
]

WEIGHTS_DIR = Path(__file__).parent / "weights"
MODEL_NAMES: tuple[str, ...] = ("hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2")
FORMAT_VERSION = "1"
#: clip of s = log σ² (degrees²), shared with the training loss
S_MIN, S_MAX = -2.8, 14.0
LEAK = 0.1
#: confidence standardisation of the c-branch when a weights file does not state its own
#: (``c_mean`` / ``c_std`` metadata; training writes the statistics of its data)
C_MEAN, C_STD = 0.5287, 0.320


def hidden_sizes(alpha: float) -> tuple[int, int, int]:
    """Hidden widths ``(250, 200, 150)·α`` rounded to integers."""
    h1, h2, h3 = (round(h * alpha) for h in (250, 200, 150))
    return h1, h2, h3


def tensor_shapes(alpha: float) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the tensors of a weight file for width ``alpha``."""
    h1, h2, h3 = hidden_sizes(alpha)
    return {
        "branch_x.weight": (5,),
        "branch_x.bias": (5,),
        "branch_y.weight": (5,),
        "branch_y.bias": (5,),
        "branch_c.weight": (5,),
        "fc1.weight": (h1, 50),
        "fc1.bias": (h1,),
        "fc2.weight": (h2, h1),
        "fc2.bias": (h2,),
        "fc3.weight": (h3, h2),
        "fc3.bias": (h3,),
        "head.weight": (6, h3),
        "head.bias": (6,),
    }


TENSOR_SHAPES = tensor_shapes(1.0)


def parameter_count(alpha: float) -> int:
    """Number of trainable parameters at width ``alpha`` (94,031 for α = 1)."""
    return sum(math.prod(s) for s in tensor_shapes(alpha).values())


@dataclass(slots=True)
class PoseOutput:
    """Model output for N people. Angles and σ in degrees; invalid rows: NaN angles, inf σ."""

    yaw: NDArray[np.float32]  # (N,) in (−180, 180]
    pitch: NDArray[np.float32]  # (N,)
    roll: NDArray[np.float32]  # (N,)
    sigma: NDArray[np.float32]  # (N, 3) yaw, pitch, roll
    valid: NDArray[np.bool_]  # (N,)

    @classmethod
    def of(
        cls, angles: NDArray[np.float32], sigma: NDArray[np.float32], valid: NDArray[np.bool_]
    ) -> PoseOutput:
        """From ``(N, 3)`` angles (yaw, pitch, roll), ``(N, 3)`` σ and ``(N,)`` validity."""
        return cls(angles[:, 0].copy(), angles[:, 1].copy(), angles[:, 2].copy(), sigma, valid)

    @property
    def angles(self) -> NDArray[np.float32]:
        """``(N, 3)`` yaw, pitch, roll in degrees."""
        return np.stack([self.yaw, self.pitch, self.roll], axis=1)

    def __len__(self) -> int:
        return len(self.yaw)


class HeadPoseModel:
    """HHP-Net forward pass in numpy. Build with :func:`load_model` or from a tensor dict."""

    def __init__(
        self, tensors: Mapping[str, ArrayLike], metadata: Mapping[str, str] | None = None
    ) -> None:
        meta = dict(metadata or {})
        try:
            alpha = float(meta.get("alpha", "nan"))
            c_mean = float(meta.get("c_mean", C_MEAN))
            c_std = float(meta.get("c_std", C_STD))
            calib = json.loads(meta.get("sigma_calibration", "{}") or "{}")
            calib_list = [float(calib.get(a, 1.0)) for a in ANGLE_NAMES]
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"weight file metadata is malformed: {exc}") from exc
        t = {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}
        if not math.isfinite(alpha):
            alpha = t["fc1.weight"].shape[0] / 250.0 if "fc1.weight" in t else 1.0
        expected = tensor_shapes(alpha)
        missing = sorted(set(expected) - set(t))
        if missing:
            raise InputError(f"weight file lacks tensors {missing}")
        for k, shape in expected.items():
            if t[k].shape != shape:
                raise InputError(f"weight tensor {k}: expected shape {shape}, got {t[k].shape}")
        self.alpha = alpha
        self.name = meta.get("name", f"hhpnet-{alpha:g}")
        self.metadata = meta
        self.c_mean = c_mean
        self.c_std = c_std
        self._calib = calib_list
        self.sigma_calibration = np.array(self._calib, dtype=np.float32)
        self.tensors = t
        self._fold()

    # ------------------------------------------------------------------ weights
    def _fold(self) -> None:
        """Pre-compute contiguous, pre-transposed float32 matrices with the bias as last row.

        Layer 0 maps the 15 inputs (+ a constant 1) to 75 pre-activations: 25 x-branch
        (k*5+f), 25 y-branch, and 25 values u/2 of the c-branch (u = w_c·(c − c_mean)/c_std),
        because sigmoid(u) = (1 + tanh(u/2))/2; the factor ½ is folded into fc1 (LeakyReLU
        and the gate product are positively homogeneous).
        """
        t = {k: v.astype(np.float64) for k, v in self.tensors.items()}
        w0 = np.zeros((15, 75))
        b0 = np.zeros(75)
        wc = t["branch_c.weight"] / self.c_std
        for k in range(5):
            w0[3 * k, k * 5 : k * 5 + 5] = t["branch_x.weight"]
            b0[k * 5 : k * 5 + 5] = t["branch_x.bias"]
            w0[3 * k + 1, 25 + k * 5 : 30 + k * 5] = t["branch_y.weight"]
            b0[25 + k * 5 : 30 + k * 5] = t["branch_y.bias"]
            w0[3 * k + 2, 50 + k * 5 : 55 + k * 5] = 0.5 * wc
            b0[50 + k * 5 : 55 + k * 5] = -0.5 * self.c_mean * wc
        layers = [(w0, b0)]
        for i, n in enumerate(("fc1", "fc2", "fc3", "head")):
            layers.append((t[f"{n}.weight"].T * (0.5 if i == 0 else 1.0), t[f"{n}.bias"]))
        # The matrices with the bias appended as a last row, applied to an input with a
        # trailing 1: one matrix-vector product per layer and person, no bias add (the batch
        # path and the single-face path alike).
        self._layers1 = tuple(
            np.ascontiguousarray(np.vstack([w, b]), dtype=np.float32) for w, b in layers
        )
        # Activation buffers of the single-face path, created per thread on first use.
        self._local = threading.local()

    def _buffers1(self) -> _Buffers1:
        """This thread's preallocated activation buffers for :meth:`_forward1` (created on the
        first single-face call of each thread and kept in a ``threading.local``, so concurrent
        predictions never share them)."""
        w0, w1, w2, w3, wh = self._layers1
        x = np.ones(16, np.float32)  # 15 inputs and the constant 1
        z = np.empty(75, np.float32)  # layer-0 pre-activations
        a0 = np.ones(51, np.float32)  # gated features and the constant 1
        t0 = np.empty(50, np.float32)  # LeakyReLU scratch
        hidden = []
        src = a0
        for w in (w1, w2, w3):
            n = w.shape[1]
            h = np.ones(n + 1, np.float32)  # activations and the constant 1
            hidden.append((src, w, h[:n], np.empty(n, np.float32)))
            src = h
        out = np.empty(6, np.float32)
        bufs = _Buffers1(
            x, x[:15], z, z[:50], z[50:], t0, t0.reshape(2, 25), a0[:50].reshape(2, 25),
            w0, tuple(hidden), src, wh, out,
        )  # fmt: skip
        self._local.bufs = bufs
        return bufs

    def _forward1(self, vals: list[float]) -> list[float]:
        """:meth:`forward` for one normalised input given as 15 Python floats; returns the 6 raw
        outputs.

        Same layers as the batch path, with the biases folded into the matrices (an input with a
        trailing 1) and the activations written into this thread's preallocated buffers, which
        saves the allocations and bias additions that dominate for one face.
        """
        b = getattr(self._local, "bufs", None)
        if b is None:
            b = self._buffers1()
        leak = _LEAK0D
        b.x15[:] = vals
        np.dot(b.x, b.w0, out=b.z)
        g = b.gate
        np.tanh(g, out=g)
        np.add(g, _ONE0D, out=g)  # = 2 · sigmoid gate; the ½ is folded into fc1
        pre, t = b.pre, b.t0
        np.multiply(pre, leak, out=t)
        np.maximum(pre, t, out=t)
        np.multiply(b.t0_2x25, g, out=b.a0_2x25)
        for src, w, h, t in b.hidden:
            np.dot(src, w, out=h)
            np.multiply(h, leak, out=t)
            np.maximum(h, t, out=h)
        np.dot(b.last, b.wh, out=b.out)
        result: list[float] = b.out.tolist()
        return result

    def __getstate__(self) -> dict[str, Any]:
        """Pickle / copy support: the per-thread buffers are not part of the state."""
        state = dict(self.__dict__)
        state.pop("_local", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def parameter_count(self) -> int:
        """Number of parameters in the weight tensors."""
        return int(sum(v.size for v in self.tensors.values()))

    # ------------------------------------------------------------------ forward
    def forward(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Raw network output ``(..., 6)`` = [yaw, s_yaw, pitch, s_pitch, roll, s_roll] for the
        ``(..., 15)`` normalised input (degrees, s = log σ² before clipping and calibration).

        Every row is computed on its own with exactly the operations of the single-face path
        (one matrix-vector product per layer, biases folded into the matrices): a row's result
        does not depend on the other rows of the batch, bit for bit. (A matrix-matrix product
        would be ~2× faster for large batches, but BLAS rounds a row differently depending on
        the batch size.)
        """
        x = np.asarray(x, dtype=np.float32)
        lead = x.shape[:-1]
        n = math.prod(lead)
        w0, w1, w2, w3, wh = self._layers1
        a = np.ones((n, 1, 16), np.float32)
        a[:, 0, :15] = x.reshape(n, 15)
        z = np.matmul(a, w0)  # (n, 1, 75)
        g = z[..., 50:]
        np.tanh(g, out=g)
        np.add(g, _ONE0D, out=g)  # = 2 · sigmoid gate; the ½ is folded into fc1
        pre = z[..., :50]
        t = np.multiply(pre, _LEAK0D)
        np.maximum(pre, t, out=t)
        src = np.ones((n, 1, 51), np.float32)
        np.multiply(t.reshape(n, 2, 25), g, out=src[:, 0, :50].reshape(n, 2, 25))
        for w in (w1, w2, w3):
            h = np.matmul(src, w)
            t = np.multiply(h, _LEAK0D)
            np.maximum(h, t, out=h)
            src = np.ones((n, 1, h.shape[-1] + 1), np.float32)
            src[..., :-1] = h
        result: NDArray[np.float32] = np.matmul(src, wh).reshape(*lead, 6)
        return result

    def predict(self, keypoints: ArrayLike) -> PoseOutput:
        """Head pose for ``(N, 5, 3)`` (or one ``(5, 3)``) pixel keypoints ``(x, y, confidence)``
        in the order nose, left eye, right eye, left ear, right ear (missing point: c = 0).

        Malformed arrays raise :class:`hhpnet.errors.InputError`. People with fewer than two
        present points, points without extent, or implausible geometry
        (:func:`hhpnet.keypoints.plausible`: a coordinate beyond ±1e6 px, or a group of points
        absurdly far from the others) are returned invalid (NaN angles, infinite σ, ``valid``
        False). A person's result is the same, bit for bit, alone or in any batch.
        """
        v1 = _single_face_values(keypoints)
        if v1 is not None:  # one clean face: skip ~20 tiny numpy calls of the batch path
            o = self._forward1(v1)
            c = self._calib
            res = np.array(
                [
                    o[0] - 360.0 * math.ceil((o[0] - 180.0) / 360.0),
                    o[2],
                    o[4],
                    c[0] * math.exp(0.5 * min(max(o[1], S_MIN), S_MAX)),
                    c[1] * math.exp(0.5 * min(max(o[3], S_MIN), S_MAX)),
                    c[2] * math.exp(0.5 * min(max(o[5], S_MIN), S_MAX)),
                ],
                dtype=np.float32,
            )
            return PoseOutput(res[0:1], res[1:2], res[2:3], res[3:6].reshape(1, 3), _TRUE1.copy())
        kp = validate_keypoints(keypoints)
        x, valid = normalize(kp)
        valid &= plausible(kp)
        n = len(kp)
        angles = np.full((n, 3), np.nan, np.float32)
        sigma = np.full((n, 3), np.inf, np.float32)
        rows = np.flatnonzero(valid)
        if len(rows):
            # the single-face path's arithmetic, row by row: float64 on the float32 outputs,
            # math.exp (not np.exp, whose last bit may differ), one rounding to float32
            raw = self.forward(x[rows]).astype(np.float64)
            yaw = raw[:, 0]
            angles[rows, 0] = yaw - 360.0 * np.ceil((yaw - 180.0) / 360.0)
            angles[rows, 1] = raw[:, 2]
            angles[rows, 2] = raw[:, 4]
            sigma[rows] = np.array(self._calib) * sigma_of(raw[:, 1::2])
        return PoseOutput.of(angles, sigma, valid)

    __call__ = predict

    def __repr__(self) -> str:
        n = self.parameter_count()
        return f"HeadPoseModel(name={self.name!r}, alpha={self.alpha:g}, params={n})"

    # ------------------------------------------------------------------ io
    def save(self, path: str | Path) -> Path:
        """Write the tensors and metadata as a safetensors file."""
        return write_weights(path, self.tensors, self.metadata)


def write_weights(
    path: str | Path, tensors: Mapping[str, ArrayLike], metadata: Mapping[str, Any]
) -> Path:
    """Write float32 tensors and string metadata as a safetensors file (folders made)."""
    from safetensors.numpy import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()},
        str(path),
        metadata={str(k): str(v) for k, v in metadata.items()},
    )
    return path


def sigma_of(s: NDArray[np.float64]) -> NDArray[np.float64]:
    """σ = exp(s / 2) of raw outputs s = log σ² clipped to [:data:`S_MIN`, :data:`S_MAX`],
    element by element with ``math.exp`` (its result does not depend on the array's length,
    unlike a vectorised exp: batch == single bit for bit)."""
    half = 0.5 * np.minimum(np.maximum(s, S_MIN), S_MAX)
    return np.array([math.exp(v) for v in half.ravel().tolist()]).reshape(half.shape)


def resolve_weights(name: str | Path) -> Path:
    """Path of the weight file for a shipped model name or a ``.safetensors`` path."""
    text = str(name)
    if text in MODEL_NAMES or (text.startswith("hhpnet-") and not text.endswith(".safetensors")):
        path = WEIGHTS_DIR / f"{text}.safetensors"
        if not path.is_file():
            raise InputError(f"unknown model {text!r}; available: {', '.join(MODEL_NAMES)}")
        return path
    path = Path(text).expanduser()
    if path.suffix != ".safetensors":
        raise InputError(
            f"unknown model {text!r}: give one of {', '.join(MODEL_NAMES)} or a .safetensors file"
        )
    if not path.is_file():
        raise InputError(f"weight file not found: {path}")
    return path


def read_weights(path: str | Path) -> tuple[dict[str, NDArray[np.float32]], dict[str, str]]:
    """Tensors and metadata of a safetensors weight file (numpy only)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            meta: dict[str, Any] = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types
        raise InputError(f"cannot read weight file {path}: {exc}".splitlines()[0]) from exc
    return tensors, meta


def load_model(name: str | Path = "hhpnet-1.0") -> HeadPoseModel:
    """Load a shipped model (``hhpnet-1.0``, ``hhpnet-0.6``, ``hhpnet-0.2``) or a weight file."""
    if isinstance(name, HeadPoseModel):
        return name
    tensors, meta = read_weights(resolve_weights(name))
    return HeadPoseModel(tensors, meta)


_INF = float("inf")
_MAX_COORD = float(MAX_COORD)
_FAR2 = FAR_POINT_FACTOR * FAR_POINT_FACTOR
_TRUE1 = np.ones(1, dtype=bool)
# 0-d arrays: as ufunc operands they cost less per call than numpy scalars (same float32 result)
_LEAK0D = np.array(LEAK, dtype=np.float32)
_ONE0D = np.array(1.0, dtype=np.float32)


class _Buffers1(NamedTuple):
    """Per-thread arrays of the single-face forward pass (views into a few small buffers)."""

    x: NDArray[np.float32]  # (16,) input with a trailing 1
    x15: NDArray[np.float32]  # view of its first 15 values
    z: NDArray[np.float32]  # (75,) layer-0 pre-activations
    pre: NDArray[np.float32]  # z[:50], x- and y-branch
    gate: NDArray[np.float32]  # z[50:], c-branch
    t0: NDArray[np.float32]  # (50,) scratch
    t0_2x25: NDArray[np.float32]
    a0_2x25: NDArray[np.float32]  # view of the (51,) fc1 input (last value 1)
    w0: NDArray[np.float32]
    hidden: tuple[tuple[Any, ...], ...]  # (input, matrix, output view, scratch) for fc1..fc3
    last: NDArray[np.float32]  # fc3 output with a trailing 1
    wh: NDArray[np.float32]
    out: NDArray[np.float32]  # (6,)


def _single_face_input(keypoints: Any) -> NDArray[np.float32] | None:
    """The ``(15,)`` float32 network input of :func:`_single_face_values`, or None."""
    vals = _single_face_values(keypoints)
    return None if vals is None else np.array(vals, dtype=np.float32)


def _single_face_values(keypoints: Any) -> list[float] | None:
    """Fast path for one clean face: the 15 network input values, or None.

    Computes exactly what :func:`hhpnet.keypoints.validate_keypoints` followed by
    :func:`hhpnet.keypoints.normalize` compute — the same float64 operations in the same order,
    so the values are identical (tested) — with Python floats instead of ~40 small numpy calls,
    because a single face must take ≤ 30 µs end to end. Anything unusual (other types or
    shapes, values that would raise, fewer than two points, zero extent, a coordinate beyond
    :data:`~hhpnet.keypoints.MAX_COORD`, four or five points whose largest distance exceeds
    :data:`~hhpnet.keypoints.FAR_POINT_FACTOR` × their smallest) returns None and goes through
    the canonical functions, which raise or mark it invalid.
    """
    if type(keypoints) is not np.ndarray or keypoints.size != 15:
        return None
    if keypoints.shape != (5, 3) and keypoints.shape != (1, 5, 3):
        return None
    if keypoints.dtype != np.float32:
        if keypoints.dtype != np.float64:
            return None
        with np.errstate(over="ignore"):
            keypoints = keypoints.astype(np.float32)
    rows = keypoints.reshape(5, 3).tolist()
    xs: list[float] = []
    ys: list[float] = []
    for x, y, c in rows:
        if c != c or c == 0.0:
            continue
        if not 0.0 < c <= 1.0 or not (abs(x) <= _MAX_COORD and abs(y) <= _MAX_COORD):
            return None  # NaN and inf fail the comparison too
        xs.append(x)
        ys.append(y)
    n = len(xs)
    if n < 2:
        return None
    if n >= 4:  # the cheap screen of hhpnet.keypoints.implausible_points, same arithmetic
        largest = 0.0
        smallest = _INF
        for i in range(n - 1):
            xi, yi = xs[i], ys[i]
            for j in range(i + 1, n):
                dx = xi - xs[j]
                dy = yi - ys[j]
                d2 = dx * dx + dy * dy
                if d2 > largest:
                    largest = d2
                if d2 < smallest:
                    smallest = d2
        if largest > _FAR2 * smallest:
            return None
    mx = 0.0
    my = 0.0
    for v in xs:
        mx += v
    for v in ys:
        my += v
    mx /= n
    my /= n
    ex = max(abs(v - mx) for v in xs)
    ey = max(abs(v - my) for v in ys)
    if ex == 0.0 and ey == 0.0:
        return None
    ex = ex if ex > 0.0 else 1.0
    ey = ey if ey > 0.0 else 1.0
    vals: list[float] = []
    for x, y, c in rows:
        if c != c or c == 0.0:
            vals += (0.0, 0.0, 0.0)
        else:
            vals += ((x - mx) / ex, (y - my) / ey, c)
    return vals
