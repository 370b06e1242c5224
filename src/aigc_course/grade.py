"""Grade a class's notebooks: ``python -m aigc_course.grade SUBMISSIONS... --out gradebook.csv``.

Each SUBMISSION is a notebook, or a folder of notebooks; the student's name is the file's
stem, or the folder's name. For every notebook the grader

1. reads it (a corrupt file is an error for that student, never the end of the run);
2. finds its chapter from its title, and reports a notebook of another chapter than
   ``--chapter`` as an error;
3. checks that the cells of the reference notebook (``chapters/NN_*.ipynb``, solutions
   aside) are all there and in order: matched by cell id, or by their text where a tool such
   as Colab dropped the ids; deleted or reordered cells are an error;
4. runs the student's cells in a fresh kernel, offline, with a per-notebook timeout, except
   the checker calls: the student's copies of those are not trusted (a student may have edited
   them, or printed a fake ``✓``);
5. then, in that kernel, calls the real checkers (looked up before any student code ran) on
   the student's functions, one exercise at a time, each with its own time limit, and reports
   an error if the submission replaced any function, class or module of ``aigc_course``,
   ``torch`` or ``numpy`` (a monkeypatched checker).

It writes one CSV row per student and exercise (student, chapter, exercise, status, feedback),
where status is ``passed``, ``failed``, ``not attempted`` or ``error``, and prints a summary
table (students x exercises).

What it cannot see: the checkers test behaviour on random and awkward inputs, not style or
efficiency; and the student's code runs in the same process as the checkers, so a
determined student who rewrites the grader's own bookkeeping could still forge a verdict.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .exercises._verdict import ERROR, MARKER, NOT_ATTEMPTED, PASSED

__all__ = ["Exercise", "Reference", "Result", "grade_notebook", "main"]

#: The reference notebooks: ``chapters/`` of the repository this package was installed from.
CHAPTERS = Path(__file__).resolve().parents[2] / "chapters"
CHECK_CALL = re.compile(r"\bch(\d\d)\.(check_\w+)\s*\(")
STATUS_LETTER = {PASSED: "✓", "failed": "✗", NOT_ATTEMPTED: "·", ERROR: "E"}


@dataclass(frozen=True)
class Exercise:
    """One checker call of the reference notebook, e.g. ``ch01.check_offset(offset)``."""

    id: str  # "offset": the checker's name without "check_"
    checker: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    cell_id: str | None = None  # the reference cell that calls the checker
    cell_source: str = ""


@dataclass
class Reference:
    """What a chapter's reference notebook says a submission must contain."""

    chapter: str
    title: str
    anchors: list[dict]  # cells that must be present, in order: {"id", "source", "type"}
    exercises: list[Exercise]


@dataclass
class Result:
    student: str
    path: Path
    chapter: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # exercise, status, feedback
    seconds: float = 0.0


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _title(nb: dict) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _checker_calls(source: str) -> list[ast.Call]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [
        node.value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and isinstance(node.value.func.value, ast.Name)
        and re.fullmatch(r"ch\d\d", node.value.func.value.id)
        and node.value.func.attr.startswith("check_")
    ]


