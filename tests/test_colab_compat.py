"""Colab's versions (Python 3.13, torch 2.11, transformers 5.15) are admitted by what
``pyproject.toml`` declares, and the declared lower bounds are the ones CI tests: the second
virtual environment of ``.ci/compat.sh oldest-transformers`` installs exactly them.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
COLAB = {"python": "3.13.0", "torch": "2.11.0", "transformers": "5.15.0"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared() -> dict[str, SpecifierSet]:
    project = _pyproject()["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {Requirement(r).name: Requirement(r).specifier for r in requirements}


def _compat_pins() -> dict[str, str]:
    """The versions .ci/compat.sh installs in the second virtual environment."""
    script = (ROOT / ".ci" / "compat.sh").read_text(encoding="utf-8")
    line = re.search(r"^OLDEST=\((.*)\)$", script, re.MULTILINE).group(1)
    return dict(pin.split("==") for pin in line.split())


def test_colab_python_is_admitted():
    assert COLAB["python"] in SpecifierSet(_pyproject()["project"]["requires-python"])


@pytest.mark.parametrize("package", ["torch", "transformers"])
def test_colab_packages_are_admitted(package):
    assert COLAB[package] in _declared()[package]


@pytest.mark.parametrize("package", ["transformers", "tokenizers"])
def test_declared_lower_bound_is_what_the_second_venv_tests(package):
    """The oldest declared version is the one installed and tested by the compat run."""
    (spec,) = [s for s in _declared()[package] if s.operator == ">="]
    pinned = _compat_pins()[package]
    assert pinned in _declared()[package]
    if package == "transformers":
        assert spec.version in (pinned, pinned.rsplit(".", 1)[0])
    else:  # transformers 5.15 itself requires tokenizers >= 0.22.0, <= 0.23.0
        assert pinned in SpecifierSet(">=0.22.0,<=0.23.0")
        assert spec.version in ("0.22", "0.22.0")


def _code_cells_and_modules():
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for k, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                yield f"{path.name} cell {k}", "".join(cell["source"])
    for path in sorted((ROOT / "src" / "aigc_course").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


def test_no_tokenizer_built_from_vocab_file():
    """``GPT2TokenizerFast(vocab_file=..., merges_file=...)`` gives an empty vocabulary under
    some transformers 5 releases; the code loads tokenizers with ``from_pretrained(dir)``."""
    offenders = []
    for where, source in _code_cells_and_modules():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")).endswith(
                    "TokenizerFast"
                )
                and any(k.arg in ("vocab_file", "merges_file") for k in node.keywords)
            ):
                offenders.append(where)
    assert not offenders


def test_running_transformers_is_admitted():
    """Whichever venv runs this (the main one or the compat one), its versions are declared."""
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    assert transformers.__version__ in _declared()["transformers"]
    assert tokenizers.__version__ in _declared()["tokenizers"]
