"""Schema-driven fuzz of the HTTP API: hypothesis builds requests from ``/openapi.json`` (every
operation, its query and path parameters — valid values from the schema mixed with garbage —
and bodies of every declared and some undeclared content types) and sends them in-process.
No answer may be a server error (5xx), every error must have the ``{"error": ...}`` shape.

The default suite sends ~100 requests; the slow one (``make test-all``) ≥ 600."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serve.media import PAIR, png_header_only, require_serve

require_serve()

GOOD = PAIR.read_bytes()
BODIES = st.one_of(
    st.just(GOOD),
    st.integers(0, len(GOOD)).map(lambda n: GOOD[:n]),
    st.binary(max_size=2048),
    st.just(png_header_only(40000, 40000)),
    st.recursive(
        st.none()
        | st.booleans()
        | st.floats(allow_nan=False)
        | st.integers()
        | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=30,
    ).map(lambda v: json.dumps(v).encode()),
)
OTHER_TYPES = ["text/plain", "", "image/svg+xml", "application/json", "video/mp4", "image/gif"]
JOB_FILES = ["poses.csv", "poses.jsonl", "timeline.png", "frame-0.jpg", "annotated.mp4", "x"]


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[Any]:
    from tests.serve.conftest import client_for

    # job slots and disk far above what the fuzz can use: every answer is about the request
    with client_for(detector="blazeface", max_jobs=10_000, queue=10_000) as c:
        yield c


def _value(schema: dict[str, Any], valid: bool) -> st.SearchStrategy[Any]:
    """Values for one query parameter: within the schema (``valid``), or anything."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    strategies: list[st.SearchStrategy[Any]] = [] if valid else [st.text(max_size=12)]
    for s in options:
        kind = s.get("type")
        lo, hi = s.get("minimum"), s.get("maximum")
        if "enum" in s:
            strategies.append(st.sampled_from(s["enum"]))
        elif kind == "integer":
            strategies.append(st.integers(lo, hi) if valid else st.integers(-5, 10**7))
        elif kind == "number":
            strategies.append(
                st.floats(lo, hi) if valid else st.floats(allow_nan=True, allow_infinity=True)
            )
        elif kind == "boolean":
            strategies.append(st.booleans().map(lambda b: str(b).lower()))
        elif kind == "array":
            item = st.sampled_from(["threshold=0.4", "tolerance_deg=12", "depth=none", "x=1"])
            strategies.append(st.lists(item if valid else _value({}, False), max_size=3))
        elif kind == "string" or valid:
            strategies.append(st.text(max_size=12))
    return st.one_of(strategies)


def _requests(spec: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    ops = [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]

    @st.composite
    def one(draw: st.DrawFn) -> dict[str, Any]:
        method, path, op = draw(st.sampled_from(ops))
        params: dict[str, Any] = {}
        valid = draw(st.booleans())  # all parameters within the schema, or anything goes
        for p in op.get("parameters", []):
            if p["in"] == "path":
                if p["name"] == "job_id":
                    raw = draw(
                        st.one_of(
                            st.text(max_size=40), st.binary(min_size=16, max_size=16).map(bytes.hex)
                        )
                    )
                else:
                    raw = draw(st.one_of(st.sampled_from(JOB_FILES), st.text(max_size=20)))
                path = path.replace("{" + p["name"] + "}", quote(raw, safe="") or "x")
            elif draw(st.integers(0, 2)) == 0:
                params[p["name"]] = draw(_value(p.get("schema", {}), valid))
        headers: dict[str, str] = {}
        content = None
        files = None
        if "requestBody" in op:
            declared = list(op["requestBody"]["content"])
            ctype = draw(st.sampled_from(declared + OTHER_TYPES))
            body = draw(BODIES)
            if ctype == "multipart/form-data" and draw(st.booleans()):
                files = {draw(st.sampled_from(["file", "other"])): ("x.bin", body, "image/jpeg")}
            else:
                content = body
                if ctype:
                    headers["content-type"] = ctype
        return {
            "method": method,
            "url": path,
            "params": params,
            "headers": headers,
            "content": content,
            "files": files,
        }

    return one()


def _fuzz(client: Any, examples: int) -> Counter[int]:
    spec = client.get("/openapi.json").json()
    sent: list[int] = []

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(_requests(spec))
    def check(req: dict[str, Any]) -> None:
        r = client.request(
            req["method"],
            req["url"],
            params=req["params"],
            headers=req["headers"],
            content=req["content"],
            files=req["files"],
        )
        sent.append(r.status_code)
        assert r.status_code < 500, (req["method"], req["url"], req["params"], r.text)
        if r.status_code >= 400:
            assert list(r.json()) == ["error"] and "\n" not in r.json()["error"]

    check()
    return Counter(sent)


def test_schema_fuzz_gives_no_server_error(fuzz_client: Any) -> None:
    statuses = _fuzz(fuzz_client, 100)
    assert statuses.total() >= 100
    assert {200, 400, 404, 415, 422} <= set(statuses)  # the requests reach every outcome


@pytest.mark.slow
def test_schema_fuzz_600_requests(fuzz_client: Any) -> None:
    statuses = _fuzz(fuzz_client, 600)
    assert statuses.total() >= 600 and max(statuses) < 500
