"""hhpnet: head pose with per-angle uncertainty from five head keypoints, and interaction analysis.

Heavy parts are imported lazily so that ``import hhpnet`` stays fast::

    import hhpnet
    model = hhpnet.load_model("hhpnet-1.0")
    out = model.predict(keypoints)          # (N, 5, 3) pixels + confidences
    est = hhpnet.HeadPoseEstimator()        # detector + model
    poses = est("photo.jpg")
"""

from __future__ import annotations

import importlib
from typing import Any

from hhpnet import _compat

__version__ = "0.1.0"

# the old import paths of moved modules (hhpnet._compat.MOVED) keep working, with a warning
_compat.install()

# public name -> module that defines it (imported on first access)
_LAZY = {
    "load_model": "hhpnet.model",
    "HeadPoseModel": "hhpnet.model",
    "PoseOutput": "hhpnet.model",
    "HeadPoseEstimator": "hhpnet.pipeline",
    "Poses": "hhpnet.poses",
    "interaction": "hhpnet.interaction",
    "process_video": "hhpnet.video",
    "HhpnetError": "hhpnet.errors",
    "InputError": "hhpnet.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hhpnet' has no attribute {name!r}")
    mod = importlib.import_module(module)
    return mod if module.endswith("." + name) else getattr(mod, name)


def __dir__() -> list[str]:
    return sorted(__all__)
