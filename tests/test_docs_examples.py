"""The README's Python examples run, and every ``import`` line of README.md and docs/*.md
resolves (the documented import paths survive moves of the code)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAIR = ROOT / "src" / "hhpnet" / "examples" / "pair_640x480.jpg"


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_every_documented_import_line_resolves():
    lines = set()
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in _python_blocks(md):
            for line in block.splitlines():
                s = line.split("#")[0].strip()
                if re.match(r"(from hhpnet[\w.]* import [\w, ]+|import hhpnet[\w.]*)$", s):
                    lines.add(s)
    assert len(lines) >= 8
    for s in sorted(lines):
        exec(s, {})  # an ImportError names the broken documented path


@pytest.mark.parametrize("index", [0, 2])
def test_readme_examples_run(index, tmp_path, monkeypatch):
    blocks = _python_blocks(ROOT / "README.md")
    code = (
        blocks[index]
        .replace('"photo.jpg"', repr(str(PAIR)))
        .replace('"party.jpg"', repr(str(PAIR)))
    )
    code = code.replace('"out.jpg"', repr(str(tmp_path / "out.jpg")))
    if index == 2:  # the interaction example uses the estimator of the first one
        code = "from hhpnet import HeadPoseEstimator\nest = HeadPoseEstimator()\n" + code
    monkeypatch.chdir(tmp_path)
    env: dict[str, object] = {}
    exec(compile(code, f"README.md python block {index}", "exec"), env)
    if index == 0:
        assert len(env["poses"]) == 2 and os.path.getsize(tmp_path / "out.jpg") > 0
    else:
        assert env["inter"].attention.shape == (2, 2)
