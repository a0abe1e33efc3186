"""The face-mesh reading: a heteroscedastic network of the HHP-Net family on MediaPipe face-mesh
landmarks → yaw, pitch, roll + σ (degrees), in pure numpy (float32; no torch).

Input: ``(N, 468, 3)`` landmarks as :class:`hhpnet.detectors.facemesh.FaceMesh` returns them
(x, y image pixels and the mesh's depth in pixels) or ``(N, 468, 2)`` (x, y only; for models
that do not read depth). Steps (the weight file's metadata says which options it was trained
with, :class:`MeshInput`):

1. **checks**: rows with a non-finite or absurd (> 1e6 px) coordinate, no extent, or points
   that no camera view of a face explains (the relative residual of the best affine camera
   fit of MediaPipe's canonical face, stored in the weight file, above
   :data:`MAX_SHAPE_RESIDUAL`) are invalid: NaN angles, infinite σ, never a made-up pose;
2. **de-rotation** (``rotate = "eyes"``): the landmarks are turned about the image axis so
   that the eyes are level (angle θ of the line from the subject's right eye centre to the
   left eye centre); the network reads the de-rotated face and its pose is turned back by θ
   exactly (rotation matrices, :mod:`hhpnet.convention`): R = Rz(θ) · R(network);
3. **normalisation**: the chosen landmarks (``points``) minus their centroid, divided by one
   isotropic scale (``scale = "iso"``: the RMS distance of x, y from the centroid) or per axis
   (``"axis"``: HHP-Net's largest |dx|, |dy|; depth by its largest |dz|); depth only when
   ``depth`` is true;
4. **network**: Dense layers with LeakyReLU(0.1), then Dense(6) = [yaw, s_yaw, pitch, s_pitch,
   roll, s_roll], s = log σ² (degrees²), clipped as in :mod:`hhpnet.model`; σ times the
   per-angle calibration of the file, which may depend on the predicted |yaw|
   (:meth:`MeshPoseModel.calibration`).

Every row is computed on its own with the same operations (per-row reductions over contiguous
memory, one matrix-vector product per layer and row, ``math.exp``): a face's result is the same
bit for bit alone and in any batch (tested). Angle convention: :mod:`hhpnet.convention`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet._types import FloatArray
from hhpnet.convention import ANGLE_NAMES, angles_to_matrix, matrix_to_angles
from hhpnet.errors import InputError
from hhpnet.keypoints import MAX_COORD
from hhpnet.model import LEAK, WEIGHTS_DIR, PoseOutput, read_weights, sigma_of, write_weights

__all__ = [
    "MAX_SHAPE_RESIDUAL",
    "MESH_MODEL_NAMES",
    "MESH_POINTS",
    "MeshInput",
    "MeshPoseModel",
    "eye_line_angle",
    "load_mesh_model",
    "mesh_features",
    "mesh_input",
    "shape_residual",
]

MESH_MODEL_NAMES: tuple[str, ...] = ("hhpnet-mesh-1.0",)
MESH_FORMAT_VERSION = "1"
MESH_POINTS = 468
#: the subject's right / left eye: outer corner, inner corner, upper and lower lid (mesh indices)
RIGHT_EYE = (33, 133, 159, 145)
LEFT_EYE = (263, 362, 386, 374)
#: largest relative residual of the affine-camera fit of the canonical face to a face's
#: landmarks (:func:`shape_residual`); real face-mesh readings stay below ~0.1 (docs/model.md)
MAX_SHAPE_RESIDUAL = 0.3
SCALES = ("iso", "axis")
ROTATIONS = ("none", "eyes")

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class MeshInput:
    """What a mesh network reads: landmark ``points`` (indices into the 468), ``depth`` (the
    mesh's z column too), ``scale`` ("iso" or "axis") and ``rotate`` ("none" or "eyes")."""

    points: tuple[int, ...]
    depth: bool = True
    scale: str = "iso"
    rotate: str = "eyes"

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise InputError(f"mesh input: scale must be one of {SCALES}, got {self.scale!r}")
        if self.rotate not in ROTATIONS:
            raise InputError(f"mesh input: rotate must be one of {ROTATIONS}, got {self.rotate!r}")
        if not self.points or min(self.points) < 0 or max(self.points) >= MESH_POINTS:
            raise InputError("mesh input: points must be indices in 0 … 467")

    @property
    def size(self) -> int:
        """Network input width."""
        return len(self.points) * (3 if self.depth else 2)

    def to_metadata(self) -> dict[str, str]:
        return {
            "points": json.dumps(list(self.points)),
            "depth": str(self.depth).lower(),
            "scale": self.scale,
            "rotate": self.rotate,
        }

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str]) -> MeshInput:
        try:
            points = tuple(int(i) for i in json.loads(meta["points"]))
            depth = {"true": True, "false": False}[meta.get("depth", "true")]
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"mesh weight file metadata is malformed: {exc!r}") from None
        return cls(points, depth, meta.get("scale", "iso"), meta.get("rotate", "eyes"))