def load_reference(path: Path) -> Reference:
    """Read a reference chapter notebook: its title, its required cells, its exercises."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    chapter = path.name[:2]
    anchors, exercises = [], []
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        source = _source(cell)
        if "solution" in tags:
            continue
        if cell["cell_type"] == "code" and "NotImplementedError" in source:
            continue  # a skeleton: the student rewrites it
        for call in _checker_calls(source) if cell["cell_type"] == "code" else []:
            exercises.append(
                Exercise(
                    id=call.func.attr.removeprefix("check_"),
                    checker=call.func.attr,
                    args=tuple(ast.unparse(a) for a in call.args),
                    kwargs=tuple((k.arg, ast.unparse(k.value)) for k in call.keywords),
                    cell_id=cell.get("id"),
                    cell_source=_normal(source),
                )
            )
        anchors.append({"id": cell.get("id"), "source": _normal(source), "type": cell["cell_type"]})
    return Reference(chapter, _title(nb), anchors, exercises)


def load_references(chapters: Path = CHAPTERS) -> dict[str, Reference]:
    return {p.name[:2]: load_reference(p) for p in sorted(chapters.glob("[0-9][0-9]_*.ipynb"))}


class SubmissionError(Exception):
    """The whole notebook cannot be graded; the message says why."""


def _check_structure(nb: dict, ref: Reference) -> None:
    """Raise :class:`SubmissionError` if a reference cell is missing or out of order."""
    cells = nb["cells"]
    by_id = {c.get("id"): i for i, c in enumerate(cells) if c.get("id")}
    texts: dict[str, list[int]] = {}
    for i, c in enumerate(cells):
        texts.setdefault(_normal(_source(c)), []).append(i)
    position = -1
    for k, anchor in enumerate(ref.anchors):
        found = [by_id[anchor["id"]]] if anchor["id"] in by_id else texts.get(anchor["source"], [])
        after = [i for i in found if i > position]
        first_line = (anchor["source"].splitlines() or [""])[0][:60]
        if not after:
            what = "reordered cells" if found else "a deleted cell"
            raise SubmissionError(
                f"{what}: the reference's {anchor['type']} cell {k + 1} ({first_line!r}) "
                + ("comes too early" if found else "is missing")
            )
        position = after[0]


def _strip_checker_calls(source: str) -> str:
    """The cell without its top-level checker calls (the grader makes its own)."""
    lines = source.splitlines()
    for call in reversed(_checker_calls(source)):
        # the statement is the call itself: its lines go, the rest of the cell stays
        for n in range(call.lineno - 1, call.end_lineno):
            lines[n] = ""
    return "\n".join(lines)


def _shown_ticks(nb: dict, ref: Reference) -> set[str]:
    """The exercises whose checker cell, as submitted, shows a ``✓`` line in its output."""
    by_id = {c.get("id"): c for c in nb["cells"] if c.get("id")}
    by_text = {_normal(_source(c)): c for c in nb["cells"]}
    shown = set()
    for exercise in ref.exercises:
        cell = by_id.get(exercise.cell_id) or by_text.get(exercise.cell_source)
        for out in (cell or {}).get("outputs", []):
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if any(line.startswith("✓") for line in text.splitlines()):
                shown.add(exercise.id)
    return shown


def _kernel_environment() -> dict:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TRANSFORMERS_VERBOSITY="error",
        MPLBACKEND="Agg",
    )
    return env


def _run(nb: dict, ref: Reference, timeout: float, exercise_timeout: float) -> list[tuple]:
    """Execute the submission in a fresh kernel and return the real checkers' verdicts."""
    with tempfile.TemporaryDirectory(prefix="aigc-grade-") as workdir:  # files it writes go here
        return _run_in(nb, ref, timeout, exercise_timeout, workdir)


