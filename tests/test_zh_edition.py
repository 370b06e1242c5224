"""The Chinese edition (issue 21): catalogues, the Chinese notebooks, and the built Chinese book.

- The tools: ``scripts/i18n.py`` (the ``@@ N`` format, the heading escape, the glossary lint)
  and ``scripts/build_zh_book.py`` (putting a catalogue's translations back into markdown).
- The catalogues are current with the English source and complete: no entry missing,
  obsolete, fuzzy or untranslated (``i18n.py check``, which re-extracts the English text).
- The Chinese notebooks: code and outputs are the English notebooks' own, every markdown
  cell is translated; their student edition has no solution.
- The built Chinese book (``_build/html/zh``, built by ``.ci/run`` before the tests): every
  page and every heading in Chinese, and the language switch of every page of both books
  points at the same page in the other. The browser clicks it in ``test_book_browser.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from babel.messages.catalog import Catalog
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_zh_book  # noqa: E402
import i18n  # noqa: E402

HTML = ROOT / "_build" / "html"
ZH_HTML = HTML / "zh"
PAGES = ["chapters/index"] + [
    e["file"] for e in yaml.safe_load((ROOT / "_toc.yml").read_text())["chapters"]
]
CJK = re.compile(r"[\u4e00-\u9fff]")

built = pytest.mark.skipif(
    os.environ.get("CI") != "true" and not (ZH_HTML / "chapters" / "index.html").exists(),
    reason="the Chinese book is not built (python scripts/build_zh_book.py)",
)


# ---------------------------------------------------------------------------------------------
# The tools


def test_fill_format_reads_blocks_copies_and_glossary_skips():
    text = "@@ 3\n第一行\n第二行 \\alpha \"q\"\n@@ 7 =\n@@ 9\n## glossary-skip: views?\n观点\n"
    blocks = i18n.parse_translations(text)
    assert blocks == {3: '第一行\n第二行 \\alpha "q"', 7: None, 9: "## glossary-skip: views?\n观点"}
    assert i18n.split_comments(blocks[9]) == (["glossary-skip: views?"], "观点")


def test_a_numbered_heading_is_escaped_so_it_does_not_become_a_list():
    assert i18n.escape_heading_number("4. Optimizers", "4. 优化器") == "4\\. 优化器"
    assert i18n.escape_heading_number("4.1 What", "4.1 做什么") == "4.1 做什么"
    assert i18n.escape_heading_number("Hello", "4. 你好") == "4. 你好"


def test_glossary_lint_flags_a_term_not_rendered_and_honours_a_skip():
    catalog = Catalog(locale="zh_CN")
    catalog.add("A tensor has a `view` method.", "这是一个数组，有 `view` 方法。")
    catalog.add("Each tensor is a view.", "每个张量都是视图。")
    catalog.add("In this view, it works.", "从这个角度看，它成立。",
                user_comments=["glossary-skip: views?"])
    catalog.add("Call `tensor.view()`.", "调用 `tensor.view()`。")  # code is not prose
    terms = [i18n.Term("tensors?", ("张量",), ""), i18n.Term("views?", ("视图",), "")]
    problems = i18n.glossary_problems("p", terms, catalog)
    assert len(problems) == 1 and "tensors?" in problems[0] and "数组" in problems[0]


def test_markup_lint_catches_a_bold_that_does_not_close_and_lost_code_or_links():
    catalog = Catalog(locale="zh_CN")
    catalog.add("**Time:** 50 min.", "**时间：**50分钟。")  # does not parse: a stray '*'
    catalog.add("**Time**: 50 min.", "**时间**：50分钟。")  # fine
    catalog.add("Call `f` on $x$.", "对$x$调用f。")  # a code span lost
    catalog.add("See [here](a.md).", "见此处。")  # a link lost
    catalog.add("Use `view`.", "使用`view`（`Tensor.view`）。")  # a code span more is fine
    problems = i18n.markup_problems("p", catalog)
    assert [p.split(":")[0] for p in problems] == ["p #0", "p #2", "p #3"], problems


def test_the_glossary_holds_the_articles_terms():
    terms = {t.english: t.chinese for t in i18n.glossary()}
    for english, chinese in [("tensors?", "张量"), ("optimizers?", "优化器"),
                             ("data loading", "数据加载"), ("tokens?", "词元")]:
        assert chinese in terms[english]
    assert {"阶", "进程编号"} <= set(terms["rank"])  # a tensor's rank, a process's rank


def test_translate_markdown_follows_wrapped_lines_list_items_and_order():
    source = (
        "## 4.1 What it does\n\nThe optimizer updates\nthe parameters.\n\n"
        "1. `zero_grad()`: forget the\n   old gradients;\n2. step.\n\n> A quoted\n> line.\n"
    )
    messages = [
        ("4.1 What it does", "4.1 它做什么"),
        ("The optimizer updates the parameters.", "优化器更新参数。"),
        ("`zero_grad()`: forget the old gradients;", "`zero_grad()`：忘掉旧梯度；"),
        ("step.", "更新。"),
        ("A quoted line.", "一句引文。"),
    ]
    text, missing = build_zh_book.translate_markdown(source, messages)
    assert missing == []
    assert text == (
        "## 4.1 它做什么\n\n优化器更新参数。\n\n"
        "1. `zero_grad()`：忘掉旧梯度；\n2. 更新。\n\n> 一句引文。\n"
    )
    _, missing = build_zh_book.translate_markdown("Other text.", [("Not here.", "不在。")])
    assert missing == ["Not here."]


# ---------------------------------------------------------------------------------------------
# The catalogues


def test_catalogues_are_current_complete_and_follow_the_glossary():
    result = subprocess.run(
        [sys.executable, "scripts/i18n.py", "check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "current and complete" in result.stdout


# ---------------------------------------------------------------------------------------------
# The Chinese notebooks


@pytest.fixture(scope="module")
def zh_notebooks(tmp_path_factory):
    out = tmp_path_factory.mktemp("zh")
    build_zh_book.write_notebooks(out, student=False, branch="zh")
    return out


def _prose(cell_source: str) -> str:
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`]*`|<[^>]+>|\]\([^)]*\)", "", cell_source,
                  flags=re.S)
    return re.sub(r"```.*?```", "", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES[1:])
def test_chinese_notebook_keeps_code_and_outputs_and_translates_markdown(zh_notebooks, page):
    english = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    chinese = nbformat.read(zh_notebooks / f"{page}.ipynb", as_version=4)
    assert len(english.cells) == len(chinese.cells)
    for en, zh in zip(english.cells, chinese.cells, strict=True):
        assert en.cell_type == zh.cell_type and en.id == zh.id
        if en.cell_type == "code":
            assert en.source == zh.source and en.outputs == zh.outputs
        elif re.search(r"[A-Za-z]{3,}", _prose(en.source)):
            assert CJK.search(zh.source), f"cell {en.id} stayed English: {zh.source[:100]!r}"


def test_chinese_index_and_book_config(zh_notebooks):
    index = (zh_notebooks / "chapters" / "index.md").read_text(encoding="utf-8")
    assert CJK.search(index) and "(01_tensors" in index or "01_tensors" in index
    config = yaml.safe_load((zh_notebooks / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["branch"] == "zh"
    assert config["sphinx"]["config"]["language"] == "zh_CN"


def test_chinese_student_edition_has_no_solutions(tmp_path):
    build_zh_book.write_notebooks(tmp_path, student=True, branch="zh-student")
    for page in PAGES[1:]:
        english = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
        student = nbformat.read(tmp_path / f"{page}.ipynb", as_version=4)
        solutions = [c for c in english.cells if "solution" in c.metadata.get("tags", [])]
        assert solutions, page
        assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
        assert len(student.cells) == len(english.cells) - len(solutions)
        markdown = [c.source for c in student.cells if c.cell_type == "markdown"]
        assert sum(bool(CJK.search(m)) for m in markdown) > 5


# ---------------------------------------------------------------------------------------------
# The built Chinese book


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@built
@pytest.mark.parametrize("page", PAGES)
def test_every_page_and_heading_is_in_chinese(page):
    soup = _soup(ZH_HTML / f"{page}.html")
    assert soup.html["lang"] == "zh-CN"
    article = soup.find("article")
    headings = [h.get_text(" ", strip=True).rstrip("#")
                for h in article.find_all(["h1", "h2", "h3", "h4"])]
    assert headings
    english = [h for h in headings if not CJK.search(h)]
    assert not english, f"headings left in English: {english}"
    # a translated display formula comes back from Sphinx as "::" (see i18n.is_block)
    assert "\\[::\\]" not in str(article), "a display formula was translated and broke"
    paragraphs = [p.get_text(" ", strip=True) for p in article.select("section > p")]
    left = [p for p in paragraphs if len(p) > 60 and not CJK.search(p)]
    assert not left, f"paragraphs left in English: {left[:3]}"


@built
@pytest.mark.parametrize("page", PAGES)
def test_language_switch_links_the_same_page_both_ways(page):
    english = HTML / f"{page}.html"
    chinese = ZH_HTML / f"{page}.html"
    to_zh = _soup(english).select_one("a.language-switch-link")
    to_en = _soup(chinese).select_one("a.language-switch-link")
    assert to_zh.get_text(strip=True) == "中文" and to_en.get_text(strip=True) == "English"
    assert (english.parent / to_zh["href"]).resolve() == chinese.resolve()
    assert (chinese.parent / to_en["href"]).resolve() == english.resolve()


@built
def test_chinese_colab_buttons_open_the_chinese_notebooks():
    soup = _soup(ZH_HTML / "chapters" / "04_optimizers.html")
    links = [a["href"] for a in soup.find_all("a", href=True) if "colab" in a["href"]]
    assert links and all("/blob/zh/chapters/04_optimizers.ipynb" in link for link in links)
