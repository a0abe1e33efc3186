"""The image routes of ``hhpnet serve``: ``POST /v1/poses``, ``/v1/interaction`` (an image
upload) and ``/v1/poses/keypoints`` (keypoints the client has); each answers the record the
command line writes for it (docs/serve.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from hhpnet.errors import InputError
from hhpnet.serve import schema
from hhpnet.serve.deps import (
    BINARY,
    MULTIPART,
    LayoutName,
    Opts,
    Source,
    check_analysis,
    content_type,
    engine_of,
    json_response,
)
from hhpnet.serve.engine import PoseOptions, image_size_from_header
from hhpnet.serve.errors import BadParameter, UnsupportedType, error_responses

__all__ = ["IMAGE_TYPES", "router"]

#: Content-Types taken as an image body (anything else but multipart: 415)
IMAGE_TYPES = frozenset(
    "image/" + t for t in ("jpeg", "jpg", "pjpeg", "png", "bmp", "x-ms-bmp", "tiff", "webp", "gif")
) | {"application/octet-stream"}
IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The image file as the raw body (Content-Type image/…) or as the "
        "multipart field 'file'.",
        "content": {
            "image/jpeg": BINARY,
            "image/png": BINARY,
            "application/octet-stream": BINARY,
            "multipart/form-data": MULTIPART,
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

router = APIRouter()


@router.post(
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


@router.post(
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
        check_analysis(opts)  # a bad method parameter: 422 before the upload is read
    data, name = await _read_image(request)
    label = source or name
    engine = engine_of(request)

    def work() -> tuple[str, float]:
        start = time.perf_counter()
        line = engine.image_record(opts, data, label, interact=interact)
        return line, (time.perf_counter() - start) * 1000.0

    line, ms = await engine.run(work)
    # the estimation's own time (decode → record): the rest of a round trip is HTTP
    return Response(
        line, media_type="application/json", headers={"Server-Timing": f"estimate;dur={ms:.2f}"}
    )


@router.post(
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
    width: Annotated[int | None, Query(ge=1, le=100_000, description="Image width, px.")] = None,
    height: Annotated[int | None, Query(ge=1, le=100_000, description="Image height, px.")] = None,
    source: Source = None,
    interact: Annotated[
        bool, Query(description="Add the interaction block (as /v1/interaction).")
    ] = False,
) -> Response:
    """The record `hhpnet predict --keypoints FILE --json` writes (same numbers)."""
    if (width is None) != (height is None):
        raise BadParameter("give both width and height, or neither")
    if interact:
        check_analysis(opts)
    data = await _read_json(request)
    size = (width, height) if width is not None and height is not None else None
    engine = engine_of(request)

    def work() -> str:
        from hhpnet.adapters import keypoints_from_json
        from hhpnet.records import record_line

        records = keypoints_from_json(data, layout, image_size=size, name="keypoints")
        if len(records) != 1:
            raise InputError(f"the body holds {len(records)} images' keypoints; send one")
        rec = records[0]
        est = engine.estimator(opts, with_detector=False)
        p = est.from_keypoints(rec, image_size=size or rec.image_size, source=source or rec.source)
        return record_line(p, opts.analysis()(p) if interact else None)

    return json_response(await engine.run(work))


async def _read_json(request: Request) -> object:
    """The JSON body of a request (415 for another Content-Type, 400 when not JSON)."""
    ctype = content_type(request)
    if ctype not in ("application/json", "text/json"):
        raise UnsupportedType(
            f"unsupported Content-Type {ctype or 'none'!r}: send application/json"
        )
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError("the body is not valid JSON") from None


async def _read_image(request: Request) -> tuple[bytes, str | None]:
    """The image bytes and the client's file name (multipart) of a request; the size
    from the header is checked here, before any pixel is decoded."""
    from hhpnet.io import MAX_PIXELS

    ctype = content_type(request)
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
