"""``hhpnet video``: outputs, exit codes, errors, resume — with the fake detector/model."""

from __future__ import annotations

import pytest

from hhpnet.video import outputs
from hhpnet.video.sinks import read_csv_rows
from hhpnet.video.writers import FrameOutput, RunInfo, Writer
from tests.helpers.cli import run_cli
from tests.helpers.video_fakes import walking_scene, write_video

pytestmark = pytest.mark.usefixtures("fakes")  # tests/conftest.py


def run(args: list[str], monkeypatch) -> int:
    return run_cli(["video", *args], monkeypatch)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    return write_video(str(tmp_path_factory.mktemp("c") / "walk.mp4"), walking_scene(20))


def test_video_command_writes_everything(clip, tmp_path, monkeypatch, capsys):
    code = run(
        [
            clip,
            "--no-progress",
            "--csv",
            str(tmp_path / "p.csv"),
            "--json",
            str(tmp_path / "p.jsonl"),
            "--save-video",
            str(tmp_path / "a.mp4"),
            "--timeline-csv",
            str(tmp_path / "t.csv"),
            "--timeline-png",
            str(tmp_path / "t.png"),
            "--stride",
            "2",
        ],
        monkeypatch,
    )
    assert code == 0
    rows = read_csv_rows(tmp_path / "p.csv")
    assert sorted(set(rows["frame"].tolist())) == list(range(0, 20, 2))
    for name in ("p.jsonl", "a.mp4", "t.csv", "t_people.csv", "t.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "10 frames, 2 tracks" in capsys.readouterr().err


def test_several_sources_get_their_own_files(clip, tmp_path, monkeypatch):
    other = write_video(str(tmp_path / "other.mp4"), walking_scene(5))
    code = run(
        [clip, other, "--no-progress", "--no-interact", "--csv", str(tmp_path / "p.csv")],
        monkeypatch,
    )
    assert code == 0
    assert read_csv_rows(tmp_path / "p.walk.csv")["frame"].max() == 19
    assert read_csv_rows(tmp_path / "p.other.csv")["frame"].max() == 4


def test_errors_and_exit_codes(clip, tmp_path, monkeypatch, capsys):
    assert run([str(tmp_path / "nope.mp4")], monkeypatch) == 1  # an input failed
    assert "no such file" in capsys.readouterr().err
    assert run([clip, "--resume", "--no-progress"], monkeypatch) == 2
    assert "--csv" in capsys.readouterr().err
    avi = write_video(str(tmp_path / "m.avi"), walking_scene(30), fourcc="MJPG")
    data = open(avi, "rb").read()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 2])
    code = run(
        [
            str(tmp_path / "cut.avi"),
            "--no-progress",
            "--no-interact",
            "--csv",
            str(tmp_path / "c.csv"),
        ],
        monkeypatch,
    )
    err = capsys.readouterr().err
    assert code == 1 and "truncated or corrupt" in err
    assert len(read_csv_rows(tmp_path / "c.csv")["frame"]) > 0


def test_resume_from_cli(clip, tmp_path, monkeypatch):
    csv = str(tmp_path / "p.csv")
    assert run([clip, "--no-progress", "--csv", csv, "--max-frames", "8"], monkeypatch) == 0
    assert run([clip, "--no-progress", "--csv", csv, "--resume"], monkeypatch) == 0
    frames = read_csv_rows(csv)["frame"].tolist()
    assert frames == sorted(frames) and len(frames) == 40


def test_image_sequence_with_unreadable_images_fails(tmp_path, monkeypatch, capsys):
    import cv2

    folder = tmp_path / "seq"
    folder.mkdir()
    for k, frame in enumerate(walking_scene(4)):
        cv2.imwrite(str(folder / f"f{k}.png"), frame)
    (folder / "f2.png").write_bytes(b"not a png")  # one broken image in the middle
    csv = tmp_path / "s.csv"
    code = run([str(folder), "--no-progress", "--no-interact", "--csv", str(csv)], monkeypatch)
    err = capsys.readouterr().err
    assert code == 1 and "1 of 4 image(s) unreadable" in err
    assert "Traceback" not in err
    assert sorted(set(read_csv_rows(csv)["frame"].tolist())) == [0, 1, 3]  # the rest is kept


class FrameCountOutput(Writer):
    """A toy output format (one module + one registration line, docs/video.md): the index and
    the number of tracks of every frame, one line each."""

    def __init__(self, path: str, run: RunInfo) -> None:
        super().__init__(path, run)
        self.fh = open(path, "w")
        self.outputs["frame_counts"] = path

    def write(self, frame: FrameOutput) -> None:
        self.fh.write(f"{frame.result.index} {len(frame.result.track_ids)}\n")

    def close(self) -> None:
        self.fh.close()


@pytest.fixture
def frame_counts(monkeypatch) -> outputs.OutputFormat:
    monkeypatch.setattr(outputs, "_REGISTRY", dict(outputs._REGISTRY))  # undone after the test
    return outputs.register(
        outputs.OutputFormat(
            "frame_counts",
            "--frame-counts",
            f"{__name__}:FrameCountOutput",
            (("frame_counts", "frame_counts.txt"),),
            (".txt",),
            "the frame counts",
            help="Frame index and track count per line.",
        )
    )


def test_a_registered_output_format_is_written_through_output(
    frame_counts, clip, tmp_path, monkeypatch, capsys
):
    target, csv = tmp_path / "n.txt", tmp_path / "p.csv"
    args = [clip, "--no-progress", "--csv", str(csv), "--output", f"frame_counts={target}"]
    assert run([*args, "--stride", "4"], monkeypatch) == 0
    lines = target.read_text().splitlines()
    assert [int(line.split()[0]) for line in lines] == [0, 4, 8, 12, 16]
    rows = read_csv_rows(csv)
    assert [int(line.split()[1]) for line in lines] == [
        len(rows["frame"][rows["frame"] == k]) for k in (0, 4, 8, 12, 16)
    ]
    assert str(target) in capsys.readouterr().err  # the summary line names it
    assert run(["--help"], monkeypatch) == 0
    assert "frame_counts" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("frame_counts", "--output: expected NAME=FILE"),
        ("nope=x.txt", "unknown output format 'nope'"),
        ("frame_counts=x.csv", "the frame counts needs a name ending .txt"),
    ],
)
def test_bad_output_items_are_usage_errors(
    frame_counts, clip, tmp_path, monkeypatch, capsys, item, message
):
    assert run([clip, "--no-progress", "--output", item], monkeypatch) == 2
    assert message in capsys.readouterr().err
