"""What ``hhpnet serve`` is started with (:class:`ServeSettings`) and the checks made before
anything is bound or loaded. Standard library only: the command line validates its options
with this module before it imports the web stack."""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field

from hhpnet.detectors import registry as detector_registry
from hhpnet.errors import InputError
from hhpnet.interaction import registry as interaction_registry

__all__ = ["DETECTOR_NAMES", "METHOD_NAMES", "ServeSettings", "is_loopback"]

#: detectors a request may choose (``?detector=``): the registered ones
DETECTOR_NAMES: tuple[str, ...] = detector_registry.names()
#: interaction methods a request may choose (``?method=``): the registered ones
METHOD_NAMES: tuple[str, ...] = interaction_registry.names()

_MB = 1024 * 1024


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: addresses only this machine reaches."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class ServeSettings:
    """Options of ``hhpnet serve`` (docs/serve.md).

    ``model`` / ``detector``: the defaults of every request (a request may pick another bundled
    model or detector; only the operator may name a weight file). ``token``: required for any
    ``host`` that is not a loopback address; then every API request needs
    ``Authorization: Bearer <token>``. ``max_upload_mb`` / ``max_video_mb``: per image / per
    video. ``data_dir``: where video jobs keep their files (a fresh temporary folder by
    default; a run's own sub-folder otherwise); ``keep_hours``: finished jobs are removed after
    this; ``max_disk_mb``: all job files together. ``workers``: threads estimating images and
    stream frames (one shared estimator); ``queue``: requests allowed to wait for them before
    new ones get 503; ``video_workers``: videos processed at once; ``max_jobs``: queued +
    running video jobs; ``max_streams``: webcam WebSockets at once. ``cors``: an origin allowed
    to call the API from its pages (none by default). ``warm``: load the default model and
    detector and run them once at start-up (the first request is then as fast as the rest).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    model: str = "hhpnet-1.0"
    detector: str = "auto"
    token: str | None = None
    max_upload_mb: float = 25.0
    max_video_mb: float = 2048.0
    data_dir: str | None = None
    keep_hours: float = 24.0
    max_disk_mb: float = 10240.0
    cors: list[str] = field(default_factory=list)
    workers: int = 2
    queue: int = 16
    video_workers: int = 1
    max_jobs: int = 8
    max_streams: int = 4
    warm: bool = True

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * _MB)

    @property
    def max_video_bytes(self) -> int:
        return int(self.max_video_mb * _MB)

    @property
    def max_disk_bytes(self) -> int:
        return int(self.max_disk_mb * _MB)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def check(self) -> None:
        """Raise a one-line :class:`InputError` for options the server must refuse."""
        if self.token is not None and (not self.token or self.token != self.token.strip()):
            raise InputError("--token must be a non-empty string without surrounding spaces")
        if self.token is not None and not self.token.isprintable():
            raise InputError("--token must be printable ASCII (it travels in an HTTP header)")
        if not self.loopback and not self.token:
            raise InputError(
                f"--host {self.host} is reachable from other machines: give --token TOKEN "
                "(or set HHPNET_TOKEN); every request then needs 'Authorization: Bearer TOKEN'"
            )
        if not 0 <= self.port <= 65535:
            raise InputError(f"--port must be in 0..65535; got {self.port}")
        known = detector_registry.names()
        if self.detector not in known:
            choices = ", ".join(known)
            raise InputError(f"unknown detector {self.detector!r}; choose one of {choices}")
        for name, value in (
            ("--max-upload-mb", self.max_upload_mb),
            ("--max-video-mb", self.max_video_mb),
            ("--max-disk-mb", self.max_disk_mb),
            ("--keep-hours", self.keep_hours),
        ):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"{name} must be a positive number; got {value}")
        for name, count in (
            ("--workers", self.workers),
            ("--video-workers", self.video_workers),
            ("--max-jobs", self.max_jobs),
            ("--max-streams", self.max_streams),
        ):
            if count < 1:
                raise InputError(f"{name} must be ≥ 1; got {count}")
        if self.queue < 0:
            raise InputError(f"--queue must be ≥ 0; got {self.queue}")
        for origin in self.cors:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise InputError(f"--cors expects an origin like http://host:port; got {origin!r}")
        if self.data_dir is not None:
            d = os.path.abspath(self.data_dir)
            if os.path.exists(d) and not os.path.isdir(d):
                raise InputError(f"--data-dir {self.data_dir!r}: is a file, not a folder")
