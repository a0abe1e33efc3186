"""The video job routes of ``hhpnet serve``: ``POST /v1/videos`` (upload; 202 with the job),
``GET /v1/videos`` (all jobs), ``GET`` / ``DELETE /v1/videos/{id}`` and ``GET
/v1/videos/{id}/{file}`` (a finished job's files and preview frames); docs/serve.md."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from hhpnet.errors import InputError
from hhpnet.serve import schema
from hhpnet.serve.deps import BINARY, MULTIPART, Opts, content_type, jobs_of, json_response
from hhpnet.serve.errors import BadParameter, UnsupportedType, error_responses
from hhpnet.serve.jobs import OUTPUT_FILES, PREVIEW_NAME, Job, Jobs, VideoOptions, display_name

__all__ = ["VIDEO_TYPES", "router"]

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
VIDEO_BODY = {
    "requestBody": {
        "required": True,
        "description": "The video file as the raw body (Content-Type video/…) or as the "
        "multipart field 'file'.",
        "content": {
            "video/mp4": BINARY,
            "application/octet-stream": BINARY,
            "multipart/form-data": MULTIPART,
        },
    }
}

router = APIRouter()


@router.post(
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
    max_frames: Annotated[int | None, Query(ge=1, description="At most this many frames.")] = None,
    start: Annotated[float, Query(ge=0.0, le=1e7, description="From this second.")] = 0.0,
    end: Annotated[float | None, Query(ge=0.0, le=1e7, description="Up to this second.")] = None,
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
    return json_response(json.dumps(job.to_dict()), 202)


@router.get("/v1/videos", summary="All video jobs", response_model=schema.JobList)
def list_videos(request: Request) -> dict[str, list[dict[str, object]]]:
    jobs = jobs_of(request)
    with jobs.lock:
        items = list(jobs.jobs.values())
    return {"jobs": [j.to_dict() for j in items]}


@router.get(
    "/v1/videos/{job_id}",
    summary="A video job's state and progress",
    response_model=schema.Job,
    responses=error_responses(401, 404),
)
def get_video(request: Request, job_id: str) -> dict[str, object]:
    return _job(request, job_id).to_dict()


@router.delete(
    "/v1/videos/{job_id}",
    summary="Cancel a video job and delete its files",
    response_model=schema.Deleted,
    responses=error_responses(401, 404),
)
def delete_video(request: Request, job_id: str) -> dict[str, object]:
    if not jobs_of(request).remove(_job(request, job_id).id):
        raise StarletteHTTPException(404, "no such video job")
    return {"id": job_id, "deleted": True}


@router.get(
    "/v1/videos/{job_id}/{file}",
    summary="A file of a finished video job",
    responses={
        200: {
            "description": "poses.csv, poses.jsonl, poses.parquet, timeline.csv, "
            "timeline_people.csv, timeline.png, annotated.mp4, or frame-<index>.jpg",
            "content": {"application/octet-stream": BINARY},
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
    return FileResponse(job.folder / file, media_type=OUTPUT_FILES[file], filename=f"{stem}_{file}")


def _job(request: Request, job_id: str) -> Job:
    job = jobs_of(request).get(job_id)
    if job is None:
        raise StarletteHTTPException(404, "no such video job")
    return job


async def _receive_video(
    request: Request, jobs: Jobs, vopts: VideoOptions, name: str | None
) -> Job:
    """Reserve a job, store the upload in its folder and probe it; then queue the job (any
    failure before that removes the job and its files)."""
    ctype = content_type(request)
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
    """The multipart field 'file' saved as ``input<ext>`` (its ending, else its type's)."""
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
