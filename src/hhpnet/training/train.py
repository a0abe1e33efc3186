"""Training of HHP-Net on synthetic keypoints (torch, CPU, one thread).

``hhpnet train --config configs/hhpnet-1.0.yaml`` runs :func:`train`. Everything that decides the
weights is in the config (recorded in the weight file's metadata), so the same config gives the
same weights up to float noise:

* data: epoch ``e`` uses ``synth.generate(samples_per_epoch, train_seed + e // reuse)``
  (fresh samples every ``reuse`` epochs); validation uses ``val_seed`` (never the test seed of
  :mod:`~.evaluate`); confidence statistics c_mean/c_std come from the first training chunk;
* optimisation: Adam, linear warm-up then cosine decay per step, heteroscedastic loss
  (:func:`~.nn.heteroscedastic_loss`, wrapped yaw residual), best epoch by validation MAE;
* σ calibration: one multiplier per angle so that 68.27 % of validation errors are within σ
  (the Gaussian 1σ share), stored as ``sigma_calibration``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray, JSONObject
from hhpnet.errors import InputError
from hhpnet.keypoints import normalize, validate_keypoints
from hhpnet.training.evaluate import angle_errors

if TYPE_CHECKING:
    import torch

    from hhpnet.training.nn import TrainableNet

__all__ = [
    "DEFAULT_CONFIG",
    "TrainResult",
    "load_config",
    "make_dataset",
    "parse_overrides",
    "train",
]

ONE_SIGMA = 0.6827


class DataConfig(TypedDict):
    """The ``data`` block: synthetic chunks (seed ``train_seed`` + chunk, a new one every
    ``reuse`` epochs), the validation set, and :class:`~.synth.SynthConfig` overrides."""

    train_seed: int
    samples_per_epoch: int
    reuse: int
    val_seed: int
    val_samples: int
    synth: dict[str, object]


class TrainingConfig(TypedDict):
    """The ``training`` block: epochs, batches, learning-rate schedule, output scaling."""

    epochs: int
    batch_size: int
    lr: float
    lr_final: float
    warmup_steps: int
    weight_decay: float
    scale: float
    init_sigma: float


class TrainConfig(TypedDict):
    """A run configuration of :func:`train` (defaults :data:`DEFAULT_CONFIG`). Read from YAML
    and overrides, with unknown keys refused; numbers are converted where they are used."""

    name: str
    alpha: float
    seed: int
    output: str
    data: DataConfig
    training: TrainingConfig
    calibrate_sigma: bool
    real_csv: str | None
    real_exclude_fold: int | None
    real_folds: int


DEFAULT_CONFIG: TrainConfig = {
    "name": "hhpnet-1.0",
    "alpha": 1.0,
    "seed": 0,
    "output": "src/hhpnet/weights/hhpnet-1.0.safetensors",
    "data": {
        "train_seed": 1_000,
        "samples_per_epoch": 500_000,
        "reuse": 1,
        "val_seed": 7,
        "val_samples": 50_000,
        "synth": {},
    },
    "training": {
        "epochs": 20,
        "batch_size": 1024,
        "lr": 2e-3,
        "lr_final": 2e-5,
        "warmup_steps": 300,
        "weight_decay": 0.0,
        "scale": 90.0,
        "init_sigma": 10.0,
    },
    "calibrate_sigma": True,
    # σ calibration on real detector keypoints with labels (a CSV of hhpnet eval --keypoints-csv
    # format): path, or null for the synthetic validation set only; rows of fold
    # ``real_exclude_fold`` (of ``real_folds``) are left out (cross-validation)
    "real_csv": None,
    "real_exclude_fold": None,
    "real_folds": 5,
}


#: the angle convention recorded in a weight file's metadata
ANGLE_CONVENTION = (
    "yaw,pitch,roll degrees; 300W-LP/AFLW2000 (HopeNet draw_axis): "
    "+yaw nose to image left, +pitch nose up, +roll clockwise; see hhpnet.convention"
)


def _merge(base: JSONObject, over: JSONObject, where: str = "") -> JSONObject:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if k not in base:
            raise InputError(f"config: unknown key {where}{k!r}")
        if isinstance(base[k], dict) and k != "synth":
            if not isinstance(v, dict):
                raise InputError(f"config: {where}{k} must be a mapping")
            out[k] = _merge(base[k], v, f"{where}{k}.")
        else:
            out[k] = v
    return out


def load_config(path: str | Path | None = None, **overrides: object) -> TrainConfig:
    """Read a YAML config, fill defaults, apply dotted overrides (``training.epochs=2``)."""
    return cast(TrainConfig, load_yaml_config(DEFAULT_CONFIG, path, overrides))


def parse_overrides(items: Sequence[str] | None) -> dict[str, object]:
    """Dotted config overrides from ``KEY=JSON`` strings (``training.epochs=8``), as the
    benchmarks' ``--set`` takes them; a malformed one raises :class:`InputError`."""
    import json

    out: dict[str, object] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError("no '='")
            out[key.strip()] = json.loads(value)
        except ValueError as exc:
            raise InputError(f"--set {item!r}: expected KEY=JSON ({exc})") from None
    return out


