"""The Chinese edition's catalogues: extract, update, translate, check.

One source, two editions: the English notebooks and ``chapters/index.md`` are the only source
of text, code and outputs. Sphinx's gettext builder extracts every paragraph, heading, list
item, table cell and math block into ``_build/gettext/<page>.pot``; the translations live in
``locale/zh_CN/LC_MESSAGES/<page>.po``, one catalogue per page.

Usage::

    python scripts/i18n.py update            # re-extract, merge into the .po files
    python scripts/i18n.py check             # CI: catalogues current and complete, glossary
    python scripts/i18n.py stats             # messages per page: translated / fuzzy / empty
    python scripts/i18n.py todo chapters/04_optimizers [--all]
    python scripts/i18n.py fill chapters/04_optimizers translations.txt

``todo`` prints the entries still to translate, each after a line ``@@ N`` (N is the entry's
number in its catalogue). ``fill`` reads the same format back: the text after ``@@ N`` up to
the next ``@@`` line is entry N's translation; ``@@ N =`` copies the English unchanged (for
every display formula and code listing, which must stay as they are: see ``is_block``). A block
may start with ``## glossary-skip: <term>`` lines, for a glossary word used in another sense
(``lint PAGE`` lists the glossary problems). Writing the translations as plain text this way
means no PO escaping by hand: backslashes and quotes are written as they are.

``check`` fails when a catalogue is missing an entry of the current English text, keeps an
obsolete one, or has an entry that is fuzzy or untranslated, and when a glossary term is
translated other than as ``locale/zh_CN/glossary.csv`` says (see :func:`glossary_problems`).
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
LANGUAGE = "zh_CN"
CATALOGUES = LOCALE / LANGUAGE / "LC_MESSAGES"
GLOSSARY = LOCALE / LANGUAGE / "glossary.csv"


def sphinx_overrides(**extra) -> dict:
    """The Sphinx settings both editions' i18n builds share, on top of ``_config.yml``."""
    return {
        "external_toc_path": str(ROOT / "_toc.yml"),
        "latex_individualpages": False,
        "gettext_compact": False,  # one catalogue per page
        "gettext_uuid": False,
        "gettext_location": True,  # "#: ../../chapters/x.ipynb:40012": cell 4, line 12
        "locale_dirs": [str(LOCALE)],
        # Outputs are never translated: without this, the gettext builder renders show_source's
        # outputs as LaTeX (its first choice) and every code listing becomes a message.
        "nb_mime_priority_overrides": [
            ("gettext", "text/latex", None),
            ("gettext", "text/markdown", None),
        ],
        **extra,
    }


def extract(out: Path) -> dict[str, Catalog]:
    """Run Sphinx's gettext builder over the English book; return ``{page: template}``."""
    from jupyter_book.sphinx import build_sphinx

    status = build_sphinx(
        ROOT,
        out,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=sphinx_overrides(),
        builder="gettext",
        doctreedir=out / ".doctrees",
        freshenv=True,
        quiet=True,
    )
    if status != 0:
        raise SystemExit(f"the gettext build failed with status {status}")
    templates = {}
    for pot in sorted(out.rglob("*.pot")):
        page = pot.relative_to(out).with_suffix("").as_posix()
        with open(pot, "rb") as f:
            template = read_po(f)
        for message in template:  # locations relative to the repository, wherever `out` is
            message.locations = [
                ((out / name).resolve().relative_to(ROOT).as_posix(), line)
                for name, line in message.locations
            ]
        templates[page] = template
    return templates


def po_path(page: str) -> Path:
    return CATALOGUES / f"{page}.po"


def load(page: str) -> Catalog:
    with open(po_path(page), "rb") as f:
        return read_po(f, locale=LANGUAGE)


