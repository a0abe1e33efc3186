"""CLI edges of issue 13 (items 2, 7–10): output naming, exit codes, one-line errors, help.

Commands run through ``hhpnet.cli.main`` (the console script: one-line errors, exit codes).
Videos use the blob detector + geometric model (fast); the checks of model and detector names
use the real estimator with a small random-weight model file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

import hhpnet.pipeline
from hhpnet.cli import COMMAND_MODULES
from hhpnet.video.sinks import read_csv_rows
from tests.helpers.cli import run_cli
from tests.helpers.fakes import GeometricModel, random_model_file
from tests.helpers.video_fakes import BlobDetector, walking_scene, write_video

run = run_cli


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    return write_video(str(tmp_path_factory.mktemp("e") / "clip.mp4"), walking_scene(6))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> str:
    return random_model_file(tmp_path_factory.mktemp("m") / "tiny.safetensors")


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("i") / "still.png"
    cv2.imwrite(str(path), walking_scene(1)[0])
    return str(path)


# ----------------------------------------------------------------- item 2: output naming
@pytest.mark.parametrize("command", ["predict", "interact"])
def test_one_video_source_writes_its_rows_into_the_named_files(
    command, clip, tmp_path, monkeypatch, capsys, fakes
):
    csv, js = tmp_path / "out.csv", tmp_path / "out.jsonl"
    code = run([command, clip, "--csv", str(csv), "--json", str(js), "--no-progress"], monkeypatch)
    err = capsys.readouterr().err
    assert code == 0, err
    assert sorted(set(read_csv_rows(csv)["frame"].tolist())) == list(range(6))
    assert len(js.read_text().splitlines()) == 6
    assert not list(tmp_path.glob("out.clip*"))  # no per-source names for a single source
    assert str(csv) in err
    if command == "interact":
        assert (tmp_path / "out.timeline.csv").is_file()


@pytest.mark.parametrize("command", ["predict", "interact", "video"])
def test_video_without_output_option_prints_json_lines(command, clip, monkeypatch, capsys, fakes):
    assert run([command, clip, "--no-progress"], monkeypatch) == 0
    out = capsys.readouterr().out.splitlines()
    recs = [json.loads(line) for line in out]
    assert [r["frame"] for r in recs] == list(range(6))
    assert all(r["source"] == clip and len(r["people"]) == 2 for r in recs)


def test_several_sources_get_unique_per_source_names(
    clip, image, tmp_path, monkeypatch, capsys, fakes
):
    other = tmp_path / "b"
    other.mkdir()
    clip2 = write_video(str(other / "clip.mp4"), walking_scene(3))  # same stem
    csv = tmp_path / "out.csv"
    code = run(["predict", image, clip, clip2, "--csv", str(csv), "--no-progress"], monkeypatch)
    assert code == 0, capsys.readouterr().err
    assert read_csv_rows(tmp_path / "out.clip.csv")["frame"].max() == 5
    assert read_csv_rows(tmp_path / "out.clip_1.csv")["frame"].max() == 2
    rows = csv.read_text().splitlines()  # the image's rows keep the given name
    assert rows[0].startswith("source,") and len(rows) == 3
    code = run(
        ["video", clip, clip2, "--csv", str(tmp_path / "v.csv"), "--no-interact"], monkeypatch
    )
    assert code == 0
    assert (tmp_path / "v.clip.csv").is_file() and (tmp_path / "v.clip_1.csv").is_file()


def test_video_names_image_sequences_by_their_folder_not_a_python_list(
    tmp_path, monkeypatch, capsys, fakes
):
    seq = tmp_path / "seq"
    seq.mkdir()
    for k, f in enumerate(walking_scene(3)):
        cv2.imwrite(str(seq / f"{k}.png"), f)
    code = run(["video", str(seq), "'*'", "--no-progress", "--no-interact"], monkeypatch)
    err = capsys.readouterr().err
    assert code == 1  # the second SOURCE matches nothing: one line, the folder still done
    assert f"{seq}: 3 frames" in err and "[" not in err.split("→")[0]
    code = run(
        ["video", str(seq), str(seq / "*.png"), "--csv", str(tmp_path / "s.csv"), "--no-interact"],
        monkeypatch,
    )
    assert code == 0
    assert (tmp_path / "s.seq.csv").is_file() and (tmp_path / "s.seq_1.csv").is_file()


# ----------------------------------------------------------------- item 7: a missing image
def test_predict_good_and_missing_image_processes_the_good_one_and_exits_1(
    image, tmp_path, monkeypatch, capsys, fakes
):
    out = tmp_path / "p.jsonl"
    code = run(["predict", image, str(tmp_path / "missing.jpg"), "--json", str(out)], monkeypatch)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("missing.jpg") == 1 and "Traceback" not in err
    assert len(json.loads(out.read_text())["people"]) == 2


# ----------------------------------------------------------------- item 8: usage errors
def usage_error(args: list[str], monkeypatch, capsys, expect: str) -> None:
    code = run(args, monkeypatch)
    err = capsys.readouterr().err
    assert code == 2, (args, err)
    assert err.startswith("hhpnet: error: ") and err.count("\n") == 1, err
    assert expect in err, err


@pytest.mark.parametrize("command", ["predict", "interact", "video"])
def test_output_paths_that_cannot_be_written_are_usage_errors(
    command, clip, tmp_path, monkeypatch, capsys, fakes
):
    (tmp_path / "afile").write_text("x")
    folder = str(tmp_path)
    under = str(tmp_path / "afile" / "x.csv")
    usage_error([command, clip, "--json", folder], monkeypatch, capsys, "is a folder")
    usage_error([command, clip, "--csv", under], monkeypatch, capsys, "under the file")
    if command != "video":
        usage_error([command, clip, "--save-dir", under], monkeypatch, capsys, "under the file")
        usage_error(
            [command, clip, "--save-dir", str(tmp_path / "afile")], monkeypatch, capsys, "is a file"
        )


@pytest.mark.parametrize(
    "param, expect",
    [
        ("fov_deg=abc", "fov_deg must be a finite number"),
        ("fov_deg=nan", "fov_deg"),
        ("converge_range=1", "converge_range must be 2"),
        ("depth=1", "depth must be a word"),
    ],
)
def test_interact_bad_param_values_are_usage_errors(param, expect, image, monkeypatch, capsys):
    usage_error(["interact", image, "--param", param], monkeypatch, capsys, expect)


@pytest.mark.parametrize("value", ["1e308", "-5", "0", "nan", "inf"])
def test_video_smooth_accel_out_of_range_is_a_usage_error(value, clip, monkeypatch, capsys, fakes):
    usage_error(["video", clip, f"--smooth-accel={value}"], monkeypatch, capsys, "accel_std")


@pytest.mark.parametrize(
    "args, expect",
    [
        (["--stride", "0"], "stride"),
        (["--max-frames", "0"], "max_frames"),
        (["--start=-1"], "start"),
        (["--start", "nan"], "start"),
        (["--end", "nan"], "end"),
        (["--fps", "inf"], "fps"),
        (["--resume"], "--csv"),
        (["--no-interact", "--timeline-csv", "t.csv"], "timeline"),
        (["--timeline-png", "t.csv"], "the timeline picture needs a name ending .png"),
        (["--save-video", "a.webm"], "the annotated video needs a name ending .mp4"),
    ],
)
def test_video_bad_options_are_usage_errors_before_anything_is_read(
    args, expect, clip, monkeypatch, capsys, fakes
):
    usage_error(["video", clip, *args], monkeypatch, capsys, expect)


# ----------------------------------------------------------------- item 9: consistent codes
@pytest.mark.parametrize("command", ["predict", "interact", "video"])
def test_unknown_detector_is_one_error_and_exit_2(command, image, model_file, monkeypatch, capsys):
    args = [command, image, image, "--model", model_file, "--detector", "nope"]
    usage_error(args, monkeypatch, capsys, "unknown detector 'nope'")


@pytest.mark.parametrize("command", ["predict", "video"])
def test_unopenable_sources_exit_1_in_predict_and_video(
    command, tmp_path, monkeypatch, capsys, fakes
):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 500)
    for source in ("9", str(bad)):  # no webcam 9 here; a video that does not open
        code = run([command, source, "--no-progress"], monkeypatch)
        err = capsys.readouterr().err
        assert code == 1, (source, err)
        assert "hhpnet: error: " in err and "Traceback" not in err


def test_layout_without_keypoints_is_a_usage_error(image, monkeypatch, capsys, fakes):
    usage_error(["predict", image, "--layout", "coco17"], monkeypatch, capsys, "--keypoints")


# ----------------------------------------------------------------- item 10: help, version
@pytest.mark.parametrize("command", [*COMMAND_MODULES])
def test_help_has_a_usage_line_and_no_type_tags(command, monkeypatch, capsys):
    name = {"evaluate": "eval"}.get(command, command)
    assert run([name, "--help"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: hhpnet {name} [OPTIONS]")
    assert "<" not in out.replace("<stem>", "") and "{" not in out.splitlines()[0]
    assert "--help" in out and "<bool>" not in out and "list[" not in out


def test_usage_lines_name_the_arguments(monkeypatch, capsys):
    run(["video", "--help"], monkeypatch)
    assert capsys.readouterr().out.splitlines()[0] == "Usage: hhpnet video [OPTIONS] SOURCE..."
    run(["predict", "--help"], monkeypatch)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "Usage: hhpnet predict [OPTIONS] [SOURCE...]"


def test_version(monkeypatch, capsys):
    from hhpnet import __version__

    assert run(["--version"], monkeypatch) == 0
    assert capsys.readouterr().out.strip() == f"hhpnet {__version__}"


def test_progress_bars_only_on_a_terminal(clip, tmp_path):
    """stderr to a file or pipe: no progress bar unless --progress is given."""
    cmd = [sys.executable, "-m", "hhpnet.cli", "video", clip, "--no-interact", "--csv"]
    quiet = subprocess.run(
        [*cmd, str(tmp_path / "a.csv")], capture_output=True, text=True, timeout=120
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "frame/s" not in quiet.stderr and "%|" not in quiet.stderr
    forced = subprocess.run(
        [*cmd, str(tmp_path / "b.csv"), "--progress"], capture_output=True, text=True, timeout=120
    )
    assert forced.returncode == 0 and "frame/s" in forced.stderr and "%|" in forced.stderr


def test_no_traceback_for_a_bad_resume_journal(clip, tmp_path, monkeypatch, capsys, fakes):
    csv = tmp_path / "p.csv"
    csv.write_text("frame,time_s\nabc,1\n")
    code = run(["video", clip, "--csv", str(csv), "--resume", "--no-progress"], monkeypatch)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "not a number" in err
    path = Path(csv)
    assert path.read_text() == "frame,time_s\nabc,1\n"  # left as it was


def test_video_unknown_interaction_method_is_a_usage_error(clip, model_file, monkeypatch, capsys):
    args = ["video", clip, "--model", model_file, "--method", "laeo"]
    usage_error(args, monkeypatch, capsys, "unknown interaction method")


def test_process_video_unwritable_outputs_raise_one_line_input_errors(clip, tmp_path):
    from hhpnet.errors import InputError
    from hhpnet.video import process_video

    (tmp_path / "afile").write_text("x")
    est = hhpnet.pipeline.HeadPoseEstimator(model=GeometricModel(), detector=BlobDetector())
    for kw in (
        {"jsonl": tmp_path},
        {"csv": tmp_path},
        {"save_video": tmp_path / "afile" / "a.mp4"},
        {"csv": tmp_path / "afile" / "p.csv"},
    ):
        with pytest.raises(InputError) as exc:
            process_video(clip, est, progress=False, interact=False, **kw)
        assert "\n" not in str(exc.value)


def test_video_outputs_in_folders_that_do_not_exist_yet(clip, tmp_path, monkeypatch, fakes):
    new = tmp_path / "new" / "deeper"
    args = ["video", clip, "--no-progress", "--csv", str(new / "p.csv")]
    args += ["--timeline-csv", str(new / "t" / "t.csv"), "--timeline-png", str(new / "u" / "t.png")]
    assert run(args, monkeypatch) == 0
    for name in ("p.csv", "t/t.csv", "t/t_people.csv", "u/t.png"):
        assert (new / name).stat().st_size > 0
