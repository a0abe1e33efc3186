"""The FastAPI application of ``hhpnet serve``: :func:`create_app` (docs/serve.md).

Routes: the page (``/``, ``/static/…``, ``/docs``), ``/openapi.json``, and the API under
``/v1``, in four routers: :mod:`~hhpnet.serve.routes_images` (one image or its keypoints),
:mod:`~hhpnet.serve.routes_videos` (video jobs), :mod:`~hhpnet.serve.routes_stream` (the
webcam WebSocket) and :mod:`~hhpnet.serve.routes_meta` (the page, health, version); what they
share is in :mod:`~hhpnet.serve.deps`. Every error is ``{"error": "<one line>"}`` with a 4xx
status (503 + ``Retry-After`` when full); a bug is a 500 with a fixed line, its traceback goes
to the server's log only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hhpnet.serve import routes_images, routes_meta, routes_stream, routes_videos
from hhpnet.serve.engine import Engine
from hhpnet.serve.errors import add_error_handlers
from hhpnet.serve.guard import Guard
from hhpnet.serve.jobs import Jobs
from hhpnet.serve.routes_meta import STATIC_DIR
from hhpnet.serve.settings import ServeSettings

__all__ = ["STATIC_DIR", "create_app"]

log = logging.getLogger("hhpnet.serve")

DESCRIPTION = (
    "Head pose (yaw, pitch, roll ± σ) and who looks at whom, for images, "
    "videos and a webcam stream (WebSocket `/v1/stream`, see docs/serve.md). Errors are "
    '`{"error": "<one line>"}`.'
)


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """The application for ``settings`` (checked; defaults: :class:`ServeSettings`): its
    engine, settings and webcam stream count on ``app.state`` (the video jobs once it starts),
    the guard and CORS middleware, the error handlers, the page's files and the routers."""
    from hhpnet import __version__

    settings = settings or ServeSettings()
    settings.check()
    engine = Engine(settings)
    app = FastAPI(
        title="hhpnet",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # FastAPI's docs pages load scripts from a CDN: /docs is our own page
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.streams = 0
    app.add_middleware(Guard, settings=settings)
    if settings.cors:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (routes_images, routes_videos, routes_stream, routes_meta):
        app.include_router(module.router)
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start: the video jobs, the warm-up (``settings.warm``) and the sweeper of expired jobs;
    stop: cancel the jobs, remove their files, close the engine."""
    settings: ServeSettings = app.state.settings
    engine: Engine = app.state.engine
    jobs = Jobs(settings, engine)
    app.state.jobs = jobs
    if settings.warm:
        await asyncio.get_running_loop().run_in_executor(engine.pool, engine.warm)
    sweeper = asyncio.create_task(_sweep(jobs))
    try:
        yield
    finally:
        sweeper.cancel()
        await asyncio.get_running_loop().run_in_executor(None, jobs.close)
        engine.close()


async def _sweep(jobs: Jobs) -> None:
    """Remove expired jobs once a minute."""
    while True:
        await asyncio.sleep(60.0)
        jobs.sweep()
