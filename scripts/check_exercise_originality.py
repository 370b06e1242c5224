"""Check that no exercise can be answered by copying what the page has already shown.

Usage::

    python scripts/check_exercise_originality.py                # every chapter, a table
    python scripts/check_exercise_originality.py chapters/04_optimizers.ipynb -v

The rule (issue 17, section 1): no worked solution may be found in the cells above its
exercise, line for line or up to renamed variables, in code cells and in shown source alike.

For each exercise or milestone (a markdown heading that contains "Exercise" or "Milestone"),
its worked solution is the code of the cells tagged ``solution`` in its section (up to the
next heading of the same or a higher level). What the page shows above the heading is:

- the source of every code cell above it, except the solution cells of earlier exercises
  (folded in the book, removed from the student edition, and written by the learner anyway);
- the text of those cells' outputs, which is where ``show_source`` puts our implementation
  (its ``text/plain`` is the source itself), and any ``print(source(...))``;
- the fenced code blocks of the markdown cells above it.

Both sides are cut into physical lines of Python tokens and normalised "up to renamed
variables":

- comments, docstrings and blank lines are dropped;
- each name becomes a placeholder, numbered in order of appearance within the line, unless it
  is a keyword, a builtin, an attribute (``.grad``, ``.append``), a keyword argument
  (``dtype=``) or a function or class of a library (one the notebook imports with ``from``,
  or calls through a module, as in ``ac.randperm``). So ``out.append(ids[i])`` and
  ``res.append(seq[k])`` are the same line, and ``x = x + y`` and ``x = y + y`` are not;
- a module qualifier is dropped (``ac.zeros(n)`` is ``zeros(n)``), and a string that is an
  identifier is a name too (``state["t"]`` is ``state["step"]``);
- ``return E``, ``yield E`` and ``x = E`` share their expression ``E``, when it has four
  tokens or more: returning what the page assigned is still a copy.

Lines that say nothing on their own are not counted: ``def`` and ``class`` headers and
decorators (the skeleton gives the signature), imports, lines with fewer than three tokens
(``return x``, ``else:``, ``pass``, ``)``), lines that only store a name
(``self.stride = stride``), and lines of the exercise's own skeleton (given, not written).
The score of an exercise is the fraction of the remaining solution lines found above it; at
50% or more ("at least half") the exercise can be answered by copying, and the check fails.

Nothing is executed: the notebooks' committed outputs are read, in well under a second per
chapter.
"""

from __future__ import annotations

import argparse
import builtins
import io
import keyword
import re
import sys
import textwrap
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SOLUTION_TAG = "solution"

#: the share of a solution's lines found above its exercise at which the check fails
THRESHOLD = 0.5

HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
EXERCISE = re.compile(r"\b(Exercise|Milestone)\b")
MILESTONE = re.compile(r"\bMilestone\b")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

_BUILTINS = frozenset(dir(builtins))
_KEEP = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | _BUILTINS
_SKIP = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}
#: a line whose first token is one of these is a header or an import, not counted
_HEADERS = frozenset({"def", "class", "@", "import", "from", "async"})
MIN_TOKENS = 3
#: a core (the expression of ``return E`` or ``x = E``) is compared only from this length on
MIN_CORE = 4
#: string literals that are identifiers (``state["step"]``, ``"momentum_buffer"``) are renamed
KEY = re.compile(r"""(['"])[A-Za-z_]\w*\1""")
#: the usual names of imported modules; ``import`` statements in the notebook add more
COMMON_MODULES = frozenset({"np", "torch", "ac", "aigc_course", "F", "nn", "math", "optim"})
IMPORT = re.compile(r"^\s*import\s+([\w.]+)(?:\s+as\s+(\w+))?", re.MULTILINE)
FROM_IMPORT = re.compile(r"^\s*from\s+[\w.]+\s+import\s+([\w ,()\\]+)", re.MULTILINE)

Line = tuple[str, ...]