def save(catalog: Catalog, page: str) -> None:
    path = po_path(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    # Obsolete entries are dropped (git keeps them); `check` would fail on them anyway.
    write_po(buffer, catalog, width=0, include_previous=True, sort_output=False,
             ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


@functools.cache
def _markdown_lines(path: str) -> dict[int, list[str]]:
    """A notebook's markdown cells as lines, by cell index (``{0: lines}`` for a .md page)."""
    import nbformat

    file = ROOT / path
    if file.suffix != ".ipynb":
        return {0: file.read_text(encoding="utf-8").split("\n")}
    nb = nbformat.read(file, as_version=4)
    return {i: c.source.split("\n") for i, c in enumerate(nb.cells) if c.cell_type == "markdown"}


def _starts_display_math(path: str, line: int | None) -> bool:
    """Whether the English source line of a location opens a ``$$`` display formula. myst-nb
    numbers a notebook's lines as ``10000 * (cell + 1) + line + 2``."""
    if line is None or not (ROOT / path).exists():
        return False
    if path.endswith(".ipynb"):
        cell, index = line // 10000 - 1, line % 10000 - 2
    else:
        cell, index = 0, line - 1
    lines = _markdown_lines(path).get(cell, [])
    return 0 <= index < len(lines) and lines[index].lstrip().startswith("$$")


def is_block(message) -> bool:
    """A display formula or a code listing from an output (``\\begin{Verbatim}``): never
    translated. Sphinx 7.4 wraps a translated math block in ``::``, which MyST does not read
    back, and the formula then renders as ``\\[::\\]`` without any warning. A formula is
    recognised by its text starting with a newline (``$$`` on a line of its own) or by its
    source line opening with ``$$``. ``\\text{...}`` in inline ``$...$`` may be translated."""
    if message.id.startswith("\n") or message.id.startswith("\\begin{"):
        return True
    return any(_starts_display_math(path, line) for path, line in message.locations)


def entries(catalog: Catalog) -> list:
    """The catalogue's messages in file order, without the header entry."""
    return [m for m in catalog if m.id]


def update() -> None:
    """Re-extract the English text and merge it into every page's catalogue."""
    with tempfile.TemporaryDirectory() as tmp:
        templates = extract(Path(tmp))
    for page, template in templates.items():
        if po_path(page).exists():
            catalog = load(page)
            created = catalog.creation_date  # kept, so an update that changes nothing is no diff
            catalog.update(template, update_header_comment=False)
            catalog.creation_date = created
        else:
            catalog = Catalog(
                locale=LANGUAGE,
                project="aigc_course",
                version="1",
                copyright_holder="The aigc_course authors",
                msgid_bugs_address="https://github.com/aigc-course/aigc_course/issues",
                last_translator="The aigc_course authors",
                language_team="zh_CN",
                fuzzy=False,
            )
            for message in template:
                if message.id:
                    catalog.add(message.id, locations=message.locations)
        catalog.fuzzy = False
        save(catalog, page)
        print(f"{po_path(page).relative_to(ROOT)}: {len(entries(catalog))} messages")


@dataclass
class PageStatus:
    page: str
    total: int
    translated: int
    fuzzy: list
    untranslated: list
    missing: list
    obsolete: list

    @property
    def complete(self) -> bool:
        return not (self.fuzzy or self.untranslated or self.missing or self.obsolete)


def page_status(page: str, template: Catalog | None) -> PageStatus:
    catalog = load(page) if po_path(page).exists() else Catalog(locale=LANGUAGE)
    messages = entries(catalog)
    ids = {m.id for m in messages}
    wanted = {m.id for m in template if m.id} if template is not None else ids
    fuzzy = [m.id for m in messages if m.fuzzy]
    untranslated = [m.id for m in messages if not m.fuzzy and not m.string]
    return PageStatus(
        page=page,
        total=len(wanted),
        translated=sum(1 for m in messages if m.string and not m.fuzzy and m.id in wanted),
        fuzzy=fuzzy,
        untranslated=untranslated,
        missing=sorted(wanted - ids),
        obsolete=sorted(ids - wanted) + [m.id for m in catalog.obsolete.values()],
    )


# ---------------------------------------------------------------------------------------------
# The glossary lint


@dataclass(frozen=True)
class Term:
    english: str  # a regular expression, matched case-insensitively on whole words
    chinese: tuple[str, ...]  # the accepted translations (usually one)
    note: str


def glossary() -> list[Term]:
    with open(GLOSSARY, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        Term(row["english"], tuple(row["chinese"].split("|")), row.get("note", ""))
        for row in rows
    ]


_CODE_OR_MATH = re.compile(
    r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\]\([^)]*\)|<[^>]+>|(?<!\*)\*(?!\*)[^*]+\*(?!\*)", re.S
)


def prose(text: str) -> str:
    """The words of a message: inline code, math, link targets, HTML tags and italic spans
    (paper titles, kept in English) removed."""
    return _CODE_OR_MATH.sub(" ", text)


