"""Build the Chinese edition: the HTML book, the Chinese notebooks and their student edition.

Usage::

    python scripts/build_zh_book.py               # all three, warnings are errors
    python scripts/build_zh_book.py --html-only --out /tmp/zh   # the HTML book only

One source, two editions. The English notebooks stay the only source of code and outputs;
the Chinese text comes from the gettext catalogues ``locale/zh_CN/LC_MESSAGES/`` (see
``scripts/i18n.py``). This script writes:

- ``_build/html/zh/``: the Chinese HTML book, built by Sphinx from the English source with
  ``language = "zh_CN"`` (``-W``: every warning is an error). It sits inside the English
  book's folder, so publishing ``_build/html`` publishes both, and each page's language
  switch (``_templates/language-switch.html``) links to the same page in the other edition.
- ``_build/zh/``: the Chinese notebooks (every markdown cell translated from the catalogues,
  code and outputs unchanged), the translated ``chapters/index.md``, ``_toc.yml`` and a
  ``_config.yml`` for the branch ``zh``. Push its contents to that branch: the Chinese book's
  Colab buttons open ``blob/zh/chapters/<chapter>.ipynb``.
- ``_build/zh-student/``: the Chinese student edition (solutions removed, exercise outputs
  cleared, as ``scripts/make_student_notebooks.py`` does for the English one), for the branch
  ``zh-student``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from i18n import CATALOGUES, LANGUAGE, ROOT, entries, load, sphinx_overrides
from make_student_notebooks import chapter_notebooks, student_notebook

HTML = ROOT / "_build" / "html" / "zh"
NOTEBOOKS = ROOT / "_build" / "zh"
STUDENT = ROOT / "_build" / "zh-student"

#: What the Chinese book changes in ``_config.yml``; everything else is the book's own.
TITLE = "从零实现PyTorch：面向生成式AI"


def zh_config(branch: str = "zh") -> dict:
    """The book's ``_config.yml`` for the Chinese edition: its title and its notebooks' branch."""
    with open(ROOT / "_config.yml", encoding="utf-8") as f:
        config = yaml.safe_load(f)
    config["title"] = TITLE
    config["repository"]["branch"] = branch
    return config


# ---------------------------------------------------------------------------------------------
# Translating a notebook's markdown from its catalogue


def _pattern(msgid: str) -> re.Pattern:
    """Find a message in markdown source: Sphinx joins a paragraph's lines with spaces, so any
    run of whitespace in the message matches any run in the source (a line break and the
    indentation of a list item's continuation, or a block quote's ``>``)."""
    words = msgid.split()
    return re.compile(r"(?:\s|>)+".join(re.escape(w) for w in words))


def translate_markdown(source: str, messages: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """Replace each English message in ``source``, in order, by its translation.

    ``messages`` are ``(english, chinese)`` in the order they occur. Returns the translated
    source and the messages that were not found (the caller treats any as an error).
    """
    out, cursor, missing = [], 0, []
    for english, chinese in messages:
        if not english.strip():
            continue
        match = _pattern(english).search(source, cursor)
        if match is None:
            missing.append(english)
            continue
        out.append(source[cursor : match.start()])
        out.append(chinese)
        cursor = match.end()
    out.append(source[cursor:])
    return "".join(out), missing


def translate_tables(source: str, cells: dict[str, str], used: set[str]) -> str:
    """Translate the cells of the markdown tables in ``source`` (Sphinx records no line number
    for a table cell, so they are matched by their exact text, wherever they are)."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            continue
        parts = line.split("|")
        for j, part in enumerate(parts):
            text = part.strip()
            if text in cells:
                parts[j] = part.replace(text, cells[text], 1)
                used.add(text)
        lines[i] = "|".join(parts)
    return "\n".join(lines)


@dataclass
class PageCatalogue:
    """A page's translations: by notebook cell, in source order, and the table cells."""

    by_cell: dict[int, list[tuple[str, str]]]
    table_cells: dict[str, str]