def _as_landmarks(landmarks: ArrayLike) -> F32:
    """``(N, 468, 2 or 3)`` float32 (one face ``(468, C)`` becomes a batch of one)."""
    try:
        a = np.asarray(landmarks, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputError(f"landmarks must be a numeric array ({exc})") from None
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1] != MESH_POINTS or a.shape[2] not in (2, 3):
        raise InputError(
            f"landmarks must be (N, {MESH_POINTS}, 3) or (N, {MESH_POINTS}, 2) face-mesh points; "
            f"got shape {np.shape(landmarks)}"
        )
    return np.ascontiguousarray(a)


def _row_sum(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sum over the points of ``(N, K, C)``, one contiguous row per face and column (the same
    additions in the same order whatever N: results independent of the batch)."""
    result: NDArray[np.float64] = np.ascontiguousarray(a.transpose(0, 2, 1)).sum(axis=-1)
    return result


def eye_line_angle(landmarks: ArrayLike) -> NDArray[np.float64]:
    """Angle θ (N,) degrees of the line from the subject's right eye centre to the left eye
    centre, clockwise in the image (y down): about the head's roll on frontal faces."""
    a = np.asarray(landmarks, np.float64)
    d = a[:, list(LEFT_EYE), :2].mean(axis=1) - a[:, list(RIGHT_EYE), :2].mean(axis=1)
    result: NDArray[np.float64] = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    return result


def shape_residual(
    landmarks: ArrayLike, reference: ArrayLike, projector: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Relative RMS residual (N,) of the best affine camera (2×3 matrix + shift) mapping the
    3-D ``reference`` face (468, 3) onto the landmarks' x, y: 0 for any weak-perspective view
    of the reference, small for real faces, ≈ 1 for points unrelated to a face.
    ``projector``: ``pinv(reference − its mean)``, if already computed."""
    a = np.asarray(landmarks, np.float64)[..., :2]
    ref = np.asarray(reference, np.float64)
    ref = ref - ref.mean(axis=0)
    u = a - _row_sum(a)[:, None, :] / a.shape[1]
    fit = np.matmul(np.linalg.pinv(ref) if projector is None else projector, u)  # (N, 3, 2)
    r = u - np.matmul(ref, fit)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: NDArray[np.float64] = np.sqrt(_row_sum(r * r).sum(-1) / _row_sum(u * u).sum(-1))
    return result


def mesh_features(
    points: NDArray[np.float64], theta: NDArray[np.float64], spec: MeshInput
) -> tuple[F32, NDArray[np.bool_]]:
    """Network inputs ``(N, spec.size)`` float32 and ``ok`` (N,) (the face has extent) from the
    chosen landmarks ``points`` (N, K, 2 or 3) float64 (K = len(spec.points), depth column
    present iff ``spec.depth``), turned by −θ (degrees, N) about the image axis first."""
    a = np.array(points, np.float64)
    if spec.rotate == "eyes":
        t = np.radians(theta)[:, None]
        c, s = np.cos(t), np.sin(t)
        x, y = a[..., 0].copy(), a[..., 1].copy()
        a[..., 0] = c * x + s * y  # turn by −θ: the eyes level
        a[..., 1] = -s * x + c * y
    centred = a - _row_sum(a)[:, None, :] / a.shape[1]
    if spec.scale == "iso":
        rms = np.sqrt(_row_sum(centred[..., :2] ** 2).sum(-1) / a.shape[1])
        scale = np.repeat(rms[:, None], a.shape[2], axis=1)
    else:
        scale = np.abs(centred).max(axis=1)
    ok = (scale[:, :2] > 0).all(axis=1) & np.isfinite(scale).all(axis=1)
    safe = np.where(scale > 0, scale, 1.0)
    x = np.where(ok[:, None, None], centred / safe[:, None, :], 0.0)
    return x.reshape(len(a), a.shape[1] * a.shape[2]).astype(np.float32), ok


def mesh_input(
    landmarks: ArrayLike,
    spec: MeshInput,
    reference: ArrayLike | None = None,
    projector: NDArray[np.float64] | None = None,
) -> tuple[F32, NDArray[np.bool_], NDArray[np.float64]]:
    """Network inputs ``(N, spec.size)`` float32, validity ``(N,)`` and the de-rotation angle
    θ ``(N,)`` degrees (0 for ``rotate = "none"``) of ``(N, 468, 2|3)`` landmarks.

    Invalid rows (see the module docstring; ``reference`` enables the shape check) get zeros.
    """
    lm = _as_landmarks(landmarks)
    if spec.depth and lm.shape[2] != 3:
        raise InputError(
            "this mesh model reads the mesh's depth: landmarks must be (N, 468, 3), got (N, 468, 2)"
        )
    cols = 3 if spec.depth else 2
    a = lm[..., :cols].astype(np.float64)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(a) & (np.abs(a) <= MAX_COORD)
    valid = np.asarray(inside.all(axis=(1, 2)), bool)
    a = np.where(valid[:, None, None], a, 0.0)
    theta = eye_line_angle(a) if spec.rotate == "eyes" else np.zeros(len(a))
    if reference is not None:
        with np.errstate(invalid="ignore"):
            valid &= shape_residual(a, reference, projector) <= MAX_SHAPE_RESIDUAL
    x, ok = mesh_features(a[:, list(spec.points)], theta, spec)
    valid &= ok
    x[~valid] = 0.0
    return x, valid, np.where(valid, theta, 0.0)


class MeshPoseModel:
    """Face-mesh landmarks → head pose with σ. Build with :func:`load_mesh_model` or from
    tensors ``fc1.weight/bias … head.weight/bias`` (Dense layers, torch layout (out, in)),
    ``reference`` (468, 3) and the metadata of :class:`MeshInput`."""

    def __init__(
        self, tensors: Mapping[str, ArrayLike], metadata: Mapping[str, str] | None = None
    ) -> None:
        meta = dict(metadata or {})
        t = {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}
        self.input = MeshInput.from_metadata(meta)
        try:
            calib = json.loads(meta.get("sigma_calibration", "{}") or "{}")
            self._calib = [float(calib.get(a, 1.0)) for a in ANGLE_NAMES]
            by_yaw = json.loads(meta.get("sigma_calibration_by_yaw", "null") or "null")
            self._calib_knots: NDArray[np.float64] | None = None
            if by_yaw is not None:
                self._calib_knots = np.asarray(by_yaw["abs_yaw"], np.float64)
                self._calib_table = np.array([by_yaw[a] for a in ANGLE_NAMES], np.float64)
                if self._calib_table.shape != (3, len(self._calib_knots)):
                    raise ValueError("sigma_calibration_by_yaw: one value per knot and angle")
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise InputError(f"mesh weight file metadata is malformed: {exc!r}") from exc
        layers = []
        i, width = 1, self.input.size
        while f"fc{i}.weight" in t:
            layers.append(f"fc{i}")
            i += 1
        layers.append("head")
        for name in layers:
            w, b = t.get(f"{name}.weight"), t.get(f"{name}.bias")
            if w is None or b is None or w.ndim != 2 or w.shape[1] != width:
                got = None if w is None else w.shape
                raise InputError(f"mesh weight tensor {name}: expected (·, {width}), got {got}")
            if b.shape != (w.shape[0],):
                raise InputError(f"mesh weight tensor {name}.bias: shape {b.shape}")
            width = w.shape[0]
        if width != 6:
            raise InputError(f"mesh weight file: the head must have 6 outputs, got {width}")
        ref = t.get("reference")
        if ref is None or ref.shape != (MESH_POINTS, 3):
            raise InputError("mesh weight file lacks the (468, 3) tensor 'reference'")
        self.reference = ref.astype(np.float64)
        self._projector = np.linalg.pinv(self.reference - self.reference.mean(axis=0))
        self.tensors = t
        self.metadata = meta
        self.name = meta.get("name", "mesh")
        self.sigma_calibration = np.array(self._calib, np.float32)
        # (in + 1, out) matrices with the bias as last row, applied to inputs with a trailing 1
        self._layers = tuple(
            np.ascontiguousarray(np.vstack([t[f"{n}.weight"].T, t[f"{n}.bias"]]), np.float32)
            for n in layers
        )

    def __repr__(self) -> str:
        return (
            f"MeshPoseModel(name={self.name!r}, points={len(self.input.points)}, "
            f"depth={self.input.depth}, params={self.parameter_count()})"
        )

    def parameter_count(self) -> int:
        """Number of network parameters (the reference face not counted)."""
        return int(sum(v.size for k, v in self.tensors.items() if k != "reference"))

    def forward(self, x: ArrayLike) -> F32:
        """Raw output ``(N, 6)`` [yaw, s_yaw, pitch, s_pitch, roll, s_roll] of ``(N, size)``
        normalised inputs (one matrix-vector product per layer and row)."""
        a = np.asarray(x, np.float32).reshape(-1, 1, self.input.size)
        n = len(a)
        for i, w in enumerate(self._layers):
            src = np.ones((n, 1, a.shape[-1] + 1), np.float32)
            src[..., :-1] = a
            a = np.matmul(src, w)
            if i < len(self._layers) - 1:
                np.maximum(a, a * np.float32(LEAK), out=a)
        result: F32 = a.reshape(n, 6)
        return result

    def predict(self, landmarks: ArrayLike) -> PoseOutput:
        """Head pose of ``(N, 468, 3)`` (or ``(N, 468, 2)`` for a model without depth; one face
        ``(468, C)``) face-mesh landmarks. Malformed arrays raise
        :class:`hhpnet.errors.InputError`; implausible faces come back invalid."""
        x, valid, theta = mesh_input(landmarks, self.input, self.reference, self._projector)
        n = len(x)
        angles = np.full((n, 3), np.nan, np.float32)
        sigma = np.full((n, 3), np.inf, np.float32)
        rows = np.flatnonzero(valid)
        if len(rows):
            raw = self.forward(x[rows]).astype(np.float64)
            ang = raw[:, 0::2]
            if self.input.rotate == "eyes":
                rot = angles_to_matrix(0.0, 0.0, theta[rows]) @ angles_to_matrix(*ang.T)
                ang = matrix_to_angles(rot)
            else:
                ang[:, 0] = ang[:, 0] - 360.0 * np.ceil((ang[:, 0] - 180.0) / 360.0)
            angles[rows] = ang
            sigma[rows] = self.calibration(angles[rows, 0]) * sigma_of(raw[:, 1::2])
        return PoseOutput.of(angles, sigma, valid)

    __call__ = predict

    def calibration(self, yaw: FloatArray) -> NDArray[np.float64]:
        """σ multipliers (N, 3) at the predicted yaws (degrees): the file's per-angle
        ``sigma_calibration``, or with ``sigma_calibration_by_yaw`` per-angle multipliers
        interpolated linearly in |yaw| between its knots (constant beyond them)."""
        y = np.abs(np.asarray(yaw, np.float64))
        if self._calib_knots is None:
            return np.tile(np.array(self._calib), (len(y), 1))
        return np.stack([np.interp(y, self._calib_knots, row) for row in self._calib_table], 1)

    def save(self, path: str | Path) -> Path:
        """Write the tensors and metadata as a safetensors file."""
        return write_weights(path, self.tensors, self.metadata)


def load_mesh_model(name: str | Path = "hhpnet-mesh-1.0") -> MeshPoseModel:
    """Load the shipped mesh model (``hhpnet-mesh-1.0``) or a mesh ``.safetensors`` file."""
    if isinstance(name, MeshPoseModel):
        return name
    text = str(name)
    if text in MESH_MODEL_NAMES:
        path = WEIGHTS_DIR / f"{text}.safetensors"
    else:
        path = Path(text).expanduser()
        if path.suffix != ".safetensors":
            raise InputError(
                f"unknown mesh model {text!r}: give {', '.join(MESH_MODEL_NAMES)} or a "
                ".safetensors file"
            )
    if not path.is_file():
        raise InputError(f"mesh weight file not found: {path}")
    tensors, meta = read_weights(path)
    if meta.get("kind") != "mesh":
        raise InputError(f"{path} is not a face-mesh model (metadata kind={meta.get('kind')!r})")
    return MeshPoseModel(tensors, meta)