def load_yaml_config(
    defaults: Mapping[str, object], path: str | Path | None, overrides: Mapping[str, object]
) -> JSONObject:
    """``defaults`` updated from a YAML file (unknown keys raise :class:`InputError`), then
    with dotted overrides (``{"training.epochs": 2}``)."""
    cfg: JSONObject = copy.deepcopy(dict(defaults))
    if path is not None:
        import yaml

        p = Path(path)
        if not p.is_file():
            raise InputError(f"config file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"config {p}: invalid YAML ({str(exc).splitlines()[0]})") from exc
        if not isinstance(data, dict):
            raise InputError(f"config {p}: expected a mapping at the top level")
        cfg = _merge(cfg, data)
    for key, value in overrides.items():
        node = cfg
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise InputError(f"config: unknown key {key!r}")
            node = node[part]
        if parts[-1] not in node:
            raise InputError(f"config: unknown key {key!r}")
        node[parts[-1]] = value
    return cfg


@dataclass
class Dataset:
    """Normalised network inputs and targets (degrees) of the valid synthetic samples."""

    x: NDArray[np.float32]  # (n, 15)
    y: NDArray[np.float32]  # (n, 3) yaw, pitch, roll
    detector: NDArray[np.int8]  # (n,)


def make_dataset(n: int, seed: int, synth: Mapping[str, object] | None = None) -> Dataset:
    """Generate ``n`` synthetic people with :func:`~.synth.generate`, keep the valid ones."""
    from hhpnet.training import synth as synth_mod

    config = None
    if synth:
        base = synth_mod.SynthConfig().to_dict()
        base.update(synth)
        config = synth_mod.SynthConfig.from_dict(base)
    batch = synth_mod.generate(int(n), int(seed), config)
    x, valid = normalize(validate_keypoints(batch.keypoints))
    return Dataset(
        x=x[valid],
        y=np.asarray(batch.angles, np.float32)[valid],
        detector=np.asarray(batch.detector, np.int8)[valid],
    )


@dataclass
class TrainResult:
    """What :func:`train` produced."""

    path: Path
    best_epoch: int
    val_mae: NDArray[np.float64]  # (3,) degrees at the best epoch
    sigma_calibration: dict[str, float]
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def _predict_torch(
    net: TrainableNet, x: NDArray[np.float32], batch: int = 65_536
) -> NDArray[np.float32]:
    import torch

    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(net.forward_degrees(torch.from_numpy(x[i : i + batch])).numpy())
    return np.concatenate(outs) if outs else np.zeros((0, 6), np.float32)


REAL_SOURCES = ("blazeface", "blazepose", "movenet")


def real_calibration_rows(config: TrainConfig) -> tuple[FloatArray, FloatArray] | None:
    """Network inputs and labels of the real rows used for σ calibration (None: not configured).

    Every detector source of ``config["real_csv"]`` where the face was found, pooled, without
    the rows of fold ``real_exclude_fold``; the keypoints go through the pipeline's cleaning.
    """
    path = config.get("real_csv")
    if not path:
        return None
    if not Path(path).is_file():
        import warnings

        warnings.warn(
            f"real_csv {path} not found: σ is calibrated on the synthetic validation set only "
            "(the shipped weights were calibrated on real keypoints)",
            stacklevel=2,
        )
        return None
    from hhpnet.keypoints import drop_implausible_points
    from hhpnet.training.datasets import load_keypoints_csv

    xs, ys = [], []
    for source in REAL_SOURCES:
        kset = load_keypoints_csv(path, source)
        keep = np.asarray(kset.found, bool).copy()
        fold = config.get("real_exclude_fold")
        if fold is not None:
            keep &= kset.folds(int(config.get("real_folds", 5))) != int(fold)
        kp = validate_keypoints(kset.keypoints[keep])
        size = kset.image_size[keep]
        kp = (
            np.concatenate(
                [drop_implausible_points(kp[i : i + 1], tuple(size[i]))[0] for i in range(len(kp))]
            )
            if len(kp)
            else kp
        )
        x, valid = normalize(kp)
        xs.append(x[valid])
        ys.append(np.asarray(kset.angles[keep], np.float32)[valid])
    return np.concatenate(xs), np.concatenate(ys)


def calibrate_sigma(out: NDArray[np.float32], target: NDArray[np.float32]) -> dict[str, float]:
    """Per-angle σ multipliers so that a share :data:`ONE_SIGMA` of |errors| are ≤ σ."""
    from hhpnet.convention import ANGLE_NAMES
    from hhpnet.model import S_MAX, S_MIN

    err = angle_errors(out[:, 0::2], target)
    sigma = np.exp(0.5 * np.clip(out[:, 1::2].astype(np.float64), S_MIN, S_MAX))
    ratio = err / sigma
    return {a: float(np.quantile(ratio[:, i], ONE_SIGMA)) for i, a in enumerate(ANGLE_NAMES)}


def _real_fit_record(data_cfg: DataConfig, config: TrainConfig) -> dict[str, object]:
    """What of this model was fitted on real data: the generator fit and the σ calibration."""
    from hhpnet.training import synth as synth_mod

    fit = synth_mod.load_fit(str((data_cfg.get("synth") or {}).get("fit", "")))
    return {
        "generator_fit": {
            "fitted": "detector head shapes, residual noise, score distributions, pose prior",
            **fit.get("fitted_on", {}),
            "options": fit.get("options", {}),
        },
        "sigma_calibration": {
            "real_csv": Path(real_csv).name if (real_csv := config.get("real_csv")) else None,
            "exclude_fold": config.get("real_exclude_fold"),
            "folds": config.get("real_folds"),
        },
        "network": "trained on synthetic keypoints only",
    }


def lr_schedule(training: TrainingConfig, total_steps: int) -> Callable[[int], float]:
    """Learning rate by step: linear warm-up over ``warmup_steps`` to ``lr``, then cosine
    decay to ``lr_final`` at ``total_steps`` (keys of a config's ``training`` block)."""
    warm, total = int(training["warmup_steps"]), max(1, int(total_steps))
    lr0, lr1 = float(training["lr"]), float(training["lr_final"])

    def lr_at(step: int) -> float:
        if step < warm:
            return lr0 * (step + 1) / warm
        f = min(1.0, (step - warm) / max(1, total - warm))
        return lr1 + 0.5 * (lr0 - lr1) * (1.0 + math.cos(math.pi * f))

    return lr_at


def train_epoch(
    net: TrainableNet,
    opt: torch.optim.Optimizer,
    x: NDArray[np.float32],
    y: NDArray[np.float32],
    batch_size: int,
    gen: torch.Generator,
    lr_at: Callable[[int], float],
    step: int,
) -> tuple[float, int]:
    """One epoch of the heteroscedastic loss over (x, y) in a random order (torch generator
    ``gen``), learning rate ``lr_at(step)`` per step; returns the mean loss and the next step."""
    import torch

    from hhpnet.training.nn import heteroscedastic_loss

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    perm = torch.randperm(len(xt), generator=gen)
    net.train()
    run, nb = 0.0, 0
    for i in range(0, len(xt), batch_size):
        idx = perm[i : i + batch_size]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss, _ = heteroscedastic_loss(net(xt[idx]), yt[idx], net.scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        run += loss.item()
        nb += 1
        step += 1
    return run / max(nb, 1), step


def train(
    config: TrainConfig, output: str | Path | None = None, log: Callable[[str], object] = print
) -> TrainResult:
    """Train one model from a config (see :data:`DEFAULT_CONFIG`) and write its weight file."""
    import torch

    from hhpnet.model import HeadPoseModel
    from hhpnet.training.nn import HHPNet

    torch.set_num_threads(1)
    t_start = time.perf_counter()
    data_cfg, tr = config["data"], config["training"]
    out_path = Path(output or config["output"])
    torch.manual_seed(int(config["seed"]))
    gen = torch.Generator().manual_seed(int(config["seed"]))

    val = make_dataset(data_cfg["val_samples"], data_cfg["val_seed"], data_cfg["synth"])
    chunk = _chunk_loader(data_cfg)
    first = chunk(0)
    c_all = first.x[:, 2::3].astype(np.float64)
    c_mean, c_std = float(c_all.mean()), float(c_all.std())
    net = HHPNet(float(config["alpha"]), c_mean, c_std, float(tr["scale"]), float(tr["init_sigma"]))
    opt = torch.optim.Adam(
        net.parameters(), lr=float(tr["lr"]), weight_decay=float(tr["weight_decay"])
    )
    lr_at = lr_schedule(tr, int(tr["epochs"]) * math.ceil(len(first.x) / int(tr["batch_size"])))
    best_epoch, history = _fit_epochs(net, opt, chunk, val, tr, gen, lr_at, log, t_start)
    out = _predict_torch(net, val.x)
    calib, calib_on = _sigma_calibration(config, net, out, val.y, log)
    seconds = time.perf_counter() - t_start
    best_mae = angle_errors(out[:, 0::2], val.y).mean(axis=0)
    meta = {
        **_model_metadata(config, c_mean, c_std),
        "sigma_calibration": json.dumps(calib, sort_keys=True),
        "sigma_calibrated_on": calib_on,
        "real_data_fit": json.dumps(_real_fit_record(data_cfg, config), sort_keys=True),
        "created": _dt.date.today().isoformat(),
        "val_mae": json.dumps([round(float(v), 4) for v in best_mae]),
        "best_epoch": str(best_epoch),
        "train_seconds": f"{seconds:.0f}",
    }
    model = HeadPoseModel(net.export_tensors(), meta)
    model.save(out_path)
    log(
        f"best epoch {best_epoch + 1}: val MAE {best_mae.mean():.2f}; σ calibration "
        f"{json.dumps(calib)}; {seconds:.0f}s; wrote {out_path}"
    )
    return TrainResult(out_path, best_epoch, best_mae, calib, seconds, history)


def _chunk_loader(data_cfg: DataConfig) -> Callable[[int], Dataset]:
    """The training data of an epoch: a new synthetic chunk (seed ``train_seed`` + chunk number)
    every ``reuse`` epochs, generated when first asked for."""
    chunk_id = -1
    train_set: Dataset | None = None

    def chunk(epoch: int) -> Dataset:
        nonlocal chunk_id, train_set
        cid = epoch // max(1, int(data_cfg["reuse"]))
        if cid != chunk_id or train_set is None:
            seed = int(data_cfg["train_seed"]) + cid
            train_set = make_dataset(data_cfg["samples_per_epoch"], seed, data_cfg["synth"])
            chunk_id = cid
        return train_set

    return chunk


def _fit_epochs(
    net: TrainableNet,
    opt: torch.optim.Optimizer,
    chunk: Callable[[int], Dataset],
    val: Dataset,
    tr: TrainingConfig,
    gen: torch.Generator,
    lr_at: Callable[[int], float],
    log: Callable[[str], object],
    t_start: float,
) -> tuple[int, list[dict[str, float]]]:
    """The epoch loop: train, validate, log; the network ends with the weights of the epoch of
    lowest mean validation MAE. Returns that epoch and the per-epoch history."""
    epochs, bs = int(tr["epochs"]), int(tr["batch_size"])
    best: tuple[float, int, dict[str, Any]] | None = None
    history: list[dict[str, float]] = []
    step = 0
    for epoch in range(epochs):
        data = chunk(epoch)
        train_loss, step = train_epoch(net, opt, data.x, data.y, bs, gen, lr_at, step)
        net.eval()
        out = _predict_torch(net, val.x)
        mae = angle_errors(out[:, 0::2], val.y).mean(axis=0)
        rec = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_mae_yaw": float(mae[0]),
            "val_mae_pitch": float(mae[1]),
            "val_mae_roll": float(mae[2]),
            "val_mae": float(mae.mean()),
            "seconds": time.perf_counter() - t_start,
        }
        history.append(rec)
        log(
            f"epoch {epoch + 1}/{epochs}  loss {rec['train_loss']:.4f}  val MAE "
            f"{mae[0]:.2f}/{mae[1]:.2f}/{mae[2]:.2f} (mean {mae.mean():.2f})  "
            f"{rec['seconds']:.0f}s"
        )
        if best is None or rec["val_mae"] < best[0]:
            best = (rec["val_mae"], epoch, copy.deepcopy(net.state_dict()))
    assert best is not None
    net.load_state_dict(best[2])
    return best[1], history


def _sigma_calibration(
    config: TrainConfig,
    net: TrainableNet,
    out: NDArray[np.float32],
    val_y: NDArray[np.float32],
    log: Callable[[str], object],
) -> tuple[dict[str, float], str]:
    """σ multipliers and what they were calibrated on: the real rows of ``real_csv`` when
    configured, else the synthetic validation outputs ``out``; 1 when calibration is off."""
    calib = (
        calibrate_sigma(out, val_y)
        if config.get("calibrate_sigma", True)
        else {"yaw": 1.0, "pitch": 1.0, "roll": 1.0}
    )
    real = real_calibration_rows(config) if config.get("calibrate_sigma", True) else None
    calib_on = "synthetic validation set"
    if real is not None:
        calib = calibrate_sigma(_predict_torch(net, real[0]), real[1])
        csv_name = Path(str(config["real_csv"])).name  # (set: real rows were read from it)
        calib_on = f"real keypoints ({len(real[1])} rows of {csv_name})"
        log(f"σ calibrated on {calib_on}: {json.dumps(calib)}")
    return calib, calib_on


def _model_metadata(config: TrainConfig, c_mean: float, c_std: float) -> dict[str, str]:
    """The weight file's metadata fixed before training: format, name, network, conventions."""
    from hhpnet.model import FORMAT_VERSION
    from hhpnet.training import synth as synth_mod

    return {
        "format_version": FORMAT_VERSION,
        "name": str(config["name"]),
        "alpha": f"{float(config['alpha']):g}",
        "c_mean": repr(c_mean),
        "c_std": repr(c_std),
        "angle_convention": ANGLE_CONVENTION,
        "generator_version": str(getattr(synth_mod, "GENERATOR_VERSION", "unknown")),
        "train_config": json.dumps(config, sort_keys=True),
    }
