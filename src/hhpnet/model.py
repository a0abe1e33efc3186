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
two small matrices (x/y pre-activations, c-branch gates): the result is identical to the
layer-by-layer definition up to float32 rounding (tested against the torch module). The rows go
through the network in tiles of :data:`TILE_ROWS` rows — one face is padded to a tile — so BLAS
always multiplies matrices of the same shape and a person's result is identical bit for bit alone
and in any batch (docs/validity.md), while a batch runs at the matrix-matrix rate (≈ onnxruntime's).
One clean face skips the batch bookkeeping (Python-float normalisation, per-thread preallocated
activations).

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
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import ANGLE_NAMES
from hhpnet.errors import InputError
from hhpnet.keypoints import FAR_POINT_FACTOR, MAX_COORD, normalize, plausible, validate_keypoints

if TYPE_CHECKING:
    from hhpnet.protocols import Floats

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
#: rows of every matrix product of the network: a batch is cut into tiles of this many rows and
#: a single face is padded to one tile, so BLAS sees one shape whatever the batch (its results
#: for a row depend on the number of rows it is given). 4 rows cost a single face a few µs more
#: than a matrix-vector product and reach the large-matrix rate in a batch (8 rows: ~5 % faster
#: batches, ~25 % slower single faces; docs/performance.md).
TILE_ROWS = 4
#: tiles per chunk of a batch: the activations of a chunk stay in the cache (at α = 1 a thread
#: that predicts batches keeps ≈ 1.4 MiB of them; one that predicts single faces ≈ 22 KiB)
CHUNK_TILES = 64
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
    """The pose columns of N people, as a model reads them (:meth:`hhpnet.model.HeadPoseModel.
    predict`): yaw / pitch / roll (N,) and σ (N, 3) degrees, valid (N,); invalid rows: NaN
    angles, inf σ. :attr:`hhpnet.poses.Poses.pose` is this view of a record,
    :meth:`~hhpnet.poses.Poses.with_pose` puts a reading into one. Five arrays in a slotted
    class, not a ``Poses``: the single-face path builds one in 0.2 µs, a ``Poses`` would add
    ~4.5 µs (+20 %, docs/model.md), and this module does not import :mod:`hhpnet.poses`."""

    yaw: Floats  # (N,) in (−180, 180]
    pitch: Floats  # (N,)
    roll: Floats  # (N,)
    sigma: Floats  # (N, 3) yaw, pitch, roll
    valid: NDArray[np.bool_]  # (N,)

    @classmethod
    def of(cls, angles: Floats, sigma: Floats, valid: NDArray[np.bool_]) -> PoseOutput:
        """From ``(N, 3)`` angles (yaw, pitch, roll), ``(N, 3)`` σ and ``(N,)`` validity."""
        return cls(angles[:, 0].copy(), angles[:, 1].copy(), angles[:, 2].copy(), sigma, valid)

    @property
    def angles(self) -> Floats:
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
        self.sigma_calibration64 = np.array(self._calib, dtype=np.float64)
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
        # trailing 1 (no bias additions), and, except the head, one more output column that is
        # exactly 1 (weights 0, bias 1): every layer's output is the next one's input with its
        # trailing 1, one contiguous array, so the element-wise steps run over whole arrays
        # (LeakyReLU and the gate keep the 1). Layer 0 is split into its x/y part (50 + the 1)
        # and its gate part (the 25 gates twice, one per gated value, + a 0 → gate 1).
        mats = [np.vstack([w, b]) for w, b in layers]
        w0 = mats.pop(0)
        one = np.zeros((16, 1))
        one[15] = 1.0
        mats[:0] = [np.hstack([w0[:, :50], one]), np.hstack([w0[:, 50:], w0[:, 50:], 0 * one])]
        for i in range(2, 5):  # fc1..fc3
            col = np.zeros((len(mats[i]), 1))
            col[-1] = 1.0
            mats[i] = np.hstack([mats[i], col])
        self._layers1 = tuple(np.ascontiguousarray(m, dtype=np.float32) for m in mats)
        # Activation buffers of forward(), created per thread on first use.
        self._local = threading.local()

    def _buffers(self, tiles: int) -> _Buffers:
        """Activation buffers for :meth:`forward` (``tiles`` = :data:`CHUNK_TILES`) or for one
        face (``tiles`` = 1, whose padding rows stay zero), created on the first call of each
        thread and kept in a ``threading.local`` (concurrent predictions never share them)."""
        rows = tiles * TILE_ROWS
        x = np.zeros((rows, 16), np.float32)  # 15 inputs and the constant 1
        x[:, 15] = 1.0
        acts = tuple(np.empty((rows, w.shape[1]), np.float32) for w in self._layers1)
        leaky = (self._layers1[i] for i in (0, 2, 3, 4))  # x/y, fc1, fc2, fc3
        scratch = tuple(np.empty((rows, w.shape[1]), np.float32) for w in leaky)
        bufs = _Buffers(x, acts, scratch, {})
        setattr(self._local, "chunk" if tiles > 1 else "one", bufs)
        return bufs

    def _views(self, b: _Buffers, nt: int) -> _ChunkViews:
        """The views of ``b`` for a chunk of ``nt`` tiles (made once per size): the first
        ``nt × TILE_ROWS`` rows, 2-D (contiguous) for the element-wise steps and 3-D
        ``(nt, TILE_ROWS, ·)`` for the products."""
        v = b.views.get(nt)
        if v is None:
            r = nt * TILE_ROWS
            # x, x/y part, gate part, fc1, fc2, fc3, head
            a2 = [a[:r] for a in (b.x, *b.acts)]
            a3 = [a.reshape(nt, TILE_ROWS, a.shape[1]) for a in a2]
            w = self._layers1
            t = [a[:r] for a in b.scratch]
            # fc1 reads the gated x/y part (a3[1]), fc2 and fc3 the previous layer
            hidden = tuple(
                (a3[1 if i == 2 else i], w[i], a3[i + 1], a2[i + 1], t[i - 1]) for i in (2, 3, 4)
            )
            v = _ChunkViews(
                b.x[:r, :15], a3[0], w[0], a3[1], w[1], a3[2], a2[1], a2[2], t[0],
                hidden, w[5], a3[5], a3[6], a2[6],
            )  # fmt: skip
            b.views[nt] = v
        return v

    @staticmethod
    def _run(v: _ChunkViews) -> None:
        """The network on the inputs in ``v.x15`` (whole tiles; padding rows included), outputs
        into ``v.out``. Every matrix product is a stack of ``(TILE_ROWS, K) @ (K, M)`` products
        (numpy's ``matmul`` calls BLAS once per tile), so each row meets the same BLAS call
        whatever the batch; the element-wise steps act on each value alone."""
        leak = _LEAK0D
        np.matmul(v.x3, v.w0p, out=v.p3)
        np.matmul(v.x3, v.w0g, out=v.g3)
        g, p, t = v.g, v.p, v.t0
        np.tanh(g, out=g)
        np.add(g, _ONE0D, out=g)  # = 2 · sigmoid gate; the ½ is folded into fc1
        np.multiply(p, leak, out=t)
        np.maximum(p, t, out=p)
        np.multiply(p, g, out=p)  # gated features, and the trailing 1
        for src3, w, h3, h, t in v.hidden:
            np.matmul(src3, w, out=h3)
            np.multiply(h, leak, out=t)
            np.maximum(h, t, out=h)
        np.matmul(v.last3, v.wh, out=v.out3)

    def _forward_one(self, vals: list[float]) -> list[float]:
        """The 6 raw outputs for one normalised input (15 Python floats): the batch path's
        tile with the face in its first row and zeros in the others."""
        b = getattr(self._local, "one", None)
        v = self._views(b if b is not None else self._buffers(1), 1)
        v.x15[0] = vals
        self._run(v)
        result: list[float] = v.out[0].tolist()
        return result

    def __getstate__(self) -> dict[str, object]:
        """Pickle / copy support: the per-thread buffers are not part of the state."""
        state = dict(self.__dict__)
        state.pop("_local", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def parameter_count(self) -> int:
        """Number of parameters in the weight tensors."""
        return int(sum(v.size for v in self.tensors.values()))

    # ------------------------------------------------------------------ forward
    def forward(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Raw network output ``(..., 6)`` = [yaw, s_yaw, pitch, s_pitch, roll, s_roll] for the
        ``(..., 15)`` normalised input (degrees, s = log σ² before clipping and calibration).

        The rows go through the network in tiles of :data:`TILE_ROWS` (a single row is padded
        with zeros to one tile): every matrix product BLAS computes has the same shape, so a
        row's result does not depend on the batch, its position in it or its neighbours, bit
        for bit (BLAS rounds a row differently when the number of rows changes, so the rows
        are never handed over as one large matrix). Chunks of :data:`CHUNK_TILES` tiles keep
        the activations in the cache.
        """
        x = np.asarray(x, dtype=np.float32)
        lead = x.shape[:-1]
        flat = x.reshape(-1, 15)
        out = np.empty((len(flat), 6), np.float32)
        b = getattr(self._local, "chunk", None)
        if b is None:
            b = self._buffers(CHUNK_TILES)
        step = CHUNK_TILES * TILE_ROWS
        for s in range(0, len(flat), step):
            k = min(step, len(flat) - s)
            v = self._views(b, -(-k // TILE_ROWS))
            v.x15[:k] = flat[s : s + k]
            v.x15[k:] = 0.0  # padding rows of the last tile
            self._run(v)
            out[s : s + k] = v.out[:k]
        return out.reshape(*lead, 6)

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
            o = self._forward_one(v1)
            c = self._calib
            e = np.exp([0.5 * min(max(s, S_MIN), S_MAX) for s in o[1::2]]).tolist()
            res = np.array(
                [
                    o[0] - 360.0 * math.ceil((o[0] - 180.0) / 360.0),
                    o[2],
                    o[4],
                    c[0] * e[0],
                    c[1] * e[1],
                    c[2] * e[2],
                ],
                dtype=np.float32,
            )
            return PoseOutput(res[0:1], res[1:2], res[2:3], res[3:6].reshape(1, 3), _TRUE1.copy())
        kp = validate_keypoints(keypoints)
        x, valid = normalize(kp)
        valid &= plausible(kp)
        n = len(kp)
        rows = np.flatnonzero(valid)
        everyone = len(rows) == n
        # the single-face path's arithmetic: float64 on the float32 outputs, np.exp (whose
        # result does not depend on the array's length), one rounding to float32
        raw = self.forward(x if everyone else x[rows]).astype(np.float64)
        out64 = np.empty((len(rows), 6))
        yaw = raw[:, 0]
        out64[:, 0] = yaw - 360.0 * np.ceil((yaw - 180.0) / 360.0)
        out64[:, 1] = raw[:, 2]
        out64[:, 2] = raw[:, 4]
        np.multiply(self.sigma_calibration64, sigma_of(raw[:, 1::2]), out=out64[:, 3:])
        if everyone:
            out = out64.astype(np.float32)
        else:
            out = np.full((n, 6), np.nan, np.float32)
            out[:, 3:] = np.inf
            out[rows] = out64
        return PoseOutput(
            yaw=out[:, 0].copy(),
            pitch=out[:, 1].copy(),
            roll=out[:, 2].copy(),
            sigma=out[:, 3:].copy(),
            valid=valid,
        )

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
    """σ = exp(s / 2) of raw outputs s = log σ² clipped to [:data:`S_MIN`, :data:`S_MAX`]
    (float64 ``np.exp``, whose result per element does not depend on the array's length: a
    face's σ is the same bit for bit alone or in a batch)."""
    return np.exp(0.5 * np.minimum(np.maximum(s, S_MIN), S_MAX))


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


class _Buffers(NamedTuple):
    """Per-thread arrays of :meth:`HeadPoseModel.forward` (2-D, rows × width)."""

    x: NDArray[np.float32]  # (R, 16) inputs with a trailing 1
    acts: tuple[NDArray[np.float32], ...]  # outputs of x/y, gate, fc1, fc2, fc3, head
    scratch: tuple[NDArray[np.float32], ...]  # LeakyReLU scratch of fc1..fc3 (and x/y)
    views: dict[int, _ChunkViews]  # by number of tiles


class _ChunkViews(NamedTuple):
    """Views of :class:`_Buffers` for a chunk of ``nt`` tiles: 3-D ``(nt, TILE_ROWS, ·)`` for
    the products, 2-D ``(nt·TILE_ROWS, ·)`` (contiguous) for the element-wise steps."""

    x15: NDArray[np.float32]
    x3: NDArray[np.float32]
    w0p: NDArray[np.float32]
    p3: NDArray[np.float32]
    w0g: NDArray[np.float32]
    g3: NDArray[np.float32]
    p: NDArray[np.float32]  # x/y pre-activations + 1, then the gated features + 1
    g: NDArray[np.float32]  # gate pre-activations + 0, then 2 · sigmoid + 1
    t0: NDArray[np.float32]
    hidden: tuple[tuple[Any, ...], ...]  # (input 3-D, matrix, output 3-D, output 2-D, scratch)
    wh: NDArray[np.float32]
    last3: NDArray[np.float32]
    out3: NDArray[np.float32]
    out: NDArray[np.float32]  # (R, 6)


def _single_face_input(keypoints: object) -> NDArray[np.float32] | None:
    """The ``(15,)`` float32 network input of :func:`_single_face_values`, or None."""
    vals = _single_face_values(keypoints)
    return None if vals is None else np.array(vals, dtype=np.float32)


def _single_face_values(keypoints: object) -> list[float] | None:
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
