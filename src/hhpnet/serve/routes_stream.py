"""The webcam route of ``hhpnet serve``: the WebSocket ``/v1/stream`` (frames in, records
out; :mod:`hhpnet.serve.stream`), at most ``max_streams`` at once (the count is
``app.state.streams``, read by ``/v1/health``)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket

from hhpnet.serve.deps import DetectorName, MethodName, ModelName, engine_of, settings_of
from hhpnet.serve.engine import PoseOptions
from hhpnet.serve.stream import StreamSession, run_stream

__all__ = ["router"]

router = APIRouter()


@router.websocket("/v1/stream")
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
    state = ws.app.state
    if state.streams >= settings_of(ws).max_streams:
        await ws.send_text(json.dumps({"error": "too many webcam streams; try later"}))
        await ws.close(code=1013)
        return
    state.streams += 1
    try:
        engine = engine_of(ws)
        opts = PoseOptions(model, detector, tile, kpt_thr, method, precise=precise)
        session = await engine.run(lambda: StreamSession(engine, opts, interact), admit=False)
        await run_stream(ws, session)
    finally:
        state.streams -= 1
