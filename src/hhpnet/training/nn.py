"""HHP-Net as a torch module, and the heteroscedastic loss (training and evaluation only).

Imported only by training/evaluation code; inference uses the numpy port in
:mod:`hhpnet.model`. The parameter names equal the tensor names of the weight file.

Internal output scaling: the head is trained to predict ``angle / scale`` and
``s' = s − 2·ln(scale)`` (``scale`` = 90° by default), i.e. angles and σ in units of 90°, so the
raw outputs are O(1) for Adam. :meth:`HHPNet.export_tensors` folds the scale into ``head``, so the
exported weights (and :meth:`HHPNet.forward_degrees`) produce degrees and s = log σ² in degrees².
"""

from __future__ import annotations

import itertools
import math
from typing import cast

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from hhpnet.model import C_MEAN, C_STD, LEAK, S_MAX, S_MIN, HeadPoseModel, hidden_sizes

__all__ = ["HHPNet", "MeshNet", "TrainableNet", "heteroscedastic_loss", "wrap_residual"]


class _Branch(nn.Module):
    """1×1 convolution with one input channel and 5 filters, shared over the 5 points."""

    def __init__(self, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(5))
        self.bias = nn.Parameter(torch.zeros(5)) if bias else None
        nn.init.uniform_(self.weight, -1.0, 1.0)

    def forward(self, v: torch.Tensor) -> torch.Tensor:  # (N, 5) -> (N, 5 points, 5 filters)
        z = v[:, :, None] * self.weight
        return z + self.bias if self.bias is not None else z


