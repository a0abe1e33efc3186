"""Per-track temporal filtering of yaw, pitch and roll that trusts each frame by its own σ.

Each angle of each track is an independent constant-velocity Kalman filter with state
``(angle [deg], rate [deg/s])``:

* **prediction** over ``dt`` seconds: ``angle += rate·dt`` and the covariance grows by the
  white-noise-acceleration process noise ``Q = q·[[dt³/3, dt²/2], [dt²/2, dt]]`` where
  ``q = accel_std²`` (deg²/s³). ``accel_std`` (default :data:`DEFAULT_ACCEL_STD`) is how fast a
  head's angular velocity may change; larger → follows faster, smooths less;
* **update** with the measured angle and the model's σ as the measurement noise (``R = (σ·
  sigma_scale)²``): a confident frame moves the estimate a lot, an uncertain one barely;
* the innovation (measurement − prediction) is wrapped to (−180°, 180°], so a yaw going from
  +179° to −179° is a 2° step, not a 358° one; the state angle is wrapped after each step;
* **outliers**: an innovation beyond ``gate`` standard deviations is skipped (prediction only);
  after ``reset_after`` consecutive skipped frames the filter restarts from the measurement
  (a real fast turn costs ``reset_after − 1`` frames of delay, a one-frame glitch is ignored);
* an invalid pose (NaN angle or infinite σ) is not a measurement: the state is predicted only,
  and the reported smoothed value for that frame is NaN (no made-up pose).

The reported σ of a smoothed angle is the filter's posterior standard deviation, ``√P₀₀``.
Measured jitter reduction and lag: ``benchmarks/bench_video.py`` and docs/video.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import wrap_degrees
from hhpnet.errors import InputError

__all__ = [
    "DEFAULT_ACCEL_STD",
    "MAX_ACCEL_STD",
    "PoseSmoother",
    "SmootherParams",
    "wrap180",
]

#: default process noise: standard deviation of the angular acceleration, deg/s² per √s
DEFAULT_ACCEL_STD = 100.0
#: largest accepted ``accel_std`` (far beyond "no smoothing"; keeps q = accel_std² finite)
MAX_ACCEL_STD = 1e6


#: the old name of :func:`hhpnet.convention.wrap_degrees` (degrees to (−180, 180], NaN stays NaN)
wrap180 = wrap_degrees


@dataclass(frozen=True)
class SmootherParams:
    """Filter parameters (all angles in degrees, times in seconds)."""

    #: angular-acceleration noise (deg/s² per √s); q = accel_std² deg²/s³
    accel_std: float = DEFAULT_ACCEL_STD
    #: multiplier applied to the model's σ before use as measurement noise
    sigma_scale: float = 1.0
    #: initial standard deviation of the angular rate of a new track (deg/s)
    init_rate_std: float = 90.0
    #: innovation gate in standard deviations (outlier rejection); inf disables it
    gate: float = 5.0
    #: consecutive gated frames after which the filter restarts from the measurement
    reset_after: int = 2
    #: a track not updated for longer than this is forgotten (s)
    max_age: float = 2.0
    #: σ floor (deg) so that a σ of 0 cannot freeze the filter
    min_sigma: float = 0.1

    def __post_init__(self) -> None:
        def positive(name: str, upper: float = math.inf, allow_inf: bool = False) -> None:
            v = getattr(self, name)
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            if not ok or not (0 < v <= upper) or (math.isinf(v) and not allow_inf):
                limit = f" and ≤ {upper:g}" if math.isfinite(upper) else ""
                raise InputError(f"smoothing: {name} must be a number > 0{limit}; got {v!r}")

        positive("accel_std", MAX_ACCEL_STD)
        for name in ("sigma_scale", "init_rate_std", "max_age", "min_sigma"):
            positive(name, 1e6)
        positive("gate", allow_inf=True)
        if isinstance(self.reset_after, bool) or not isinstance(self.reset_after, int):
            raise InputError(f"smoothing: reset_after must be an integer; got {self.reset_after!r}")
        if self.reset_after < 1:
            raise InputError(f"smoothing: reset_after must be ≥ 1; got {self.reset_after}")


@dataclass
class _TrackState:
    x: NDArray[np.float64]  # (3, 2) angle, rate per angle
    p: NDArray[np.float64]  # (3, 2, 2)
    t: float  # time of the state (s)
    misses: NDArray[np.int64] = field(default_factory=lambda: np.zeros(3, np.int64))


class PoseSmoother:
    """Constant-velocity Kalman filters for (yaw, pitch, roll), one set per track id.

    >>> sm = PoseSmoother()
    >>> smooth, sigma = sm.update([7], [[10.0, 0.0, 0.0]], [[3.0, 3.0, 3.0]], t=0.0)
    """

    def __init__(self, params: SmootherParams | None = None, **overrides: float) -> None:
        base = params or SmootherParams()
        if overrides:
            base = SmootherParams(**{**base.__dict__, **overrides})
        self.params = base
        self._tracks: dict[int, _TrackState] = {}

    def __len__(self) -> int:
        return len(self._tracks)

    @property
    def track_ids(self) -> list[int]:
        """Ids that currently have a filter state."""
        return sorted(self._tracks)

    def reset(self) -> None:
        """Forget every track."""
        self._tracks.clear()

    def forget(self, ids: ArrayLike) -> None:
        """Drop the states of these track ids (e.g. tracks the tracker has ended)."""
        for i in np.asarray(ids, dtype=np.int64).ravel():
            self._tracks.pop(int(i), None)

    def prune(self, t: float) -> None:
        """Drop states not updated for more than ``params.max_age`` seconds before ``t``."""
        old = [k for k, s in self._tracks.items() if t - s.t > self.params.max_age]
        for k in old:
            del self._tracks[k]

    def update(
        self,
        track_ids: ArrayLike,
        angles: ArrayLike,
        sigma: ArrayLike,
        t: float,
        valid: ArrayLike | None = None,
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Filter one frame.

        ``track_ids`` (N,) ints (unique within the frame), ``angles`` (N, 3) degrees (yaw, pitch,
        roll), ``sigma`` (N, 3) degrees, ``t`` frame time in seconds, ``valid`` (N,) optional.
        Returns the smoothed angles (N, 3) and their σ (N, 3), float32 degrees; NaN for invalid
        people. Vectorised over people and angles.
        """
        ids = np.asarray(track_ids, dtype=np.int64).ravel()
        n = ids.size
        z = np.asarray(angles, dtype=np.float64).reshape(n, 3)
        r_sig = np.asarray(sigma, dtype=np.float64).reshape(n, 3) * self.params.sigma_scale
        ok = np.isfinite(z).all(axis=1) & np.isfinite(r_sig).all(axis=1)
        if valid is not None:
            ok &= np.asarray(valid, dtype=bool).ravel()
        r_sig = np.maximum(np.where(np.isfinite(r_sig), r_sig, np.inf), self.params.min_sigma)
        out = np.full((n, 3), np.nan)
        out_s = np.full((n, 3), np.nan)
        if n == 0:
            return out.astype(np.float32), out_s.astype(np.float32)
        if len(set(ids.tolist())) != n:
            raise ValueError("track ids must be unique within a frame")

        known = np.array([int(i) in self._tracks for i in ids], dtype=bool)
        # new tracks with a measurement: initialise from it
        for k in np.flatnonzero(~known & ok):
            x = np.zeros((3, 2))
            x[:, 0] = wrap_degrees(z[k])
            p = np.zeros((3, 2, 2))
            p[:, 0, 0] = r_sig[k] ** 2
            p[:, 1, 1] = self.params.init_rate_std**2
            self._tracks[int(ids[k])] = _TrackState(x, p, float(t))
            out[k] = x[:, 0]
            out_s[k] = r_sig[k]
        sel = np.flatnonzero(known)
        if sel.size:
            states = [self._tracks[int(ids[k])] for k in sel]
            x = np.stack([s.x for s in states])  # (m, 3, 2)
            p = np.stack([s.p for s in states])  # (m, 3, 2, 2)
            misses = np.stack([s.misses for s in states])  # (m, 3)
            dt = np.maximum(np.array([t - s.t for s in states]), 0.0)[:, None]  # (m, 1)
            x, p = self._predict(x, p, dt)
            meas = np.repeat(np.asarray(ok, dtype=bool)[sel][:, None], 3, axis=1)
            x, p, misses = self._correct(x, p, misses, z[sel], r_sig[sel], meas)
            for j, s in enumerate(states):
                s.x, s.p, s.t, s.misses = x[j], p[j], float(t), misses[j]
            ang = x[..., 0]
            sd = np.sqrt(p[..., 0, 0])
            out[sel] = np.where(meas, ang, np.nan)
            out_s[sel] = np.where(meas, sd, np.nan)
        return out.astype(np.float32), out_s.astype(np.float32)

    def _predict(
        self, x: NDArray[np.float64], p: NDArray[np.float64], dt: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        q = self.params.accel_std**2
        x = x.copy()
        x[..., 0] = wrap_degrees(x[..., 0] + x[..., 1] * dt)
        p00, p01, p11 = p[..., 0, 0], p[..., 0, 1], p[..., 1, 1]
        n00 = p00 + 2 * dt * p01 + dt * dt * p11 + q * dt**3 / 3
        n01 = p01 + dt * p11 + q * dt**2 / 2
        n11 = p11 + q * dt
        p = np.stack([np.stack([n00, n01], -1), np.stack([n01, n11], -1)], -2)
        return x, p

    def _correct(
        self,
        x: NDArray[np.float64],
        p: NDArray[np.float64],
        misses: NDArray[np.int64],
        z: NDArray[np.float64],
        r_sig: NDArray[np.float64],
        meas: NDArray[np.bool_],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        prm = self.params
        innov = wrap_degrees(np.where(meas, z, 0.0) - x[..., 0])
        s = p[..., 0, 0] + r_sig**2
        outlier = meas & (innov**2 > prm.gate**2 * s)
        misses = np.where(outlier, misses + 1, np.where(meas, 0, misses))
        restart = outlier & (misses >= prm.reset_after)
        use = meas & ~outlier
        gain = p[..., :, 0] / s[..., None]  # (m, 3, 2)
        gain = np.where(use[..., None], gain, 0.0)
        x = x + gain * innov[..., None]
        p = p - gain[..., :, None] * p[..., None, 0, :]
        p = 0.5 * (p + np.swapaxes(p, -1, -2))
        # restart from the measurement after repeated gated frames
        x[..., 0] = np.where(restart, z, x[..., 0])
        x[..., 1] = np.where(restart, 0.0, x[..., 1])
        p00 = np.where(restart, r_sig**2, p[..., 0, 0])
        p01 = np.where(restart, 0.0, p[..., 0, 1])
        p11 = np.where(restart, prm.init_rate_std**2, p[..., 1, 1])
        p = np.stack([np.stack([p00, p01], -1), np.stack([p01, p11], -1)], -2)
        misses = np.where(restart, 0, misses)
        x[..., 0] = wrap_degrees(x[..., 0])
        return x, p, misses
