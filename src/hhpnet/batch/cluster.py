"""Ray for a batch run: start a local cluster or connect to one (:func:`start_ray`), quietly."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any

from hhpnet.batch.worker import (
    _one_line,
)
from hhpnet.errors import HhpnetError

# --------------------------------------------------------------------------- driver side


def _cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _import_ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as exc:
        raise HhpnetError("hhpnet batch needs Ray: pip install 'hhpnet[ray]'") from exc
    return ray


def _probe(address: str, timeout: float = 10.0) -> None:
    """Fail fast (one line) when a ``host:port`` cluster address does not answer: Ray itself
    keeps retrying an unreachable address for minutes."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise HhpnetError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
            "`ray start --head`, or leave out --address for a local instance"
        ) from None


@contextlib.contextmanager
def _stderr_to(path: str | None) -> Iterator[None]:
    """Send file descriptor 2 to ``path`` (Ray's C++ start-up messages bypass sys.stderr)."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


@contextlib.contextmanager
def _no_api_server(ray: Any) -> Iterator[None]:
    """While starting a local instance: skip Ray's head "API server" process.

    With the dashboard off, Ray still starts it for usage statistics, and even with those
    disabled it asks the cloud metadata services whether it runs on Azure, GCP or AWS (HTTP to
    169.254.169.254, a DNS lookup of metadata.google.internal). Our private instance needs none
    of its services (dashboard, job submission, state API). Without this hook (another Ray
    version) the instance works the same, those requests included.
    """
    services: Any = getattr(getattr(ray, "_private", None), "services", None)
    original = getattr(services, "start_api_server", None)
    if original is None:
        yield
        return
    services.start_api_server = lambda *args, **kwargs: (None, None)
    try:
        yield
    finally:
        services.start_api_server = original


def start_ray(
    address: str | None = None,
    num_cpus: int | None = None,
    ray_logs: bool = False,
    log_file: str | None = None,
) -> bool:
    """Start (or join) Ray unless this process is already connected; True if started here.

    Local (``address`` None): a private instance with ``num_cpus`` CPUs, no dashboard, usage
    statistics off, listening on the loopback interface only (when Ray is first imported here),
    no head API server (see :func:`_no_api_server`), its log lines kept in its session folder
    unless ``ray_logs``. ``address``: join that
    cluster (``"auto"`` or ``"host:port"``). ``log_file``: where Ray's own start-up messages go
    (unless ``ray_logs``; default: they are discarded).
    """
    import logging

    if address is None and "ray" not in sys.modules:
        # an embedded instance serves this process only: bind it to the loopback interface
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _import_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": ray_logs,
        "logging_level": logging.INFO if ray_logs else logging.ERROR,
        "configure_logging": True,
    }
    if address is None:
        kwargs.update(
            address="local",
            num_cpus=num_cpus or _cpu_count(),
            object_store_memory=128 * 2**20,
        )
    else:
        _probe(address)
        kwargs["address"] = address
        kwargs.pop("include_dashboard")
    try:
        with (
            _stderr_to(None if ray_logs else (log_file or os.devnull)),
            _no_api_server(ray if address is None else None),
        ):
            ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        hint = (
            " (with token authentication set RAY_AUTH_MODE=token, or use --address auto on a "
            "node of the cluster)"
            if address not in (None, "auto")
            else ""
        )
        raise HhpnetError(f"cannot start or join {where}: {_one_line(exc)}{hint}") from None
    if not ray_logs:
        # Ray prints worker deaths and retries itself; we report them in one line per input
        with contextlib.suppress(Exception):
            ray._private.worker._worker_logs_enabled = False
    return True
