"""What the routers of :mod:`hhpnet.serve.app` share: the query parameters of a pose request
(:func:`pose_options`, ``Opts``), the run's engine, jobs and settings (kept on ``app.state`` by
:func:`~hhpnet.serve.app.create_app`), a request's Content-Type and a JSON answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, Query, Request, WebSocket
from fastapi.responses import Response

from hhpnet.errors import InputError
from hhpnet.serve.engine import Engine, PoseOptions
from hhpnet.serve.errors import BadParameter
from hhpnet.serve.settings import DETECTOR_NAMES, METHOD_NAMES, ServeSettings

if TYPE_CHECKING:
    from hhpnet.serve.jobs import Jobs

__all__ = [
    "BINARY",
    "MULTIPART",
    "DetectorName",
    "LayoutName",
    "MethodName",
    "ModelName",
    "Opts",
    "Source",
    "check_analysis",
    "content_type",
    "engine_of",
    "jobs_of",
    "json_response",
    "pose_options",
    "settings_of",
]

ModelName = Literal["hhpnet-1.0", "hhpnet-0.6", "hhpnet-0.2"]
if TYPE_CHECKING:
    DetectorName = str
    MethodName = str
else:  # the registered names, as FastAPI's choices (validation and the OpenAPI enum)
    DetectorName = Literal[DETECTOR_NAMES]
    MethodName = Literal[METHOD_NAMES]
LayoutName = Literal["coco17", "openpose25", "openpose18", "blazepose33", "blazeface6", "hhpnet5"]

#: OpenAPI: a binary body, and a multipart body with the field 'file'
BINARY = {"schema": {"type": "string", "format": "binary"}}
MULTIPART = {
    "schema": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
}


def json_response(text: str, status: int = 200) -> Response:
    """``text`` (JSON already) as the answer."""
    return Response(text, status_code=status, media_type="application/json")


def content_type(request: Request) -> str:
    """The request's media type, lower case, without parameters ('' when none)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def engine_of(request: Request | WebSocket) -> Engine:
    """The run's :class:`~hhpnet.serve.engine.Engine`."""
    engine: Engine = request.app.state.engine
    return engine


def jobs_of(request: Request | WebSocket) -> Jobs:
    """The run's video :class:`~hhpnet.serve.jobs.Jobs` (made when the app starts)."""
    jobs: Jobs = request.app.state.jobs
    return jobs


def settings_of(request: Request | WebSocket) -> ServeSettings:
    """The run's :class:`~hhpnet.serve.settings.ServeSettings`."""
    settings: ServeSettings = request.app.state.settings
    return settings


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


def check_analysis(opts: PoseOptions) -> None:
    """A bad interaction method parameter: 422 (before an upload is read)."""
    try:
        opts.check_analysis()
    except InputError as exc:
        raise BadParameter(str(exc)) from None