def _run_in(nb: dict, ref: Reference, timeout: float, exercise_timeout: float, workdir: str):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nonce = secrets.token_hex(8)
    calls = [
        {"exercise": e.id, "checker": e.checker, "args": list(e.args), "kwargs": dict(e.kwargs)}
        for e in ref.exercises
    ]
    cells = [
        nbformat.v4.new_code_cell(
            f"from aigc_course.exercises import _verdict as _grader\n_grader.arm({ref.chapter!r})"
        )
    ]
    student_cells = []
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            code = nbformat.v4.new_code_cell(_strip_checker_calls(_source(cell)))
            student_cells.append(code)
            cells.append(code)
    cells.append(
        nbformat.v4.new_code_cell(
            "from aigc_course.exercises import _verdict as _grader\n"
            f"_grader.grade_calls({calls!r}, globals(), {exercise_timeout!r}, {nonce!r})"
        )
    )
    run = nbformat.v4.new_notebook(cells=cells)
    deadline = time.monotonic() + timeout
    client = NotebookClient(
        run,
        timeout=int(timeout),
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": workdir}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    env = _kernel_environment()
    old_env = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    except CellTimeoutError:
        raise SubmissionError(f"timed out after {timeout:g} s (an infinite loop?)") from None
    except DeadKernelError as e:
        raise SubmissionError(f"the kernel died: {e}") from None
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    first_error = ""
    for k, cell in enumerate(student_cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") != "ExerciseError":
                first_error = f"{out['ename']}: {out['evalue']} (in code cell {k + 1})"
                break
        if first_error:
            break
    for out in cells[-1].get("outputs", []):
        for line in out.get("text", "").splitlines():
            if line.startswith(MARKER + nonce):
                verdicts = json.loads(line[len(MARKER + nonce) :])
                return [
                    (
                        v["exercise"],
                        v["status"],
                        v["feedback"]
                        + (
                            f" [the notebook raised {first_error}]"
                            if v["status"] == ERROR and first_error
                            else ""
                        ),
                    )
                    for v in verdicts
                ]
    errors = [o for o in cells[-1].get("outputs", []) if o.get("output_type") == "error"]
    reason = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else "no verdicts"
    raise SubmissionError(f"the grader's checks did not run ({reason})")


def grade_notebook(
    path: Path,
    student: str,
    references: dict[str, Reference],
    chapter: str | None = None,
    timeout: float = 120.0,
    exercise_timeout: float = 30.0,
) -> Result:
    """Grade one notebook; every failure becomes rows of status ``error``, never an exception."""
    start = time.monotonic()
    result = Result(student, path, chapter or "?")
    expected = references.get(chapter) if chapter else None
    try:
        try:
            nb = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
                raise ValueError("no list of cells")
        except (ValueError, UnicodeDecodeError) as e:
            raise SubmissionError(f"not a notebook (corrupt JSON: {e})") from None
        title = _title(nb)
        found = next((r for r in references.values() if r.title and r.title == title), None)
        if found is None:
            raise SubmissionError(f"no chapter has the title {title!r}")
        if expected is not None and found.chapter != expected.chapter:
            raise SubmissionError(
                f"a notebook of another chapter: chapter {found.chapter} ({found.title!r}), "
                f"not chapter {expected.chapter} ({expected.title!r})"
            )
        expected = found
        result.chapter = found.chapter
        _check_structure(nb, found)
        rows = _run(nb, found, timeout, exercise_timeout)
        # The notebook's own verdict, compared with the grader's: a ✓ the code does not earn
        # is forged (or stale), and worth the instructor's attention.
        shown = _shown_ticks(nb, found)
        result.rows = [
            (x, status, feedback + " [the submitted notebook shows a ✓ here: forged or stale]")
            if x in shown and status != PASSED
            else (x, status, feedback)
            for x, status, feedback in rows
        ]
    except SubmissionError as e:
        exercises = [x.id for x in expected.exercises] if expected else ["(notebook)"]
        result.rows = [(x, ERROR, str(e)) for x in exercises]
    except Exception as e:  # the grader's own failure on this notebook must not stop the run
        exercises = [x.id for x in expected.exercises] if expected else ["(notebook)"]
        result.rows = [(x, ERROR, f"could not grade: {type(e).__name__}: {e}") for x in exercises]
    result.seconds = time.monotonic() - start
    return result


def submissions(paths: list[Path]) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: a notebook is named by its stem, a folder by its name."""
    found = []
    for path in paths:
        if path.is_dir():
            notebooks = sorted(
                p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
            )
            found += [(path.name, p) for p in notebooks]
        else:
            found.append((path.stem, path))
    return found


def summary(results: list[Result]) -> str:
    """A table of students x exercises: ✓ passed, ✗ failed, · not attempted, E error."""
    columns = []
    for r in results:
        for exercise, _, _ in r.rows:
            if (r.chapter, exercise) not in columns:
                columns.append((r.chapter, exercise))
    students = sorted({r.student for r in results})
    cell = {(r.student, r.chapter, x): s for r in results for x, s, _ in r.rows}
    width = max([len(s) for s in students] + [7])
    lines = ["  ".join([" " * width] + [f"{i + 1:>2}" for i in range(len(columns))])]
    for s in students:
        marks = [STATUS_LETTER.get(cell.get((s, c, x), ""), " ") for c, x in columns]
        passed = sum(m == "✓" for m in marks)
        lines.append(
            "  ".join([s.ljust(width)] + [f"{m:>2}" for m in marks]) + f"   {passed}/{len(marks)}"
        )
    lines.append("")
    lines += [f"{i + 1:>2}: {c}.{x}" for i, (c, x) in enumerate(columns)]
    lines.append("✓ passed  ✗ failed  · not attempted  E error")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="+", type=Path, help="notebooks or folders")
    parser.add_argument("--out", type=Path, default=Path("gradebook.csv"))
    parser.add_argument("--chapter", help="the assigned chapter, e.g. 01 (default: any)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per notebook")
    parser.add_argument("--exercise-timeout", type=float, default=30.0, help="seconds per check")
    parser.add_argument("--chapters", type=Path, default=CHAPTERS, help="reference notebooks")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    references = load_references(args.chapters)
    chapter = f"{int(args.chapter):02d}" if args.chapter else None
    if chapter and chapter not in references:
        parser.error(f"no chapter {chapter} in {args.chapters}")
    todo = submissions(args.submissions)
    grade_args = (references, chapter, args.timeout, args.exercise_timeout)
    if args.jobs > 1:  # one process per notebook at a time, each with its own kernel
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(grade_notebook, p, s, *grade_args) for s, p in todo]
            results = [f.result() for f in tqdm(futures, desc="grading", unit="notebook")]
    else:
        results = [
            grade_notebook(p, s, *grade_args)
            for s, p in tqdm(todo, desc="grading", unit="notebook")
        ]
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "chapter", "exercise", "status", "feedback"])
        for r in results:
            for exercise, status, feedback in r.rows:
                writer.writerow([r.student, r.path.name, r.chapter, exercise, status, feedback])
    print(summary(results))
    seconds = [r.seconds for r in results]
    if seconds:
        print(f"{len(results)} notebook(s), {sum(seconds) / len(seconds):.1f} s each on average")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