def glossary_problems(page: str, terms: list[Term] | None = None,
                      catalog: Catalog | None = None) -> list[str]:
    """Entries whose English uses a glossary term that their Chinese does not render.

    A term counts when its English form occurs in the message's prose (not in code or math);
    then one of its accepted Chinese forms must occur in the translation. An entry may opt
    out of one term with a translator comment ``glossary-skip: <english>`` (for a word used in
    another sense, e.g. "view" as in "point of view"), which keeps the exception visible.
    """
    terms = glossary() if terms is None else terms
    catalog = load(page) if catalog is None else catalog
    problems = []
    for message in entries(catalog):
        if not message.string or message.fuzzy or is_block(message):
            continue
        english = prose(message.id)
        skips = {
            c.split(":", 1)[1].strip().lower()
            for c in message.user_comments
            if c.startswith("glossary-skip:")
        }
        for term in terms:
            if term.english.lower() in skips:
                continue
            if re.search(rf"\b(?:{term.english})\b", english, re.I) and not any(
                zh in message.string for zh in term.chinese
            ):
                problems.append(
                    f"{page}: {term.english!r} should be {'/'.join(term.chinese)} in: "
                    f"{message.string[:80]!r}"
                )
    return problems


# ---------------------------------------------------------------------------------------------
# The markup lint


def _markup(text: str) -> tuple[dict[str, int], int]:
    """Counts of the inline markup in ``text`` (code, links, math, bold, italics, roles) and
    the number of ``*`` left as plain text after parsing (a bold or italic that did not
    close: CommonMark's flanking rules break ``**时间：**阅读``, a bold that ends with
    punctuation right before a Chinese character)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark").use(dollarmath_plugin)
    counts: dict[str, int] = {}
    stars = 0
    for token in md.parseInline(text)[0].children or []:
        if token.type == "text":
            stars += token.content.count("*")
        elif token.type in ("code_inline", "link_open", "math_inline", "strong_open", "em_open"):
            counts[token.type] = counts.get(token.type, 0) + 1
    return counts, stars


def markup_problems(page: str, catalog: Catalog | None = None) -> list[str]:
    """Entries whose translation lost markup: fewer inline code spans or formulas than the
    English, a different number of links, or a ``*`` that shows as a character because a bold or
    italic did not parse. (Italic and bold counts may differ: Chinese rarely italicises.)"""
    catalog = load(page) if catalog is None else catalog
    problems = []
    for number, message in enumerate(entries(catalog)):
        if not message.string or message.fuzzy:
            continue
        if is_block(message):
            if message.string != message.id:
                problems.append(f"{page} #{number}: a display formula or code listing must be "
                                f"copied unchanged (@@ {number} =): {message.string[:70]!r}")
            continue
        english, english_stars = _markup(message.id)
        chinese, chinese_stars = _markup(message.string)
        for kind in ("code_inline", "link_open", "math_inline"):
            # a link more or less breaks Sphinx's reference check; a code span or formula
            # fewer loses one (the Chinese may add one, to set a word as code)
            en, zh = english.get(kind, 0), chinese.get(kind, 0)
            if zh < en or (kind == "link_open" and zh != en):
                problems.append(f"{page} #{number}: {kind} {english.get(kind, 0)} in English, "
                                f"{chinese.get(kind, 0)} in Chinese: {message.string[:70]!r}")
        if chinese_stars > english_stars:
            problems.append(f"{page} #{number}: a bold or italic did not parse (a stray '*'; "
                            f"put a space between it and the Chinese, or move the punctuation "
                            f"outside): {message.string[:70]!r}")
    return problems


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_check(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        templates = extract(Path(tmp))
    failures = []
    pages = sorted(set(templates) | {p.relative_to(CATALOGUES).with_suffix("").as_posix()
                                      for p in CATALOGUES.rglob("*.po")})
    for page in pages:
        status = page_status(page, templates.get(page))
        if page not in templates:
            failures.append(f"{page}: a catalogue for a page the book no longer has")
        for kind in ("missing", "obsolete", "fuzzy", "untranslated"):
            for msgid in getattr(status, kind):
                failures.append(f"{page}: {kind}: {msgid[:70]!r}")
        failures.extend(glossary_problems(page))
        failures.extend(markup_problems(page))
        print(f"{page:32s} {status.translated:4d} / {status.total:4d} translated")
    for failure in failures:
        print("error:", failure, file=sys.stderr)
    if failures:
        print(f"{len(failures)} problems; run `python scripts/i18n.py update`, then translate "
              "(`todo` / `fill`)", file=sys.stderr)
        return 1
    print("catalogues: current and complete; glossary: consistent")
    return 0


def cmd_stats(args) -> int:
    for po in sorted(CATALOGUES.rglob("*.po")):
        page = po.relative_to(CATALOGUES).with_suffix("").as_posix()
        status = page_status(page, None)
        print(f"{page:32s} {status.translated:4d} translated, {len(status.fuzzy):3d} fuzzy, "
              f"{len(status.untranslated):4d} empty, of {status.total}")
    return 0


def cmd_todo(args) -> int:
    for number, message in enumerate(entries(load(args.page))):
        if args.all or message.fuzzy or not message.string:
            print(f"@@ {number}")
            print(message.id)
            if args.all and message.string:
                print(f"## current: {message.string}")
    return 0


_BLOCK = re.compile(r"^@@ (\d+)( =)?[ \t]*$", re.M)


def parse_translations(text: str) -> dict[int, str | None]:
    """``@@ N`` blocks -> ``{N: translation}``; ``None`` where the block says ``=``."""
    marks = list(_BLOCK.finditer(text))
    out: dict[int, str | None] = {}
    for mark, following in zip(marks, marks[1:] + [None]):
        end = following.start() if following else len(text)
        body = text[mark.end() + 1 : end].strip("\n")
        out[int(mark.group(1))] = None if mark.group(2) else body
    return out


def split_comments(body: str) -> tuple[list[str], str]:
    """Leading ``## glossary-skip: <term>`` lines of a block, and the translation after them."""
    comments = []
    lines = body.split("\n")
    while lines and lines[0].startswith("## glossary-skip:"):
        comments.append(lines.pop(0)[3:].strip())
    return comments, "\n".join(lines).strip("\n")


