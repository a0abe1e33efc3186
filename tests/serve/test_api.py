"""``hhpnet serve`` API in-process (FastAPI's TestClient): the same records as the command line,
every error code, the token, CORS and the Host check, the webcam WebSocket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hhpnet.commands.demo import EXAMPLES_DIR
from tests.helpers.cli import run_cli
from tests.serve.media import PAIR, pair_frames, png_header_only, require_serve

require_serve()

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.jpg"))
JPEG = {"content-type": "image/jpeg"}
WS = "ws://127.0.0.1"  # the Host a loopback server accepts


def cli_records(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]) -> list[str]:
    """JSON lines ``hhpnet ARGS --json FILE`` writes (exit code 0 asserted)."""
    out = tmp_path / "out.jsonl"
    assert run_cli([*args, "--json", str(out)], monkeypatch) == 0
    return out.read_text().splitlines()


def test_poses_and_interaction_are_the_cli_records_on_every_example(
    client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = [str(p) for p in EXAMPLES]
    predict = cli_records(monkeypatch, tmp_path, ["predict", *paths])
    interact = cli_records(monkeypatch, tmp_path, ["interact", *paths, "--no-heatmap"])
    assert len(predict) == len(interact) == len(EXAMPLES) == 4
    people = 0
    for path, p_line, i_line in zip(paths, predict, interact, strict=True):
        body = Path(path).read_bytes()
        r = client.post("/v1/poses", params={"source": path}, content=body, headers=JPEG)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.text == p_line  # the very same line, numbers and all
        assert float(r.headers["server-timing"].removeprefix("estimate;dur=")) > 0
        r = client.post("/v1/interaction", params={"source": path}, content=body, headers=JPEG)
        assert r.status_code == 200
        assert r.text == i_line
        people += len(json.loads(p_line)["people"])
    assert people >= 4  # the examples do have people in them


def test_multipart_upload_names_the_source_and_gives_the_same_numbers(client: Any) -> None:
    body = PAIR.read_bytes()
    raw = client.post("/v1/poses", content=body, headers=JPEG).json()
    multi = client.post("/v1/poses", files={"file": ("dir/pair.jpg", body, "image/jpeg")}).json()
    assert raw["source"] is None and multi["source"] == "pair.jpg"  # base name only
    raw.pop("source"), multi.pop("source")
    assert raw == multi and len(raw["people"]) == 2


def test_keypoints_endpoint_is_the_cli_keypoints_record(
    client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    people = [
        [[320, 200, 0.9], [335, 188, 0.9], [305, 188, 0.9], [350, 196, 0.8], [290, 196, 0.8]],
        [[120, 220, 0.9], [128, 210, 0.9], [110, 211, 0.7], [0, 0, 0], [96, 218, 0.9]],
    ]
    coco = [[*p, *([[0, 0, 0]] * 12)] for p in people]
    kp_file = tmp_path / "kp.json"
    kp_file.write_text(json.dumps(coco))
    [line] = cli_records(monkeypatch, tmp_path, ["predict", "--keypoints", str(kp_file)])
    r = client.post("/v1/poses/keypoints", params={"source": "kp"}, json=coco)
    assert r.status_code == 200 and r.text == line
    both = client.post("/v1/poses/keypoints?interact=true&width=640&height=480", json=coco)
    assert both.json()["interaction"]["n"] == 2 and both.json()["width"] == 640
    annotations = {
        "images": [{"id": 7, "file_name": "seven.jpg", "width": 800, "height": 600}],
        "annotations": [{"image_id": 7, "keypoints": [v for k in c for v in k]} for c in coco],
    }
    r = client.post("/v1/poses/keypoints", json=annotations)
    got, cli = r.json(), json.loads(line)
    assert (got["source"], got["width"]) == ("seven.jpg", 800)
    assert [p["yaw"] for p in got["people"]] == [p["yaw"] for p in cli["people"]]


def test_request_options_reach_the_estimator(client: Any) -> None:
    body = PAIR.read_bytes()
    base = client.post("/v1/poses?detector=blazeface", content=body, headers=JPEG).json()
    assert {p["detector"] for p in base["people"]} == {"blazeface+facemesh"}
    small = client.post(
        "/v1/poses?detector=blazeface&model=hhpnet-0.2", content=body, headers=JPEG
    ).json()
    assert [p["keypoints"] for p in small["people"]] == [p["keypoints"] for p in base["people"]]
    assert [p["yaw"] for p in small["people"]] != [p["yaw"] for p in base["people"]]
    strict = client.post("/v1/poses?detector=blazeface&kpt_thr=0.99", content=body, headers=JPEG)
    assert all(k[2] == 0 for p in strict.json()["people"] for k in p["keypoints"])
    paper = client.post(
        "/v1/interaction?method=paper&param=sigma_max_deg=12", content=body, headers=JPEG
    ).json()
    assert paper["interaction"]["method"] == "paper"
    assert paper["interaction"]["params"]["sigma_max_deg"] == 12.0


def test_precise_is_the_cli_precise_record(
    client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``precise=true`` answers what ``hhpnet predict --precise`` writes, not the default."""
    body, source = PAIR.read_bytes(), {"source": str(PAIR)}
    line = cli_records(monkeypatch, tmp_path, ["predict", str(PAIR), "--precise"])[0]
    r = client.post("/v1/poses", params={**source, "precise": "true"}, content=body, headers=JPEG)
    assert r.status_code == 200 and r.text == line
    default = client.post("/v1/poses", params=source, content=body, headers=JPEG).text
    assert default != line
    bad = client.post("/v1/poses?precise=maybe", content=body, headers=JPEG)
    assert bad.status_code == 422 and "precise" in bad.json()["error"]


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "words"),
    [
        ("/v1/poses", JPEG, b"", 400, "empty"),
        ("/v1/poses", JPEG, PAIR.read_bytes()[:5000], 400, "truncated"),
        ("/v1/poses", JPEG, b"plain text, not a picture", 400, "not a readable image"),
        ("/v1/poses", {"content-type": "image/png"}, png_header_only(40000, 40000), 413, "1600"),
        (
            "/v1/poses",
            {"content-type": "image/png"},
            png_header_only(12000, 9000),
            413,
            "12000×9000",
        ),
        ("/v1/poses", {"content-type": "text/plain"}, b"x", 415, "Content-Type"),
        ("/v1/poses", {}, PAIR.read_bytes(), 415, "Content-Type"),
        ("/v1/poses?kpt_thr=2", JPEG, PAIR.read_bytes(), 422, "kpt_thr"),
        ("/v1/poses?model=../../etc/passwd", JPEG, PAIR.read_bytes(), 422, "model"),
        ("/v1/interaction?param=tolerance_deg", JPEG, PAIR.read_bytes(), 422, "KEY=VALUE"),
        ("/v1/interaction?param=bogus=1", JPEG, PAIR.read_bytes(), 422, "bogus"),
        ("/v1/poses/keypoints", {"content-type": "application/json"}, b"{", 400, "JSON"),
        ("/v1/poses/keypoints?width=5", {"content-type": "application/json"}, b"[]", 422, "height"),
        ("/v1/videos", {"content-type": "video/mp4"}, b"no video here" * 50, 400, "video"),
        ("/v1/videos", {"content-type": "image/jpeg"}, b"x", 415, "Content-Type"),
        ("/v1/videos?end=-1", {"content-type": "video/mp4"}, b"x", 422, "end"),
    ],
)
def test_errors_are_one_line_with_the_right_status(
    client: Any, path: str, headers: dict[str, str], body: bytes, status: int, words: str
) -> None:
    r = client.post(path, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert list(r.json()) == ["error"]
    msg = r.json()["error"]
    assert words.lower() in msg.lower() and "\n" not in msg
    assert "Traceback" not in msg and "/tmp" not in msg and "site-packages" not in msg


def test_unknown_routes_and_methods_answer_in_the_error_shape(client: Any) -> None:
    for r, status in (
        (client.get("/v1/nothing"), 404),
        (client.get("/v1/poses"), 405),
        (client.get("/v1/videos/0123456789abcdef0123456789abcdef"), 404),
        (client.get("/v1/videos/..%2F..%2Fetc%2Fpasswd"), 404),
        (client.delete("/v1/videos/not-a-job"), 404),
    ):
        assert r.status_code == status and "error" in r.json()


def test_busy_pool_answers_503_with_retry_after(client: Any) -> None:
    engine = client.app.state.engine
    engine.inflight = engine.limit  # as if the pool and its queue were full
    try:
        r = client.post("/v1/poses", content=PAIR.read_bytes(), headers=JPEG)
    finally:
        engine.inflight = 0
    assert r.status_code == 503 and r.headers["retry-after"] == "1" and "busy" in r.json()["error"]
    assert client.post("/v1/poses", content=PAIR.read_bytes(), headers=JPEG).status_code == 200


def test_upload_limit_applies_with_and_without_content_length(make_client: Any) -> None:
    big = PAIR.read_bytes()  # ~60 KB > 0.02 MB
    with make_client(max_upload_mb=0.02, detector="blazeface") as c:
        assert c.post("/v1/poses", content=big, headers=JPEG).status_code == 413

        def chunks() -> Any:  # no Content-Length: counted while read
            for k in range(0, len(big), 8192):
                yield big[k : k + 8192]

        r = c.post("/v1/poses", content=chunks(), headers=JPEG)
        assert r.status_code == 413 and "limit" in r.json()["error"]
        assert c.get("/v1/health").json()["status"] == "ok"


def test_token_guards_every_api_route_but_not_the_page(make_client: Any) -> None:
    with make_client(token="s3cret", detector="blazeface") as c:
        for path in ("/", "/docs", "/static/app.js"):
            assert c.get(path).status_code == 200
        r = c.get("/v1/health")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert c.get("/openapi.json").status_code == 401
        assert c.get("/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = {"Authorization": "Bearer s3cret"}
        assert c.get("/v1/health", headers=ok).status_code == 200
        r = c.post("/v1/poses", content=PAIR.read_bytes(), headers={**JPEG, **ok})
        assert r.status_code == 200 and len(r.json()["people"]) == 2
        assert c.get("/v1/version", headers=ok).json()["auth"] is True


def test_token_guards_the_websocket(make_client: Any) -> None:
    from starlette.websockets import WebSocketDisconnect

    from hhpnet.serve.guard import bearer_protocol

    with make_client(token="s3cret", detector="blazeface") as c:
        with pytest.raises(WebSocketDisconnect), c.websocket_connect("/v1/stream") as ws:
            ws.receive_text()
        with c.websocket_connect(
            "/v1/stream", subprotocols=["hhpnet", bearer_protocol("s3cret")]
        ) as ws:
            assert ws.accepted_subprotocol == "hhpnet"
            ws.send_bytes(PAIR.read_bytes())
            assert len(json.loads(ws.receive_text())["people"]) == 2
        with c.websocket_connect("/v1/stream", headers={"Authorization": "Bearer s3cret"}) as ws:
            ws.send_bytes(PAIR.read_bytes())
            assert "people" in json.loads(ws.receive_text())


def test_loopback_server_refuses_foreign_host_headers(client: Any) -> None:
    r = client.get("/v1/health", headers={"Host": "attacker.example"})
    assert r.status_code == 400 and "Host" in r.json()["error"]
    assert client.get("/v1/health", headers={"Host": "localhost:8000"}).status_code == 200


def test_cors_is_off_unless_an_origin_is_given(client: Any, make_client: Any) -> None:
    origin = {"Origin": "http://lab.example:3000"}
    assert "access-control-allow-origin" not in client.get("/v1/health", headers=origin).headers
    with make_client(cors=["http://lab.example:3000"]) as c:
        r = c.get("/v1/health", headers=origin)
        assert r.headers["access-control-allow-origin"] == "http://lab.example:3000"
        other = c.get("/v1/health", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_settings_refuse_an_open_host_without_a_token() -> None:
    from hhpnet.errors import InputError
    from hhpnet.serve import ServeSettings

    with pytest.raises(InputError, match="--token"):
        ServeSettings(host="0.0.0.0").check()
    ServeSettings(host="0.0.0.0", token="t").check()
    ServeSettings(host="::1").check()
    with pytest.raises(InputError, match="--cors"):
        ServeSettings(cors=["lab.example"]).check()


def test_stream_tracks_and_smooths_like_the_video_pipeline(client: Any) -> None:
    from tests.serve.media import jpeg

    records = []
    with client.websocket_connect(f"{WS}/v1/stream?detector=blazeface") as ws:
        for frame in pair_frames(4):
            ws.send_bytes(jpeg(frame))
            records.append(json.loads(ws.receive_text()))
        ws.send_bytes(b"\xff\xd8 broken")
        bad = json.loads(ws.receive_text())
        ws.send_bytes(jpeg(pair_frames(1)[0]))
        after = json.loads(ws.receive_text())
    assert [r["frame"] for r in records] == [0, 1, 2, 3]
    ids = [sorted(p["track_id"] for p in r["people"]) for r in records]
    assert ids[0] == ids[-1] and len(ids[0]) == 2  # the same two tracks throughout
    assert all(p["smooth"]["yaw"] is not None for p in records[-1]["people"])
    assert records[-1]["interaction"]["n"] == 2 and records[-1]["stream"]["dropped"] == 0
    assert bad["error"].startswith("frame 4:") and "people" not in bad
    assert after["frame"] == 5 and len(after["people"]) == 2


def test_stream_drops_frames_instead_of_queueing_them(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from hhpnet.serve.stream import StreamSession

    real = StreamSession.process

    def slow(self: StreamSession, data: Any, index: int, t: float) -> dict[str, Any]:
        time.sleep(0.3)
        return real(self, data, index, t)

    monkeypatch.setattr(StreamSession, "process", slow)
    from tests.serve.media import jpeg

    frame = jpeg(pair_frames(1)[0])
    with client.websocket_connect(f"{WS}/v1/stream?detector=blazeface&interact=false") as ws:
        ws.send_bytes(frame)
        time.sleep(0.1)  # the first frame is being processed (0.3 s) …
        for _ in range(5):  # … while these five arrive
            ws.send_bytes(frame)
        first = json.loads(ws.receive_text())
        second = json.loads(ws.receive_text())
    assert first["frame"] == 0
    assert second["frame"] == 5  # the newest frame; 1..4 were dropped, not queued
    assert second["stream"]["dropped"] == 4


def test_answers_match_the_published_schema(client: Any) -> None:
    from hhpnet.serve import schema

    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/poses", "/v1/interaction", "/v1/poses/keypoints", "/v1/videos"):
        assert "requestBody" in paths[path]["post"]
    assert {"/v1/health", "/v1/version", "/v1/videos/{job_id}/{file}"} <= set(paths)
    body = PAIR.read_bytes()
    schema.PosesRecord.model_validate(client.post("/v1/poses", content=body, headers=JPEG).json())
    inter = client.post("/v1/interaction", content=body, headers=JPEG).json()
    schema.InteractionRecord.model_validate(inter)
    schema.Health.model_validate(client.get("/v1/health").json())
    schema.Version.model_validate(client.get("/v1/version").json())


def test_page_and_docs_load_nothing_from_other_hosts(client: Any) -> None:
    from hhpnet.serve.app import STATIC_DIR

    page = client.get("/")
    assert page.status_code == 200 and "charset=utf-8" in page.headers["content-type"]
    assert client.get("/docs").status_code == 200
    for f in STATIC_DIR.iterdir():
        text = f.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, f.name
        assert client.get(f"/static/{f.name}").status_code == 200


def test_predictions_never_import_the_web_stack(tmp_path: Path) -> None:
    import subprocess
    import sys

    out_file = str(tmp_path / "o.jsonl")
    code = (
        "import sys\n"
        "from hhpnet.cli import app\n"  # registers every command, serve included
        "from hhpnet.commands.predict import run_predict\n"
        f"run_predict([{str(PAIR)!r}], detector='blazeface', json_path={out_file!r})\n"
        "web = ('fastapi', 'uvicorn', 'starlette', 'hhpnet.serve.app')\n"
        "print([m for m in web if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert len(json.loads((tmp_path / "o.jsonl").read_text())["people"]) == 2
