"""The built HTML book, as a reader gets it: every page of the table of contents is there,
with its figures, math, a Colab button, hidden solutions and a working search index.

These tests read ``_build/html``, which ``.ci/run`` builds (the README's first command)
before running ``pytest``; they are skipped if the book has not been built.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
CHAPTERS = [entry["file"] for entry in TOC.get("chapters", [])]

pytestmark = pytest.mark.skipif(
    not (HTML / "index.html").exists(), reason="book not built (run jupyter-book build .)"
)


def page(name: str) -> BeautifulSoup:
    return BeautifulSoup((HTML / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def test_introduction_links_every_chapter():
    intro = page(TOC["root"])
    links = {a.get("href", "").split("#")[0] for a in intro.find_all("a")}
    for chapter in CHAPTERS:
        assert f"{Path(chapter).name}.html" in {Path(link).name for link in links}, chapter


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_has_outputs_figures_math_and_colab(chapter):
    html = page(chapter)
    figures = [img for img in html.find_all("img") if "_images/" in img.get("src", "")]
    assert figures, "no figure rendered"
    for img in figures:
        assert (HTML / chapter).parent.joinpath(img["src"]).resolve().exists(), img["src"]
    assert html.select(".math"), "no math rendered"
    outputs = html.select(".cell_output")
    assert len(outputs) >= 10, f"only {len(outputs)} cell outputs"
    # a visible check against the reference library (torch, or HF tokenizers/transformers)
    assert "✓" in html.get_text(), "no visible check against the reference library"
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    colab = [a["href"] for a in html.find_all("a", href=True) if "colab" in a["href"]]
    assert f"https://colab.research.google.com/github/{repo}/blob/main/{chapter}.ipynb" in colab


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solutions_are_hidden_and_no_cell_shows_a_traceback(chapter):
    html = page(chapter)
    solutions = html.select(".cell.tag_solution")
    assert len(solutions) >= 3
    for cell in solutions:
        classes = cell.get("class", [])
        assert "tag_hide-cell" in classes or "tag_hide-input" in classes
    # intended errors are printed by expect_error as "Type: message"; a traceback in the page
    # means a cell raised, and Colab's "Run all" would stop there
    for traceback in html.select(".cell_output .output.traceback"):
        cell = traceback.find_parent(class_="cell")
        raise AssertionError(f"{chapter}: a cell shows a traceback: {cell.get_text()[:200]}")


def test_search_index_covers_the_chapters():
    index = (HTML / "searchindex.js").read_text(encoding="utf-8")
    assert (HTML / "search.html").exists()
    for chapter in CHAPTERS:
        assert chapter in index
    assert "broadcasting" in index.lower()