class HHPNet(nn.Module):
    """The network of method.md; ``forward`` takes the ``(N, 15)`` normalised input."""

    def __init__(
        self,
        alpha: float = 1.0,
        c_mean: float = C_MEAN,
        c_std: float = C_STD,
        scale: float = 90.0,
        init_sigma: float = 10.0,
    ) -> None:
        super().__init__()
        h1, h2, h3 = hidden_sizes(alpha)
        self.alpha = float(alpha)
        self.c_mean = float(c_mean)
        self.c_std = float(c_std)
        self.scale = float(scale)
        self.branch_x = _Branch(bias=True)
        self.branch_y = _Branch(bias=True)
        self.branch_c = _Branch(bias=False)
        self.fc1 = nn.Linear(50, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3 = nn.Linear(h2, h3)
        self.head = nn.Linear(h3, 6)
        self.act = nn.LeakyReLU(LEAK)
        with torch.no_grad():  # start with small outputs and σ ≈ init_sigma degrees
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[1::2] = 2.0 * math.log(init_sigma / self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Internal output ``(N, 6)``: [yaw, s_yaw, pitch, s_pitch, roll, s_roll] in scale units."""
        xs, ys, cs = x[:, 0::3], x[:, 1::3], x[:, 2::3]
        gate = torch.sigmoid(self.branch_c((cs - self.c_mean) / self.c_std))
        fx = self.act(self.branch_x(xs)) * gate
        fy = self.act(self.branch_y(ys)) * gate
        h = torch.cat([fx.reshape(len(x), 25), fy.reshape(len(x), 25)], dim=1)
        h = self.act(self.fc1(h))
        h = self.act(self.fc2(h))
        h = self.act(self.fc3(h))
        result: torch.Tensor = self.head(h)
        return result

    def to_degrees(self, out: torch.Tensor) -> torch.Tensor:
        """Internal output → [angle°, s = log σ²(deg²)] rows of the contract."""
        res = out.clone()
        res[:, 0::2] = out[:, 0::2] * self.scale
        res[:, 1::2] = out[:, 1::2] + 2.0 * math.log(self.scale)
        return res

    def forward_degrees(self, x: torch.Tensor) -> torch.Tensor:
        """Output in the weight-file convention (what the numpy model's ``forward`` returns)."""
        return self.to_degrees(self.forward(x))

    def export_tensors(self) -> dict[str, NDArray[np.float32]]:
        """float32 tensors of the weight-file contract, with the output scale folded in."""
        sd = {k: v.detach().cpu().double().numpy().copy() for k, v in self.state_dict().items()}
        sd["head.weight"][0::2] *= self.scale
        sd["head.bias"][0::2] *= self.scale
        sd["head.bias"][1::2] += 2.0 * math.log(self.scale)
        return {k: v.astype(np.float32) for k, v in sd.items()}

    def to_numpy_model(self, metadata: dict[str, str] | None = None) -> HeadPoseModel:
        """The equivalent :class:`hhpnet.model.HeadPoseModel`."""
        meta = {"alpha": f"{self.alpha:g}", "c_mean": repr(self.c_mean), "c_std": repr(self.c_std)}
        meta.update(metadata or {})
        return HeadPoseModel(self.export_tensors(), meta)


class MeshNet(nn.Module):
    """The face-mesh network (:mod:`hhpnet.training.mesh_train`): dense layers of ``hidden``
    widths with LeakyReLU, a Dense(6) head trained in units of ``scale``."""

    def __init__(self, width_in: int, hidden: list[int], scale: float, init_sigma: float) -> None:
        super().__init__()
        self.scale = float(scale)
        sizes = [width_in, *hidden]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.head = nn.Linear(sizes[-1], 6)
        self.act = nn.LeakyReLU(LEAK)
        with torch.no_grad():  # small outputs and σ ≈ init_sigma degrees at the start
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[1::2] = 2.0 * math.log(init_sigma / self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = self.act(layer(x))
        out: torch.Tensor = self.head(x)
        return out

    def forward_degrees(self, x: torch.Tensor) -> torch.Tensor:
        out = self.forward(x).clone()
        out[:, 0::2] *= self.scale
        out[:, 1::2] += 2.0 * math.log(self.scale)
        return out

    def export_tensors(self) -> dict[str, NDArray[np.float32]]:
        """Weight-file tensors (fc1…, head) with the output scale folded into the head."""
        out: dict[str, NDArray[np.float32]] = {}
        for i, layer in enumerate(self.hidden):
            lin = cast(nn.Linear, layer)
            out[f"fc{i + 1}.weight"] = lin.weight.detach().double().numpy()
            out[f"fc{i + 1}.bias"] = lin.bias.detach().double().numpy()
        w = self.head.weight.detach().double().numpy().copy()
        b = self.head.bias.detach().double().numpy().copy()
        w[0::2] *= self.scale
        b[0::2] *= self.scale
        b[1::2] += 2.0 * math.log(self.scale)
        out["head.weight"], out["head.bias"] = w, b
        return {k: v.astype(np.float32) for k, v in out.items()}


def wrap_residual(r: torch.Tensor, period: float) -> torch.Tensor:
    """Wrap a residual into [−period/2, period/2)."""
    half = period / 2.0
    return torch.remainder(r + half, period) - half


def heteroscedastic_loss(
    out: torch.Tensor,
    target: torch.Tensor,
    scale: float = 90.0,
    weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Heteroscedastic Gaussian NLL of method.md, summed over the three angles.

    ``out`` is the internal ``(N, 6)`` output, ``target`` ``(N, 3)`` degrees. Per angle:
    ½·mean(exp(−s)·r²) + ½·mean(s), with the yaw residual wrapped (a 359° miss is a 1° miss).
    s is clipped to the same range as at inference. Returns (total, per-angle (3,)).
    """
    t = target / scale
    pred = out[:, 0::2]
    s = torch.clamp(out[:, 1::2], S_MIN - 2 * math.log(scale), S_MAX - 2 * math.log(scale))
    r = t - pred
    r = torch.cat([wrap_residual(r[:, :1], 360.0 / scale), r[:, 1:]], dim=1)
    per = 0.5 * torch.exp(-s) * r * r + 0.5 * s
    if weights is None:
        per_angle = per.mean(dim=0)
    else:
        per_angle = (per * weights[:, None]).sum(dim=0) / weights.sum().clamp_min(1e-9)
    return per_angle.sum(), per_angle


#: the networks the training loop (:func:`hhpnet.training.train.train_epoch`) trains
TrainableNet = HHPNet | MeshNet
