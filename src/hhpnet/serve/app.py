"""The FastAPI application of ``hhpnet serve``: :func:`create_app` (docs/serve.md).

Routes: the page (``/``, ``/static/…``, ``/docs``), ``/openapi.json``, and the API under
``/v1``. Every error is ``{"error": "<one line>"}`` with a 4xx status (503 + ``Retry-After``
when full); a bug is a 500 with a fixed line, its traceback goes to the server's log only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from hhpnet.errors import InputError
from hhpnet.serve import schema
from hhpnet.serve.engine import Engine, PoseOptions, image_size_from_header
from hhpnet.serve.errors import (
    BadParameter,
    UnsupportedType,
    add_error_handlers,
    error_responses,
)
from hhpnet.serve.guard import Guard
from hhpnet.serve.jobs import OUTPUT_FILES, PREVIEW_NAME, Job, Jobs, VideoOptions, display_name
from hhpnet.serve.settings import DETECTOR_NAMES, METHOD_NAMES, ServeSettings
from hhpnet.serve.stream import StreamSession, run_stream

__all__ = ["create_app"]

log = logging.getLogger("hhpnet.serve")

STATIC_DIR = Path(str(resources.files("hhpnet.serve") / "static"))

ModelName = Literal["hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2"]
if TYPE_CHECKING:
    DetectorName = str
    MethodName = str
else:  # the registered names, as FastAPI's choices (validation and the OpenAPI enum)
    DetectorName = Literal[DETECTOR_NAMES]
    MethodName = Literal[METHOD_NAMES]
LayoutName = Literal["coco17", "openpose25", "openpose18", "blazepose33", "blazeface6", "hhpnet5"]

#: Content-Types taken as an image body (anything else but multipart: 415)
IMAGE_TYPES = frozenset(
    "image/" + t for t in ("jpeg", "jpg", "pjpeg", "png", "bmp", "x-ms-bmp", "tiff", "webp", "gif")
) | {"application/octet-stream"}
#: Content-Types taken as a video body → the file extension it is stored with
VIDEO_TYPES = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/x-msvideo": ".avi",
    "video/avi": ".avi",
    "video/x-matroska": ".mkv",
    "video/webm": ".webm",
    "video/x-m4v": ".m4v",
    "application/octet-stream": ".mp4",
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_MULTIPART = {
    "schema": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
}
IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The image file as the raw body (Content-Type image/…) or as the "
        "multipart field 'file'.",
        "content": {
            "image/jpeg": _BINARY,
            "image/png": _BINARY,
            "application/octet-stream": _BINARY,
            "multipart/form-data": _MULTIPART,
        },
    }
}
VIDEO_BODY = {
    "requestBody": {
        "required": True,
        "description": "The video file as the raw body (Content-Type video/…) or as the "
        "multipart field 'file'.",
        "content": {
            "video/mp4": _BINARY,
            "application/octet-stream": _BINARY,
            "multipart/form-data": _MULTIPART,
        },
    }
}
KEYPOINTS_BODY = {
    "requestBody": {
        "required": True,
        "description": "Keypoints of one image in any format `hhpnet predict --keypoints` "
        'reads: OpenPose ({"people": [...]}), COCO annotations or results, MMPose '
        "instances, or an array (N, K, 2|3) in `layout`.",
        "content": {"application/json": {"schema": {}}},
    }
}


def _json(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def pose_options(
    model: Annotated[
        ModelName | None, Query(description="Head-pose model (default: the server's).")
    ] = None,
    detector: Annotated[
        DetectorName | None, Query(description="Keypoint detector (default: the server's).")
    ] = None,
    tile: Annotated[bool, Query(description="Also search image tiles (small people).")] = False,
    kpt_thr: Annotated[
        float, Query(ge=0.0, le=1.0, description="Keypoints below this confidence are missing.")
    ] = 0.0,
    method: Annotated[MethodName, Query(description="Interaction method.")] = "hhpnet",
    threshold: Annotated[
        float | None, Query(ge=0.0, le=1.0, description="Interaction decision threshold.")
    ] = None,
    param: Annotated[
        list[str] | None,
        Query(
            max_length=200,
            description="Interaction method parameter KEY=VALUE (repeatable), as "
            "`hhpnet interact --param`, e.g. tolerance_deg=12.",
        ),
    ] = None,
    precise: Annotated[
        bool,
        Query(description="Accuracy first: the mirrored image is read too (about 2× the time)."),
    ] = False,
) -> PoseOptions:
    """The estimator and interaction options of a request (query parameters)."""
    from hhpnet.commands.interact import parse_params

    try:
        params = parse_params(list(param or []))
    except InputError as exc:
        raise BadParameter(str(exc).removeprefix("--")) from None
    if threshold is not None:
        params["threshold"] = threshold
    opts = PoseOptions(
        model, detector, tile, kpt_thr, method, tuple(params.items()), precise=precise
    )
    return opts


Opts = Annotated[PoseOptions, Depends(pose_options)]
Source = Annotated[
    str | None,
    Query(max_length=200, description="A name for the image in the record (a label only)."),
]


def _check_analysis(opts: PoseOptions) -> None:
    try:
        opts.check_analysis()
    except InputError as exc:
        raise BadParameter(str(exc)) from None


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """The application for ``settings`` (checked; defaults: :class:`ServeSettings`).

    Long: the routes are closures over this run's engine, jobs and settings, one short
    function each; FastAPI reads their signatures for the OpenAPI schema.
    """
    from hhpnet import __version__
    from hhpnet.adapters import LAYOUTS
    from hhpnet.model import MODEL_NAMES

    settings = settings or ServeSettings()
    settings.check()
    engine = Engine(settings)
    state: dict[str, Any] = {"streams": 0}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    app = FastAPI(
        title="hhpnet",
        version=__version__,
        description="Head pose (yaw, pitch, roll ± σ) and who looks at whom, for images, "
        "videos and a webcam stream (WebSocket `/v1/stream`, see docs/serve.md). Errors are "
        '`{"error": "<one line>"}`.',
        docs_url=None,  # FastAPI's docs pages load scripts from a CDN: /docs is our own page
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = engine
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

    def jobs_of(request: Request | WebSocket) -> Jobs:
        jobs: Jobs = request.app.state.jobs
        return jobs

    # ---------------------------------------------------------------- the page
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse((STATIC_DIR / "docs.html").read_text(encoding="utf-8"))

    # ---------------------------------------------------------------- images
    @app.post(
        "/v1/poses",
        summary="Head poses of the people in one image",
        response_model=schema.PosesRecord,
        responses=error_responses(400, 401, 413, 415, 422, 503),
        openapi_extra=IMAGE_BODY,
        response_class=Response,
    )
    async def poses(request: Request, opts: Opts, source: Source = None) -> Response:
        """The record `hhpnet predict --json` writes for the image (same numbers)."""
        return await _image_answer(request, opts, source, interact=False)

    @app.post(
        "/v1/interaction",
        summary="Head poses and who looks at whom in one image",
        response_model=schema.InteractionRecord,
        responses=error_responses(400, 401, 413, 415, 422, 503),
        openapi_extra=IMAGE_BODY,
        response_class=Response,
    )
    async def interaction(request: Request, opts: Opts, source: Source = None) -> Response:
        """The record `hhpnet interact --json` writes for the image (same numbers)."""
        return await _image_answer(request, opts, source, interact=True)

    async def _image_answer(
        request: Request, opts: PoseOptions, source: str | None, *, interact: bool
    ) -> Response:
        if interact:
            _check_analysis(opts)  # a bad method parameter: 422 before the upload is read
        data, name = await _read_image(request)
        label = source or name

        def work() -> tuple[str, float]:
            start = time.perf_counter()
            line = engine.image_record(opts, data, label, interact=interact)
            return line, (time.perf_counter() - start) * 1000.0

        line, ms = await engine.run(work)
        # the estimation's own time (decode → record): the rest of a round trip is HTTP
        return Response(
            line, media_type="application/json", headers={"Server-Timing": f"estimate;dur={ms:.2f}"}
        )

    @app.post(
        "/v1/poses/keypoints",
        summary="Head poses from keypoints you already have",
        response_model=schema.PosesRecord,
        responses=error_responses(400, 401, 413, 415, 422, 503),
        openapi_extra=KEYPOINTS_BODY,
        response_class=Response,
    )
    async def poses_from_keypoints(
        request: Request,
        opts: Opts,
        layout: Annotated[
            LayoutName | None, Query(description="Layout of array keypoints (default coco17).")
        ] = None,
        width: Annotated[
            int | None, Query(ge=1, le=100_000, description="Image width, px.")
        ] = None,
        height: Annotated[
            int | None, Query(ge=1, le=100_000, description="Image height, px.")
        ] = None,
        source: Source = None,
        interact: Annotated[
            bool, Query(description="Add the interaction block (as /v1/interaction).")
        ] = False,
    ) -> Response:
        """The record `hhpnet predict --keypoints FILE --json` writes (same numbers)."""
        if (width is None) != (height is None):
            raise BadParameter("give both width and height, or neither")
        if interact:
            _check_analysis(opts)
        ctype = _content_type(request)
        if ctype not in ("application/json", "text/json"):
            raise UnsupportedType(
                f"unsupported Content-Type {ctype or 'none'!r}: send application/json"
            )
        body = await request.body()
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InputError("the body is not valid JSON") from None
        size = (width, height) if width is not None and height is not None else None

        def work() -> str:
            from hhpnet.adapters import keypoints_from_json
            from hhpnet.records import record_line

            records = keypoints_from_json(data, layout, image_size=size, name="keypoints")
            if len(records) != 1:
                raise InputError(f"the body holds {len(records)} images' keypoints; send one")
            rec = records[0]
            est = engine.estimator(opts, with_detector=False)
            p = est.from_keypoints(
                rec, image_size=size or rec.image_size, source=source or rec.source
            )
            return record_line(p, opts.analysis()(p) if interact else None)

        return _json(await engine.run(work))

    # ---------------------------------------------------------------- videos
    @app.post(
        "/v1/videos",
        status_code=202,
        summary="Start a video job",
        response_model=schema.Job,
        responses=error_responses(400, 401, 413, 415, 422, 503),
        openapi_extra=VIDEO_BODY,
        response_class=Response,
    )
    async def create_video(
        request: Request,
        opts: Opts,
        stride: Annotated[int, Query(ge=1, le=10_000, description="Every n-th frame.")] = 1,
        max_frames: Annotated[
            int | None, Query(ge=1, description="At most this many frames.")
        ] = None,
        start: Annotated[float, Query(ge=0.0, le=1e7, description="From this second.")] = 0.0,
        end: Annotated[
            float | None, Query(ge=0.0, le=1e7, description="Up to this second.")
        ] = None,
        annotated: Annotated[
            bool, Query(description="Also write the annotated video (annotated.mp4).")
        ] = False,
        name: Annotated[
            str | None, Query(max_length=200, description="A name for the video (a label only).")
        ] = None,
    ) -> Response:
        """Upload a video; 202 with the job. Poll `GET /v1/videos/{id}`, then fetch its files."""
        vopts = VideoOptions(opts, stride, max_frames, start, end, annotated)
        try:
            vopts.check()
        except InputError as exc:
            raise BadParameter(str(exc)) from None
        job = await _receive_video(request, jobs_of(request), vopts, name)
        return _json(json.dumps(job.to_dict()), 202)

    @app.get("/v1/videos", summary="All video jobs", response_model=schema.JobList)
    def list_videos(request: Request) -> dict[str, Any]:
        jobs = jobs_of(request)
        with jobs.lock:
            items = list(jobs.jobs.values())
        return {"jobs": [j.to_dict() for j in items]}

    @app.get(
        "/v1/videos/{job_id}",
        summary="A video job's state and progress",
        response_model=schema.Job,
        responses=error_responses(401, 404),
    )
    def get_video(request: Request, job_id: str) -> dict[str, Any]:
        return _job(request, job_id).to_dict()

    @app.delete(
        "/v1/videos/{job_id}",
        summary="Cancel a video job and delete its files",
        response_model=schema.Deleted,
        responses=error_responses(401, 404),
    )
    def delete_video(request: Request, job_id: str) -> dict[str, Any]:
        if not jobs_of(request).remove(_job(request, job_id).id):
            raise StarletteHTTPException(404, "no such video job")
        return {"id": job_id, "deleted": True}

    @app.get(
        "/v1/videos/{job_id}/{file}",
        summary="A file of a finished video job",
        responses={
            200: {
                "description": "poses.csv, poses.jsonl, poses.parquet, timeline.csv, "
                "timeline_people.csv, timeline.png, annotated.mp4, or frame-<index>.jpg",
                "content": {"application/octet-stream": _BINARY},
            },
            **error_responses(401, 404),
        },
        response_class=Response,
    )
    def video_file(request: Request, job_id: str, file: str) -> Response:
        job = _job(request, job_id)
        preview = PREVIEW_NAME.fullmatch(file)
        if preview is not None and int(preview.group(1)) in job.previews:
            return FileResponse(job.folder / "frames" / file, media_type="image/jpeg")
        if file not in job.outputs:
            raise StarletteHTTPException(404, f"no file {file!r} in this job (yet)")
        stem = Path(job.name).stem or "video"
        return FileResponse(
            job.folder / file, media_type=OUTPUT_FILES[file], filename=f"{stem}_{file}"
        )

    def _job(request: Request, job_id: str) -> Job:
        job = jobs_of(request).get(job_id)
        if job is None:
            raise StarletteHTTPException(404, "no such video job")
        return job

    # ---------------------------------------------------------------- webcam stream
    @app.websocket("/v1/stream")
    async def stream(
        ws: WebSocket,
        model: ModelName | None = None,
        detector: DetectorName | None = None,
        tile: bool = False,
        kpt_thr: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
        method: MethodName = "hhpnet",
        interact: bool = True,
        precise: bool = False,
    ) -> None:
        offered = ws.scope.get("subprotocols") or []
        await ws.accept(subprotocol="hhpnet" if "hhpnet" in offered else None)
        if state["streams"] >= settings.max_streams:
            await ws.send_text(json.dumps({"error": "too many webcam streams; try later"}))
            await ws.close(code=1013)
            return
        state["streams"] += 1
        try:
            opts = PoseOptions(model, detector, tile, kpt_thr, method, precise=precise)
            session = await engine.run(lambda: StreamSession(engine, opts, interact), admit=False)
            await run_stream(ws, session)
        finally:
            state["streams"] -= 1

    # ---------------------------------------------------------------- service
    @app.get("/v1/health", summary="Is the server up, how busy", response_model=schema.Health)
    def health(request: Request) -> dict[str, Any]:
        jobs = jobs_of(request)
        with jobs.lock:
            active = sum(1 for j in jobs.jobs.values() if not j.ended)
        return {
            "status": "ok",
            "busy": engine.inflight,
            "capacity": engine.limit,
            "jobs": active,
            "streams": state["streams"],
        }

    @app.get("/v1/version", summary="Package, model and detector", response_model=schema.Version)
    def version() -> dict[str, Any]:
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

    # ---------------------------------------------------------------- uploads
    async def _read_image(request: Request) -> tuple[bytes, str | None]:
        """The image bytes and the client's file name (multipart) of a request; the size
        from the header is checked here, before any pixel is decoded."""
        from hhpnet.io import MAX_PIXELS

        ctype = _content_type(request)
        name = None
        if ctype == "multipart/form-data":
            form = await request.form(max_files=1, max_fields=4)
            try:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise InputError("multipart upload without a 'file' field")
                data = await upload.read()
                name = Path(upload.filename or "").name or None
            finally:
                await form.close()
        elif ctype in IMAGE_TYPES:
            data = await request.body()
        else:
            raise UnsupportedType(
                f"unsupported Content-Type {ctype or 'none'!r}: send image/jpeg, image/png "
                "(or another image type) as the body, or multipart/form-data with 'file'"
            )
        image_size_from_header(data, MAX_PIXELS)
        return data, name

    async def _receive_video(
        request: Request, jobs: Jobs, vopts: VideoOptions, name: str | None
    ) -> Job:
        ctype = _content_type(request)
        if ctype != "multipart/form-data" and ctype not in VIDEO_TYPES:
            raise UnsupportedType(
                f"unsupported Content-Type {ctype or 'none'!r}: send video/mp4 (or another "
                "video type) as the body, or multipart/form-data with 'file'"
            )
        length = request.headers.get("content-length")
        expected = int(length) if length and length.isdigit() else None
        job = jobs.reserve(name or "video", vopts, expected)
        try:
            if ctype == "multipart/form-data":
                path = await _save_multipart(request, jobs, job, name)
            else:
                path = job.folder / f"input{VIDEO_TYPES[ctype]}"
                await _save_stream(request.stream(), path, jobs, job)
            if path.stat().st_size == 0:
                raise InputError("empty upload (0 bytes): send the video file as the body")
            await asyncio.get_running_loop().run_in_executor(None, jobs.probe, job, path)
        except BaseException:
            jobs.remove(job.id)
            raise
        jobs.submit(job)
        return job

    async def _save_multipart(request: Request, jobs: Jobs, job: Job, name: str | None) -> Path:
        from hhpnet.video.sources import VIDEO_EXTENSIONS

        form = await request.form(max_files=1, max_fields=4)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InputError("multipart upload without a 'file' field")
            filename = Path(upload.filename or "").name
            ext = Path(filename).suffix.lower()
            if ext not in VIDEO_EXTENSIONS:
                ext = VIDEO_TYPES.get((upload.content_type or "").lower(), ".mp4")
            if filename and not name:
                job.name = display_name(filename)
            path = job.folder / f"input{ext}"

            async def chunks() -> AsyncIterator[bytes]:
                while chunk := await upload.read(1 << 20):
                    yield chunk

            await _save_stream(chunks(), path, jobs, job)
            return path
        finally:
            await form.close()

    return app


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _save_stream(chunks: AsyncIterator[bytes], path: Path, jobs: Jobs, job: Job) -> None:
    """Write an upload to ``path``, charging the job's disk budget as it grows."""
    written = 0
    with open(path, "wb") as fh:
        async for chunk in chunks:
            fh.write(chunk)
            written += len(chunk)
            if written - job.size > 16 * 1024 * 1024:
                jobs.charge(job, written)
    jobs.charge(job, written)


async def _sweep(jobs: Jobs) -> None:
    """Remove expired jobs once a minute."""
    while True:
        await asyncio.sleep(60.0)
        jobs.sweep()
