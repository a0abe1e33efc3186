"""The pictures whose full-graph MoveNet outputs are stored in ``data/movenet_graph_outputs.npz``.

That file holds, for each picture, the (6, 56) output of the **whole published graph** (its own
multi-person decoding included, TensorFlow, 256×256 input) — the reference that hhpnet's
backbone file + numpy decoding must reproduce. Remake it with::

    .venv/bin/python -m tests.detectors.movenet_reference /tmp/movenet_inputs.npz
    .venv-convert/bin/python tools/convert_movenet.py \\
        --reference-outputs /tmp/movenet_inputs.npz tests/detectors/data/movenet_graph_outputs.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from hhpnet.commands.demo import EXAMPLES_DIR
from hhpnet.detectors.movenet import render_top_left
from hhpnet.io import read_image
from hhpnet.samples import make_scene
from tests.detectors.detector_images import compose

DATA_DIR = Path(__file__).parent / "data"


def reference_pictures() -> dict[str, np.ndarray]:
    """RGB pictures by name: the bundled photos, the rendered figures, the four-people scene,
    compositions of 2–6 people and the benchmark scenes of 1 and 6 people."""
    out = {p.stem: read_image(p) for p in sorted(EXAMPLES_DIR.glob("*.jpg"))}
    out.update({p.stem: read_image(p) for p in sorted(DATA_DIR.glob("*.png"))})
    out.update({f"compose{n}": compose(n) for n in (2, 3, 4, 6)})
    for n in (1, 6):
        out[f"scene{n}"] = cv2.cvtColor(make_scene(n), cv2.COLOR_BGR2RGB)
    return out


def main(path: str) -> None:
    inputs = {name: render_top_left(img) for name, img in reference_pictures().items()}
    np.savez(path, **inputs)
    print(f"wrote {path}: {len(inputs)} network inputs")


if __name__ == "__main__":
    main(sys.argv[1])