def escape_heading_number(english: str, chinese: str) -> str:
    """``4\\. 优化器``, not ``4. 优化器``: a translated heading "4. Optimizers" re-parses as a
    numbered list, and Sphinx then silently keeps the English (even with ``-W``)."""
    if re.match(r"\d+\. ", english) and re.match(r"\d+\. ", chinese):
        return re.sub(r"^(\d+)\. ", r"\1\\. ", chinese)
    return chinese


def cmd_fill(args) -> int:
    catalog = load(args.page)
    messages = entries(catalog)
    translations = parse_translations(Path(args.file).read_text(encoding="utf-8"))
    for number, text in translations.items():
        if not 0 <= number < len(messages):
            raise SystemExit(f"entry {number} does not exist (the catalogue has {len(messages)})")
        message = messages[number]
        comments: list[str] = []
        if text is None:
            text = message.id
        else:
            comments, text = split_comments(text)
        if not text.strip():
            raise SystemExit(f"entry {number}: empty translation")
        text = escape_heading_number(message.id, text)
        message.string = text
        message.user_comments = comments
        message.flags.discard("fuzzy")
        message.previous_id = []
    save(catalog, args.page)
    left = sum(1 for m in messages if m.fuzzy or not m.string)
    print(f"{args.page}: filled {len(translations)}; {left} left to translate")
    return 0


def cmd_lint(args) -> int:
    problems = glossary_problems(args.page) + markup_problems(args.page)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} glossary and markup problems")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update", help="re-extract the English text and merge it into the catalogues")
    sub.add_parser("check", help="fail unless the catalogues are current and complete")
    sub.add_parser("stats", help="per-page counts")
    todo = sub.add_parser("todo", help="print the entries to translate, as @@ N blocks")
    todo.add_argument("page", help="e.g. chapters/04_optimizers")
    todo.add_argument("--all", action="store_true", help="every entry, with its translation")
    fill = sub.add_parser("fill", help="read @@ N blocks of translations into a catalogue")
    fill.add_argument("page")
    fill.add_argument("file")
    lint = sub.add_parser("lint", help="the glossary problems of one page")
    lint.add_argument("page")
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
        return 0
    commands = {"check": cmd_check, "stats": cmd_stats, "todo": cmd_todo, "fill": cmd_fill,
                "lint": cmd_lint}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
