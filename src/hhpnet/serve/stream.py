"""``WS /v1/stream``: webcam frames in, one JSON record per processed frame out.

The client sends each frame as one binary message (JPEG or PNG). The session runs the video
pipeline's per-frame step (:class:`hhpnet.video.VideoProcessor`: estimate → track → smooth →
interact), so records carry ``track_id`` and ``smooth`` exactly as ``hhpnet video`` writes
them, with ``frame`` = the frame's number in the stream and ``time_s`` = seconds since the
connection opened (arrival time).

Frames are dropped, never queued: the server holds at most one frame that waits behind the
one being processed, and a newer frame replaces it (counted in ``stream.dropped``). A client
that sends its next frame only when the previous answer came back (the page does) never has
a frame dropped and never sees latency grow. Each answer has a ``stream`` block: ``received``
(frames so far), ``dropped``, ``ms`` (server time for this frame, decode to record). A bad
frame gets ``{"error": "<one line>", "stream": {...}}`` and the stream goes on.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import WebSocket

from hhpnet.errors import InputError
from hhpnet.serve.engine import Engine, PoseOptions, image_size_from_header

__all__ = ["StreamSession", "run_stream"]


@dataclass
class StreamSession:
    """The per-connection state: a :class:`~hhpnet.video.VideoProcessor` of its own (tracks and
    smoothing belong to one camera) on the server's shared estimator."""

    engine: Engine
    options: PoseOptions
    interact: bool = True
    received: int = 0
    dropped: int = 0
    t0: float = field(default_factory=time.monotonic)
    proc: Any = None

    def __post_init__(self) -> None:
        from hhpnet.video import VideoProcessor

        est = self.engine.estimator(self.options)
        params = dict(self.options.params)
        self.proc = VideoProcessor(
            lambda rgb: est(rgb, rgb=True),
            interact=self.interact,
            interaction_method=self.options.method,
            interaction_params=params,
        )

    def process(self, data: object, index: int, t: float) -> dict[str, object]:
        """One message → its record (or ``{"error": ...}``); runs on the estimation pool."""
        from hhpnet.io import MAX_PIXELS, read_image
        from hhpnet.video.readers import Frame

        start = time.perf_counter()
        try:
            if not isinstance(data, (bytes, bytearray)):
                raise InputError("send each frame as one binary message (JPEG or PNG bytes)")
            image_size_from_header(bytes(data), MAX_PIXELS)
            rgb = read_image(bytes(data))
            result = self.proc.step(Frame(index, t, rgb))
            result.source = "stream"
            record: dict[str, Any] = result.record()
        except InputError as exc:
            record = {"error": f"frame {index}: {str(exc).splitlines()[0]}"}
        record["stream"] = {
            "received": self.received,
            "dropped": self.dropped,
            "ms": round((time.perf_counter() - start) * 1000.0, 2),
        }
        return record


async def run_stream(ws: WebSocket, session: StreamSession) -> None:
    """Receive frames and answer them until the client leaves (see the module docstring)."""
    slot: list[tuple[Any, int, float]] = []  # at most one waiting frame
    ready = asyncio.Event()
    done = False

    async def receive() -> None:
        nonlocal done
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                data = msg.get("bytes")
                if data is None:
                    data = msg.get("text")
                index = session.received
                session.received += 1
                if slot:
                    session.dropped += 1
                    slot.clear()
                slot.append((data, index, time.monotonic() - session.t0))
                ready.set()
        finally:
            done = True
            ready.set()

    async def answer() -> None:
        while True:
            await ready.wait()
            ready.clear()
            if done:
                return
            if not slot:
                continue
            data, index, t = slot.pop()
            work = functools.partial(session.process, data, index, t)
            record = await session.engine.run(work, admit=False)
            await ws.send_text(json.dumps(record, allow_nan=False))

    receiver = asyncio.create_task(receive())
    sender = asyncio.create_task(answer())
    try:
        await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (receiver, sender):
            task.cancel()
        await asyncio.gather(receiver, sender, return_exceptions=True)
