"""The Jupyter Book configuration: settings whose wrong value fails silently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _yaml(name: str) -> dict:
    with open(ROOT / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_notebooks_are_not_executed_by_the_build():
    # A bare `off` is YAML false, which Jupyter Book reads as "execute".
    assert _yaml("_config.yml")["execute"]["execute_notebooks"] == "off"


def test_repository_and_launch_buttons():
    config = _yaml("_config.yml")
    repository = config["repository"]
    assert repository["url"].startswith("https://github.com/")
    assert repository["branch"] == "main"  # the default, master, breaks Colab links
    assert repository.get("path_to_book", "") == ""
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["html"]["use_repository_button"] is True
    assert config["html"]["use_issues_button"] is True


def test_math_extensions():
    extensions = _yaml("_config.yml")["parse"]["myst_enable_extensions"]
    assert {"dollarmath", "amsmath"} <= set(extensions)


@pytest.mark.parametrize(
    "pattern", [".venv", "_build", "student", "README.md", "tests", "scripts", "src"]
)
def test_non_book_paths_are_excluded(pattern):
    assert pattern in _yaml("_config.yml")["exclude_patterns"]


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                files.append(node[key])
        for value in node.values():
            if isinstance(value, list | dict):
                files.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            files.extend(_toc_files(item))
    return files


TOC_FILES = _toc_files(_yaml("_toc.yml"))


def test_toc_format():
    toc = _yaml("_toc.yml")
    assert toc["format"] == "jb-book"
    assert toc["root"] == "chapters/index"


@pytest.mark.parametrize("entry", TOC_FILES)
def test_every_toc_file_exists(entry):
    candidates = [ROOT / f"{entry}{suffix}" for suffix in ("", ".md", ".ipynb")]
    assert any(p.is_file() for p in candidates), f"_toc.yml lists {entry}, which does not exist"