# --------------------------------------------------------------------------- normalising


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    """The tokens of ``text``. A fragment (``show_source(..., start=...)``, a printed output)
    may not tokenize as a whole: an unmatched dedent, a bracket left open. Then the complete
    lines before the error are kept, and tokenizing starts again after it."""
    lines = text.splitlines(keepends=True)
    out: list[tokenize.TokenInfo] = []
    start = 0
    while start < len(lines):
        got: list[tokenize.TokenInfo] = []
        try:
            chunk = textwrap.dedent("".join(lines[start:]))
            got.extend(tokenize.generate_tokens(io.StringIO(chunk).readline))
            complete = None
        except (tokenize.TokenError, IndentationError, SyntaxError):
            ends = [t.start[0] for t in got if t.type == tokenize.NEWLINE]
            complete = max(ends, default=0)
            got = [t for t in got if t.start[0] <= complete]
        out += [
            t._replace(start=(t.start[0] + start, t.start[1]), end=(t.end[0] + start, t.end[1]))
            for t in got
        ]
        if complete is None:
            break
        start += max(complete, 1)  # skip at least the line that failed
    return out


def _strip_magics(text: str) -> str:
    """IPython's ``%magic`` and ``!shell`` lines are not Python: blank them."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines()
    )


def _is_docstring(toks: list[tokenize.TokenInfo], i: int) -> bool:
    """Is the STRING token at ``i`` a statement of its own (a docstring)?"""
    k = i - 1
    while k >= 0 and toks[k].type in (tokenize.NL, tokenize.COMMENT):
        k -= 1
    if k >= 0 and toks[k].type not in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
        return False
    j = i + 1
    while j < len(toks) and toks[j].type == tokenize.STRING:  # implicit concatenation
        j += 1
    return j >= len(toks) or toks[j].type in (
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.COMMENT,
        tokenize.ENDMARKER,
    )


def module_names(sources: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The names under which ``sources`` import modules (``np``, ``ac``, ``F``, ...), and the
    names of the functions and classes they use from modules (``zeros``, ``randperm``).

    A call qualified by a module (``ac.zeros(n)``) is the same line as the bare one
    (``zeros(n)``), and these API names are never renamed: a variable can be renamed, a
    function of the library cannot.
    """
    modules, api = set(COMMON_MODULES), set()
    for source in sources:
        for m in IMPORT.finditer(source):
            modules.add(m.group(2) or m.group(1).split(".")[0])
        for m in FROM_IMPORT.finditer(source):
            for item in m.group(1).split(","):
                name = item.split(" as ")[-1].strip(" ()\\")
                if name:
                    api.add(name)
    alternatives = "|".join(map(re.escape, sorted(modules)))
    pattern = re.compile(rf"\b(?:{alternatives})\.(\w+)")
    for source in sources:
        api.update(pattern.findall(source))
    return frozenset(modules), frozenset(api - _KEEP)


def _normalise(words: list[tuple[bool, str]]) -> Line:
    """Number the renameable names of one line in order of first appearance."""
    mapping: dict[str, str] = {}
    return tuple(mapping.setdefault(w, f"v{len(mapping)}") if rename else w for rename, w in words)


def _core(words: list[tuple[bool, str]]) -> list[tuple[bool, str]]:
    """The expression a line returns, yields or assigns (``return E``, ``x = E``), else []."""
    if words and words[0] == (False, "return"):
        return words[1:]
    if words[:2] == [(False, "yield"), (False, "from")]:
        return words[2:]
    if words and words[0] == (False, "yield"):
        return words[1:]
    depth, last = 0, None
    for k, (rename, w) in enumerate(words):
        if not rename and w in ("(", "[", "{"):
            depth += 1
        elif not rename and w in (")", "]", "}"):
            depth -= 1
        elif not rename and w == "=" and depth == 0:
            last = k
    return words[last + 1 :] if last is not None else []


