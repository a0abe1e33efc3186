"""The page and service routes of ``hhpnet serve``: ``/`` and ``/docs`` (the page, not in the
OpenAPI schema), ``GET /v1/health`` (is the server up, how busy) and ``GET /v1/version``
(package, model, detector, the choices and limits)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hhpnet.serve import schema
from hhpnet.serve.deps import engine_of, jobs_of, settings_of
from hhpnet.serve.settings import DETECTOR_NAMES, METHOD_NAMES

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(str(resources.files("hhpnet.serve") / "static"))

router = APIRouter()


@router.get("/", include_in_schema=False)
def page() -> HTMLResponse:
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))


@router.get("/docs", include_in_schema=False)
def docs_page() -> HTMLResponse:
    return HTMLResponse((STATIC_DIR / "docs.html").read_text(encoding="utf-8"))


@router.get("/v1/health", summary="Is the server up, how busy", response_model=schema.Health)
def health(request: Request) -> dict[str, object]:
    jobs = jobs_of(request)
    with jobs.lock:
        active = sum(1 for j in jobs.jobs.values() if not j.ended)
    engine = engine_of(request)
    return {
        "status": "ok",
        "busy": engine.inflight,
        "capacity": engine.limit,
        "jobs": active,
        "streams": request.app.state.streams,
    }


@router.get("/v1/version", summary="Package, model and detector", response_model=schema.Version)
def version(request: Request) -> dict[str, object]:
    from hhpnet import __version__
    from hhpnet.adapters import LAYOUTS
    from hhpnet.model import MODEL_NAMES

    settings = settings_of(request)
    return {
        "hhpnet": __version__,
        "model": Path(settings.model).name,
        "detector": settings.detector,
        "models": list(MODEL_NAMES),
        "detectors": list(DETECTOR_NAMES),
        "methods": list(METHOD_NAMES),
        "layouts": list(LAYOUTS),
        "limits": {
            "max_upload_mb": settings.max_upload_mb,
            "max_video_mb": settings.max_video_mb,
            "max_disk_mb": settings.max_disk_mb,
            "keep_hours": settings.keep_hours,
        },
        "auth": settings.token is not None,
    }