def page_catalogue(page: str) -> PageCatalogue:
    """Read a page's catalogue. myst-nb numbers a notebook's lines as
    ``10000 * (cell index + 1) + line``; for a markdown page everything is cell 0."""
    cells: dict[int, list[tuple[int, str, str]]] = {}
    table_cells: dict[str, str] = {}
    for message in entries(load(page)):
        if not message.string or message.fuzzy:
            raise SystemExit(f"{page}: untranslated entry {message.id[:60]!r}")
        chinese = message.string
        if re.match(r"\d+\\\. ", chinese):  # "4\\. 优化器": markdown keeps a heading a heading
            chinese = chinese.replace("\\. ", ". ", 1)
        for _, line in message.locations:
            if line is None:
                table_cells[message.id] = chinese
                continue
            cell, line_in_cell = (line // 10000 - 1, line % 10000) if line >= 10000 else (0, line)
            cells.setdefault(cell, []).append((line_in_cell, message.id, chinese))
    by_cell = {
        cell: [(en, zh) for _, en, zh in sorted(items, key=lambda item: item[0])]
        for cell, items in cells.items()
    }
    return PageCatalogue(by_cell, table_cells)


def translate_notebook(path: Path) -> nbformat.NotebookNode:
    page = path.relative_to(ROOT).with_suffix("").as_posix()
    nb = nbformat.read(path, as_version=4)
    catalogue = page_catalogue(page)
    problems, used = [], set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        source, missing = translate_markdown(cell.source, catalogue.by_cell.get(index, []))
        cell.source = translate_tables(source, catalogue.table_cells, used)
        problems += [f"{path.name} cell {index}: not found: {m[:70]!r}" for m in missing]
    problems += [f"{path.name}: table cell not found: {m[:70]!r}"
                 for m in set(catalogue.table_cells) - used]
    nb.metadata["aigc_course"] = {"language": LANGUAGE}
    if problems:
        raise SystemExit("\n".join(problems))
    return nb


def translate_page(path: Path) -> str:
    page = path.relative_to(ROOT).with_suffix("").as_posix()
    catalogue, used = page_catalogue(page), set()
    text, missing = translate_markdown(path.read_text(encoding="utf-8"),
                                       catalogue.by_cell.get(0, []))
    text = translate_tables(text, catalogue.table_cells, used)
    missing += sorted(set(catalogue.table_cells) - used)
    if missing:
        raise SystemExit("\n".join(f"{path.name}: not found: {m[:70]!r}" for m in missing))
    return text


def write_notebooks(out: Path, student: bool, branch: str) -> list[Path]:
    """Write the Chinese notebooks (or their student edition) as a book source in ``out``."""
    if (out / "chapters").exists():
        shutil.rmtree(out / "chapters")
    (out / "chapters").mkdir(parents=True)
    written = []
    for path in chapter_notebooks():
        nb = translate_notebook(path)
        if student:
            # The exercise sections are found from the English headings, then the translated
            # cells are matched to the student edition's by their cell ids.
            english_student, _ = student_notebook(nbformat.read(path, as_version=4))
            translated = {cell.id: cell for cell in nb.cells}
            for cell in english_student.cells:
                if cell.cell_type == "markdown":
                    cell.source = translated[cell.id].source
            english_student.metadata["aigc_course"] = {"language": LANGUAGE}
            nb = english_student
        target = out / "chapters" / path.name
        nbformat.write(nb, target)
        written.append(target)
    for path in (ROOT / "chapters").glob("*.md"):
        (out / "chapters" / path.name).write_text(translate_page(path), encoding="utf-8")
    shutil.copy(ROOT / "_toc.yml", out / "_toc.yml")
    config = zh_config(branch)
    config["exclude_patterns"] = ["_build", "_build/**", "**.ipynb_checkpoints"]
    config.setdefault("sphinx", {}).setdefault("config", {})["language"] = LANGUAGE
    with open(out / "_config.yml", "w", encoding="utf-8") as f:
        f.write("# Generated by scripts/build_zh_book.py from _config.yml: do not edit\n")
        yaml.safe_dump(config, f, sort_keys=False, allow_unicode=True)
    return written


# ---------------------------------------------------------------------------------------------
# The HTML book


def build_html(out: Path, warnings_are_errors: bool = True) -> int:
    """Build the Chinese HTML book from the English source and the catalogues into ``out``."""
    from jupyter_book.sphinx import build_sphinx

    # Sphinx writes into a folder of its own (myst-nb puts its jupyter_execute/ next to the
    # HTML folder, which must not land inside the English book); the result is copied to out.
    work = ROOT / "_build" / "zh-html"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "_config.yml"
        config.write_text(yaml.safe_dump(zh_config(), allow_unicode=True), encoding="utf-8")
        status = build_sphinx(
            ROOT,
            work / "html",
            noconfig=True,
            path_config=str(config),
            confoverrides=sphinx_overrides(
                language=LANGUAGE,
                # myst-nb's fold labels ("Show code cell source") are not in the catalogues
                nb_code_prompt_show="显示代码单元格",
                nb_code_prompt_hide="隐藏代码单元格",
            ),
            builder="html",
            doctreedir=work / ".doctrees",
            freshenv=True,
            warningiserror=warnings_are_errors,
            keep_going=True,
            quiet=True,  # warnings still print
        )
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(work / "html", out)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HTML, help="HTML folder (_build/html/zh)")
    parser.add_argument("--html-only", action="store_true", help="skip the notebooks")
    parser.add_argument("--notebooks-only", action="store_true", help="skip the HTML book")
    args = parser.parse_args(argv)
    if not CATALOGUES.is_dir():
        raise SystemExit(f"no catalogues in {CATALOGUES}")
    status = 0
    if not args.notebooks_only:
        status = build_html(args.out.resolve())
        print(f"Chinese book: {args.out / 'chapters' / 'index.html'} (status {status})")
    if not args.html_only:
        for out, student, branch in ((NOTEBOOKS, False, "zh"), (STUDENT, True, "zh-student")):
            written = write_notebooks(out, student, branch)
            print(f"{len(written)} Chinese {'student ' if student else ''}notebooks: {out}")
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