def code_lines(
    text: str, modules: frozenset[str] = frozenset(), api: frozenset[str] = frozenset()
) -> list[tuple[str, Line, Line]]:
    """Cut Python ``text`` into physical lines and normalise each up to renamed variables.

    Returns ``(original line, normalised line, normalised core)`` for every line that holds
    tokens; the core is the expression the line returns or assigns (empty if none), so that
    ``return E`` and ``x = E`` share it.

    >>> [n for _, n, _ in code_lines("out.append(ids[i])  # keep it\\n")]
    [('v0', '.', 'append', '(', 'v1', '[', 'v2', ']', ')')]
    >>> code_lines("res.append(seq[k])")[0][1] == code_lines("out.append(ids[i])")[0][1]
    True
    >>> code_lines("x = x + y")[0][1] == code_lines("x = y + y")[0][1]
    False
    >>> code_lines("keep = ac.ones(T, T).tril()", {"ac"}, {"ones"})[0][2]
    ('ones', '(', 'v0', ',', 'v0', ')', '.', 'tril', '(', ')')
    >>> code_lines("return ones(n, n).tril()", {"ac"}, {"ones"})[0][2]
    ('ones', '(', 'v0', ',', 'v0', ')', '.', 'tril', '(', ')')
    >>> [n for _, n, _ in code_lines("def f(x):\\n    'Doc.'\\n    return x.sum(dim=0)")]
    [('def', 'v0', '(', 'v1', ')', ':'), ('return', 'v0', '.', 'sum', '(', 'dim', '=', '0', ')')]
    """
    text = textwrap.dedent(_strip_magics(text))
    toks = _tokens(text)
    physical = text.splitlines()
    by_line: dict[int, list[tuple[bool, str]]] = {}
    depth = 0
    for i, tok in enumerate(toks):
        if tok.type in _SKIP:
            continue
        if tok.type == tokenize.STRING and _is_docstring(toks, i):
            continue
        row, word, rename = tok.start[0], tok.string, False
        prev = toks[i - 1].string if i > 0 else ""
        nxt = toks[i + 1].string if i + 1 < len(toks) else ""
        if tok.type == tokenize.OP:
            if word in ("(", "[", "{"):
                depth += 1
            elif word in (")", "]", "}"):
                depth = max(depth - 1, 0)
            if word == "." and prev in modules and (i < 2 or toks[i - 2].string != "."):
                continue  # the dot of ac.zeros: dropped with its module
        elif tok.type == tokenize.NAME and word not in _KEEP and word not in api:
            if word in modules and nxt == "." and prev != ".":
                continue  # ac.zeros(...) is zeros(...)
            is_attribute = prev == "."
            is_keyword_argument = depth > 0 and nxt == "=" and prev in ("(", ",")
            rename = not (is_attribute or is_keyword_argument)
        elif tok.type == tokenize.STRING and KEY.fullmatch(word):
            rename = True  # a key such as state["step"] names a value, as a variable does
        by_line.setdefault(row, []).append((rename, word))
    return [
        (
            physical[row - 1].strip() if row <= len(physical) else "",
            _normalise(words),
            _normalise(_core(words)),
        )
        for row, words in sorted(by_line.items())
    ]


def counted(line: Line) -> bool:
    """Does a normalised line count? Not a ``def``/``class`` header, a decorator, an import,
    a line of fewer than three tokens (``return x``, ``else:``, ``)``), or one that only
    stores a name (``self.stride = stride``, ``x = y``)."""
    if len(line) < MIN_TOKENS or line[0] in _HEADERS:
        return False
    stores_a_name = line[-2:] == ("=", "v1") and line[:-2] in (("v0",), ("v0", ".", line[2]))
    return not stores_a_name


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/plain", "") if isinstance(data, dict) else ""


def shown_text(cell) -> list[str]:
    """Every piece of Python a cell shows a reader: its source and its outputs' text
    (``show_source``'s output is the source itself), or a markdown cell's fenced code."""
    if cell.cell_type == "markdown":
        return FENCE.findall(cell.source)
    if cell.cell_type != "code":
        return []
    texts = [cell.source]
    texts += [_output_text(o) for o in cell.get("outputs", [])]
    return [t for t in texts if t]


# --------------------------------------------------------------------------- exercises


@dataclass
class Exercise:
    notebook: str
    title: str
    cell: int  # index of the markdown cell holding the heading
    stars: int
    milestone: bool
    solution: list[tuple[str, Line, Line]] = field(default_factory=list)  # counted lines
    skeleton: set[Line] = field(default_factory=set)
    found: list[str] = field(default_factory=list)  # solution lines found above
    own_lines: int = 0  # lines of code in the solution that the skeleton does not give

    @property
    def n_lines(self) -> int:
        return len(self.solution)

    @property
    def fraction(self) -> float:
        return len(self.found) / self.n_lines if self.n_lines else 0.0

    @property
    def copyable(self) -> bool:
        return self.fraction >= THRESHOLD


