"""Running the application with uvicorn: :func:`serve` (the command, until Ctrl-C) and
:class:`BackgroundServer` (a server on a free loopback port in a thread, for tests and
benchmarks)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from types import TracebackType
from typing import Any

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


def _config(app: Any, settings: ServeSettings, log_level: str) -> Any:
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
    """Start the server and run it until Ctrl-C / SIGTERM (a clean shutdown: jobs cancelled,
    job files removed; Ctrl-C then returns normally: the command exits 0). Prints the page's
    URL once it answers."""
    import uvicorn

    from hhpnet.serve.app import create_app

    settings.check()
    sock = bind(settings.host, settings.port)
    app = create_app(settings)
    server = uvicorn.Server(_config(app, settings, log_level))
    url = url_of(sock)

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(f"hhpnet: serving {url} (Ctrl-C stops)", file=sys.stderr, flush=True)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down cleanly
        print("hhpnet: stopped", file=sys.stderr, flush=True)
    finally:
        sock.close()


class BackgroundServer:
    """``with BackgroundServer(settings) as srv: srv.url`` — the app on a free loopback port,
    served by uvicorn in a thread; stopped (cleanly, lifespan included) on exit."""

    def __init__(self, settings: ServeSettings | None = None, *, app: Any = None) -> None:
        from hhpnet.serve.app import create_app

        self.settings = settings or ServeSettings(port=0)
        self.app = app if app is not None else create_app(self.settings)
        self.sock = bind(self.settings.host, self.settings.port)
        self.url = url_of(self.sock)
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> BackgroundServer:
        import uvicorn

        self.server = uvicorn.Server(_config(self.app, self.settings, "error"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=60)
        self.sock.close()
