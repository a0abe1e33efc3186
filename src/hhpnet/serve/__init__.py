"""``hhpnet serve``: a local web page and an HTTP API (FastAPI + uvicorn, the ``[serve]`` extra).

::

    from hhpnet.serve import ServeSettings, create_app
    app = create_app(ServeSettings(detector="blazeface"))   # an ASGI application

Nothing else in hhpnet imports this package: a prediction never loads the web stack.
Modules: :mod:`~hhpnet.serve.settings` (options, checks), :mod:`~hhpnet.serve.engine` (shared
estimator, bounded pool), :mod:`~hhpnet.serve.jobs` (video jobs),
:mod:`~hhpnet.serve.stream` (webcam WebSocket), :mod:`~hhpnet.serve.guard` (host, token, size
limits), :mod:`~hhpnet.serve.app` (the application; its routers ``routes_images``,
``routes_videos``, ``routes_stream``, ``routes_meta`` and what they share, ``deps``),
:mod:`~hhpnet.serve.server` (uvicorn); the page is plain HTML/JS/CSS under ``static/``.
See docs/serve.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hhpnet.serve.settings import ServeSettings

if TYPE_CHECKING:
    from hhpnet.serve.app import create_app

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from hhpnet.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'hhpnet.serve' has no attribute {name!r}")
