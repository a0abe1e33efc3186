"""The interaction methods' registry: names, the CLI help built from it, a method added by one
registration, and the package's lazy public names."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import hhpnet.interaction as interaction
from hhpnet.errors import InputError
from hhpnet.interaction import analyze, from_arrays, registry
from hhpnet.interaction.params import PaperParams
from hhpnet.interaction.scores import People, Scores


def toy_scores(people: People, p: PaperParams) -> Scores:
    """Toy method: everybody attends fully to person 0, and person 0 to person 1."""
    m = len(people.yaw)
    att = np.zeros((m, m))
    att[1:, 0] = 1.0
    att[0, 1] = 1.0
    return Scores(att, np.sqrt(att * att.T), np.zeros((m, m)), None)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> registry.Method:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    return registry.register(
        registry.Method(
            "toy",
            "everybody looks at person 0",
            "hhpnet.interaction.params:PaperParams",
            f"{__name__}:toy_scores",
            defaults=(("threshold", 0.75),),
        )
    )


def test_builtin_methods_and_their_help() -> None:
    assert registry.names() == registry.METHODS == interaction.METHODS
    assert registry.METHODS == ("hhpnet", "paper", "paper-v1")
    text = registry.cli_help()
    assert text.startswith("hhpnet (3-D, depth from head size") and text.endswith("weighting).")
    assert ", paper (HHP-Net's image-plane LAEO) or paper-v1 (" in text


def test_a_registered_method_is_analyzed_listed_and_offered_by_the_cli(toy) -> None:
    three = from_arrays([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [[0, 0], [100, 0], [200, 0]])
    res = analyze(three, method="toy")
    assert res.targets == [1, 0, 0] and res.mutual == [(0, 1)] and res.groups == [[0, 1, 2]]
    assert [(q.i, q.j, q.score) for q in res.pairs] == [(0, 1, 1.0), (0, 2, 0.0), (1, 2, 0.0)]
    assert res.params["threshold"] == 0.75  # the method's own default
    assert analyze(three, method="toy", threshold=0.2).params["threshold"] == 0.2
    assert registry.names()[-1] == "toy"
    assert registry.cli_help().endswith(" or toy (everybody looks at person 0).")
    with pytest.raises(InputError, match=r"choose from hhpnet, paper, paper-v1, toy\)$"):
        analyze(three, method="laeo")

    from hhpnet.commands import interact

    app = typer.Typer()
    interact.register(app)  # the option list is built now, from the registry
    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400"}).output
    assert "toy (everybody looks at person 0)" in " ".join(out.split())


def test_registering_a_name_twice_is_refused(toy) -> None:
    with pytest.raises(ValueError, match="'toy' is already registered"):
        registry.register(toy)


def test_unhashable_or_unknown_method_is_one_input_error() -> None:
    one = from_arrays([0.0], [0.0], [[0, 0]])
    for bad in (["hhpnet"], None, "HHPNET"):
        with pytest.raises(InputError, match="unknown interaction method"):
            analyze(one, method=bad)  # type: ignore[arg-type]


def test_public_names_load_on_first_use_and_the_registry_needs_no_numpy() -> None:
    assert set(interaction.__all__) <= set(dir(interaction))
    for name in interaction.__all__:
        assert getattr(interaction, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        interaction.nope  # noqa: B018
    code = (
        "import sys; from hhpnet.interaction import registry; registry.cli_help(); "
        "print('numpy' in sys.modules, sorted(m for m in sys.modules if 'interaction.' in m))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split(" ", 1) == ["False", "['hhpnet.interaction.registry']\n"]
