"""Shapes of the API's answers, for the OpenAPI schema (``/openapi.json``) and the docs page.

The endpoints answer with the very JSON that :mod:`hhpnet.records` and the job/stream code
build (the CLI's records, byte for byte); these models describe it, they are not used to
re-validate it on the way out (tests check the answers against this schema).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: one line, no traceback, no server path."""

    error: str = Field(
        examples=["image bytes: unreadable or truncated image (image file is truncated)"]
    )


class Sigma(BaseModel):
    yaw: float | None
    pitch: float | None
    roll: float | None


class Person(BaseModel):
    """One head: box (x1, y1, x2, y2 px), detection score, the detector that found it, five
    keypoints (x, y px, confidence; nose, left eye, right eye, left ear, right ear), yaw /
    pitch / roll and their σ in degrees (null when invalid), valid."""

    box: list[float | None]
    score: float | None
    detector: str | None
    keypoints: list[list[float | None]]
    yaw: float | None
    pitch: float | None
    roll: float | None
    sigma: Sigma
    valid: bool


class PosesRecord(BaseModel):
    """The record ``hhpnet predict --json`` writes for one image (README "Output")."""

    source: str | None
    width: int | None
    height: int | None
    people: list[Person]


class Pair(BaseModel):
    i: int
    j: int
    score: float | None
    attention_ij: float | None
    attention_ji: float | None
    mutual: bool


class Interaction(BaseModel):
    """Who looks at whom (docs/interaction.md): n×n ``matrix`` (pair score), ``attention``
    (i looks at j), ``converge``, pairs, mutual pairs, each person's target (or null),
    groups, engagement per person, the scene score, excluded people."""

    method: str
    params: dict[str, Any]
    n: int
    matrix: list[list[float | None]]
    attention: list[list[float | None]]
    converge: list[list[float | None]]
    pairs: list[Pair]
    mutual: list[list[int]]
    targets: list[int | None]
    groups: list[list[int]]
    engagement: list[float | None]
    scene_score: float | None
    excluded: list[int]
    excluded_reasons: dict[str, str]
    depth_mm: list[float | None] | None


class InteractionRecord(PosesRecord):
    """The record ``hhpnet interact --json`` writes for one image."""

    interaction: Interaction


class Job(BaseModel):
    """A video job. ``state``: queued, running, done, failed or cancelled; ``progress`` in
    [0, 1] (null while the frame count is unknown); ``files``: output name → URL (when done);
    ``previews``: frame indices with a preview picture ``frame-<index>.jpg``."""

    id: str
    name: str
    state: str
    progress: float | None
    frames: int
    total_frames: int | None
    error: str | None
    warnings: list[str]
    created: float
    started: float | None
    finished: float | None
    files: dict[str, str]
    previews: list[int]
    summary: dict[str, Any] | None


class JobList(BaseModel):
    jobs: list[Job]


class Deleted(BaseModel):
    id: str
    deleted: bool


class Health(BaseModel):
    status: str
    busy: int = Field(description="images in the estimation pool or waiting for it")
    capacity: int = Field(description="busy above this → 503")
    jobs: int = Field(description="video jobs queued or running")
    streams: int = Field(description="open webcam streams")


class Version(BaseModel):
    hhpnet: str
    model: str
    detector: str
    models: list[str]
    detectors: list[str]
    methods: list[str]
    layouts: list[str]
    limits: dict[str, float]
    auth: bool
