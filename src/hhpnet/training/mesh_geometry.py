"""MediaPipe's canonical face (the 3-D face the face-mesh landmarks are defined on), read from
its Apache-2.0 geometry file (``training/data``, see the NOTICE there) with our own protobuf
reader, and the geometry the mesh reading's generator and network need: the left/right mirror
permutation of the 468 landmarks and the landmark subsets a network may read.

Frames: :func:`canonical_face` is in the OpenCV-style head frame (x to the image right, y down,
z away from the viewer: nose tip at negative z), as ``solvePnP`` wants it;
:func:`canonical_head` is the same face in hhpnet's head frame (:mod:`hhpnet.convention`: x to
the subject's left ear = image right at rest, y to the chin, z out of the face towards the
viewer). Units: centimetres (face width ≈ 15.5 cm).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CANONICAL_FILE",
    "MESH_POINTS",
    "SUBSETS",
    "canonical_face",
    "canonical_head",
    "mirror_permutation",
    "subset_indices",
]

DATA_DIR = Path(__file__).parent / "data"
#: MediaPipe's face-geometry metadata (canonical face mesh), unchanged from the npm package
#: ``@mediapipe/face_mesh`` 0.4.1657299874 (Apache-2.0; see ``training/data/NOTICE``)
CANONICAL_FILE = DATA_DIR / "geometry_pipeline_metadata_landmarks.binarypb"
MESH_POINTS = 468

#: a few dozen landmarks of the face's interior that the mesh places reliably (no contour):
#: eye corners and lids, brows, nose ridge and wings, mouth corners and lips, chin, forehead
#: (MediaPipe face-mesh indices; the set is closed under the mirror permutation, tested)
STABLE: tuple[int, ...] = (
    1, 2, 4, 5, 6, 10, 13, 14, 17, 0, 151, 152, 168, 195, 197,  # midline
    33, 133, 159, 145, 160, 144, 158, 153,  # subject's right eye
    263, 362, 386, 374, 387, 373, 385, 380,  # subject's left eye
    70, 105, 107, 46, 300, 334, 336, 276,  # brows
    98, 327, 129, 358, 48, 278,  # nose wings
    61, 291, 37, 267, 84, 314, 40, 270, 91, 321,  # mouth
    50, 280, 205, 425, 199,  # cheeks, below the lip
)  # fmt: skip


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _proto_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` of a protobuf message (the wire types it uses)."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _recorded_sha256(name: str) -> str:
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == name:
            return parts[0]
    raise RuntimeError(f"{name} is not listed in {DATA_DIR / 'SHA256SUMS'}")


@lru_cache(maxsize=1)
def canonical_face() -> NDArray[np.float64]:
    """MediaPipe's canonical face: (468, 3) vertices in cm in the OpenCV-style head frame
    (x to the image right, y down, z away from the viewer).

    Read from ``GeometryPipelineMetadata.canonical_mesh`` (field 1), a ``Mesh3d`` whose
    ``vertex_buffer`` (field 3) holds x, y, z, u, v per vertex, x to the image right, y up,
    z towards the viewer; the face looks along +z at zero pose.
    """
    data = CANONICAL_FILE.read_bytes()
    if hashlib.sha256(data).hexdigest() != _recorded_sha256(CANONICAL_FILE.name):
        raise RuntimeError(f"{CANONICAL_FILE}: unexpected checksum")
    values: list[float] = []
    for number, _, mesh in _proto_fields(data):
        if number != 1 or not isinstance(mesh, bytes):
            continue
        for field, wire, value in _proto_fields(mesh):
            if field == 3 and isinstance(value, bytes):
                fmt = "<f" if wire == 5 else f"<{len(value) // 4}f"
                values.extend(struct.unpack(fmt, value))
    vertices = np.asarray(values, np.float64).reshape(-1, 5)[:, :3]
    if vertices.shape != (MESH_POINTS, 3):
        raise RuntimeError(f"{CANONICAL_FILE}: expected 468 vertices, got {len(vertices)}")
    out: NDArray[np.float64] = vertices * np.array([1.0, -1.0, -1.0])
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def canonical_head() -> NDArray[np.float64]:
    """:func:`canonical_face` in hhpnet's head frame (z towards the viewer), centred on the
    mean of its vertices: (468, 3) cm."""
    h = canonical_face() * np.array([1.0, 1.0, -1.0])
    out: NDArray[np.float64] = h - h.mean(axis=0)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def mirror_permutation() -> NDArray[np.intp]:
    """Index ``p`` (468,) with landmark ``p[i]`` the mirror partner of landmark ``i`` (the
    nearest vertex to i's position with x negated; midline points are their own partner).
    A landmark set of a mirrored image reads as ``flipped[:, p]`` (x negated)."""
    face = canonical_face()
    mirrored = face * np.array([-1.0, 1.0, 1.0])
    d = np.linalg.norm(face[None, :, :] - mirrored[:, None, :], axis=-1)
    perm: NDArray[np.intp] = np.argmin(d, axis=1).astype(np.intp)
    if not np.array_equal(perm[perm], np.arange(MESH_POINTS)):
        raise RuntimeError("the canonical face is not left/right symmetric")
    perm.setflags(write=False)
    return perm


def _spread_subset(count: int) -> NDArray[np.intp]:
    """About ``count`` landmarks spread evenly over the face (farthest-point sampling on the
    canonical face, from the nose tip, each pick with its mirror partner)."""
    face = canonical_face()
    perm = mirror_permutation()
    chosen = [1]
    d = np.linalg.norm(face - face[1], axis=1)
    while len(chosen) < count:
        i = int(np.argmax(d))
        for j in {i, int(perm[i])}:
            chosen.append(j)
            d = np.minimum(d, np.linalg.norm(face - face[j], axis=1))
    return np.array(sorted(set(chosen)), np.intp)


#: named landmark subsets a mesh network may read (:func:`subset_indices`)
SUBSETS: tuple[str, ...] = ("all", "spread100", "stable")


@cache
def subset_indices(name: str) -> NDArray[np.intp]:
    """Sorted landmark indices of a named subset: ``all`` (468), ``spread100`` (≈ 100 spread
    evenly, contour included) or ``stable`` (:data:`STABLE`, the interior)."""
    if name == "all":
        out = np.arange(MESH_POINTS, dtype=np.intp)
    elif name == "spread100":
        out = _spread_subset(100)
    elif name == "stable":
        out = np.array(sorted(set(STABLE)), np.intp)
    else:
        raise ValueError(f"unknown landmark subset {name!r}; known: {', '.join(SUBSETS)}")
    out.setflags(write=False)
    return out