def _headings(source: str) -> list[tuple[int, str, int]]:
    """``(level, title, offset)`` of the markdown headings in ``source`` (not in fences)."""
    out, offset, in_fence = [], 0, False
    for line in source.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        m = None if in_fence else HEADING.match(line.rstrip("\n"))
        if m:
            out.append((len(m.group(1)), m.group(2), offset))
        offset += len(line)
    return out


def find_exercises(nb: nbformat.NotebookNode, name: str = "") -> list[Exercise]:
    """The exercises and milestones of a notebook, each with its solution, its skeleton and
    the solution lines that the cells above its heading already show."""
    # every heading, in order: (cell index, level, title, offset in the cell)
    headings = [
        (i, level, title, offset)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        for level, title, offset in _headings(cell.source)
    ]
    modules, api = module_names([c.source for c in nb.cells if c.cell_type == "code"])
    exercises = []
    for h, (i, level, title, offset) in enumerate(headings):
        if not EXERCISE.search(title):
            continue
        # the section runs to the next heading of the same or a higher level, or to the next
        # exercise, whatever its level
        end = len(nb.cells)
        for j, lvl, ttl, _ in headings[h + 1 :]:
            if lvl <= level or EXERCISE.search(ttl):
                end = max(j, i + 1)
                break
        exercise = Exercise(
            notebook=name,
            title=title,
            cell=i,
            stars=title.count("★"),
            milestone=bool(MILESTONE.search(title)),
        )
        solution, solution_seen = [], False
        for cell in nb.cells[i + 1 : end]:
            if cell.cell_type != "code":
                continue
            if SOLUTION_TAG in cell.metadata.get("tags", []):
                solution_seen = True
                solution += code_lines(cell.source, modules, api)
            elif not solution_seen:  # the skeleton: given, not written
                exercise.skeleton |= {n for _, n, _ in code_lines(cell.source, modules, api)}
        own = [line for line in solution if line[1] not in exercise.skeleton]
        exercise.own_lines = len(own)
        exercise.solution = [line for line in own if counted(line[1])]
        lines: set[Line] = set()
        cores: set[Line] = set()
        above = [c for c in nb.cells[:i] if SOLUTION_TAG not in c.metadata.get("tags", [])]
        # the heading's own cell counts up to the heading
        texts = [t for c in above for t in shown_text(c)]
        texts += FENCE.findall(nb.cells[i].source[:offset])
        for text in texts:
            for _, line, core in code_lines(text, modules, api):
                lines.add(line)
                cores.add(core)
        exercise.found = [
            s
            for s, line, core in exercise.solution
            if line in lines or (len(core) >= MIN_CORE and core in cores)
        ]
        exercises.append(exercise)
    return exercises


def chapter_notebooks() -> list[Path]:
    return sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))


def check(paths: list[Path] | None = None) -> dict[str, list[Exercise]]:
    """``{notebook name: its exercises}`` for the given notebooks (default: every chapter)."""
    return {
        p.name: find_exercises(nbformat.read(p, as_version=4), p.name)
        for p in (paths or chapter_notebooks())
    }


def table(results: dict[str, list[Exercise]]) -> str:
    """A plain-text table, one row per exercise, offenders marked ``COPYABLE``."""
    rows = [("ch", "exercise", "★", "own", "lines", "found", "share", "")]
    for name, exercises in results.items():
        for e in exercises:
            rows.append(
                (
                    name.split("_")[0],
                    e.title[:60],
                    str(e.stars),
                    str(e.own_lines),
                    str(e.n_lines),
                    str(len(e.found)),
                    f"{e.fraction:.0%}",
                    "COPYABLE" if e.copyable else "",
                )
            )
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/NN_*.ipynb")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the lines found")
    args = parser.parse_args(argv)
    results = check([p.resolve() for p in args.notebooks] or None)
    print(table(results))
    offenders = [e for exercises in results.values() for e in exercises if e.copyable]
    if args.verbose:
        for e in offenders:
            print(f"\n{e.notebook}, {e.title}: {len(e.found)} of {e.n_lines} lines above")
            for line in e.found:
                print(f"    {line}")
    total = sum(len(v) for v in results.values())
    print(
        f"\n{len(offenders)} of {total} exercises can be answered by copying (>= {THRESHOLD:.0%})"
    )
    return 1 if offenders else 0


if __name__ == "__main__":
    sys.exit(main())
