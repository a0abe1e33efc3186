"""Running the application with uvicorn: :class:`BackgroundServer` (uvicorn in a thread, on
``host:port`` or a free port) and :func:`serve` (the command: that, until Ctrl-C or SIGTERM)."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

from hhpnet.errors import InputError
from hhpnet.serve.settings import ServeSettings

__all__ = ["BackgroundServer", "bind", "serve", "url_of"]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), or a one-line InputError."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio then sets TCP_NODELAY on every accepted connection
    # (it checks the proto); without it Nagle + delayed ACKs add ~40 ms to each answer
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _config(app: FastAPI, settings: ServeSettings, log_level: str) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        ws_max_size=settings.max_upload_bytes,
        timeout_graceful_shutdown=10,
        lifespan="on",
    )


def serve(settings: ServeSettings, *, log_level: str = "warning") -> None:
    """Start the server, print the page's URL once it answers (model loaded and warm), and run
    until Ctrl-C or SIGTERM: then a clean shutdown (requests finished, jobs cancelled, job
    files removed) and a normal return. A second Ctrl-C stops at once.

    uvicorn runs in a thread, so it installs no signal handler of its own (in the main thread
    it re-raises the signal after shutting down, which ends in a traceback in the log)."""
    import faulthandler

    settings.check()
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 PID`: every thread's stack on stderr
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        with BackgroundServer(settings, log_level=log_level) as srv:
            try:
                print(f"hhpnet: serving {srv.url} (Ctrl-C stops)", file=sys.stderr, flush=True)
                while not stop.wait(0.5) and srv.running:
                    pass
            except KeyboardInterrupt:
                pass
            print("hhpnet: stopping…", file=sys.stderr, flush=True)
            try:
                srv.stop()
            except KeyboardInterrupt:
                srv.stop(force=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("hhpnet: stopped", file=sys.stderr, flush=True)


class BackgroundServer:
    """``with BackgroundServer(settings) as srv: srv.url`` — the app served by uvicorn in a
    thread on ``settings.host:settings.port`` (0: a free port); stopped cleanly (lifespan
    included) on exit. The command and the tests both run the server this way."""

    def __init__(
        self,
        settings: ServeSettings | None = None,
        *,
        app: FastAPI | None = None,
        log_level: str = "error",
    ) -> None:
        from hhpnet.serve.app import create_app

        self.settings = settings or ServeSettings(port=0)
        self.app = app if app is not None else create_app(self.settings)
        self.sock = bind(self.settings.host, self.settings.port)
        self.url = url_of(self.sock)
        self.log_level = log_level
        self.server: Any = None
        self.thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def __enter__(self) -> BackgroundServer:
        import uvicorn

        self.server = uvicorn.Server(_config(self.app, self.settings, self.log_level))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                self.sock.close()
                raise InputError("the server could not start (see the messages above)")
            time.sleep(0.02)
        return self

    def stop(self, *, force: bool = False) -> None:
        """Ask the server to finish (``force``: without waiting for open requests) and wait."""
        if self.server is not None:
            self.server.should_exit = True
            self.server.force_exit = self.server.force_exit or force
        if self.thread is not None:
            while self.thread.is_alive():
                self.thread.join(timeout=0.2)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self.sock.close()
