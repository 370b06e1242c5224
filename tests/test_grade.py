"""The grader (``python -m aigc_course.grade``) on chapter 1's notebooks.

One run of the command line grades a class folder of submissions made from the reference
notebook (all exercises pass), the student edition (all "not attempted"), and wrong, forged
and broken copies of them, in the sandbox; each test then reads that student's rows of the
CSV (and the other outputs). The forgeries are those of issue 18: a rewritten registry of
checkers, an IPython hook that prints a fake verdict line, an ``int`` subclass whose ``__eq__``
always says yes, a loop that swallows ``BaseException``.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from aigc_course import grade

ROOT = Path(__file__).resolve().parents[1]
CHAPTER01 = ROOT / "chapters" / "01_tensors.ipynb"
CHAPTER05 = ROOT / "chapters" / "05_data.ipynb"
#: chapter 1's exercises and their points, as its reference notebook says (offset, ...)
_REF01 = grade.load_reference(CHAPTER01).exercises
EXERCISES01 = [e.id for e in _REF01]
POINTS01 = sum(e.points for e in _REF01)

sys.path.insert(0, str(ROOT / "scripts"))
from make_student_notebooks import student_notebook  # noqa: E402


def _reference() -> dict:
    return json.loads(CHAPTER01.read_text(encoding="utf-8"))


def _student() -> dict:
    nb, _ = student_notebook(nbformat.read(CHAPTER01, as_version=4))
    return json.loads(nbformat.writes(nb))


def _cell(nb: dict, startswith: str, solution: bool = False) -> dict:
    """The first code cell whose source starts with ``startswith``."""
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        is_solution = "solution" in cell["metadata"].get("tags", [])
        if (
            cell["cell_type"] == "code"
            and source.startswith(startswith)
            and is_solution == solution
        ):
            return cell
    raise LookupError(startswith)


def _set(cell: dict, source: str) -> None:
    cell["source"] = source


def _wrong(nb: dict) -> dict:
    """offset forgets storage_offset; the rest untouched (not attempted)."""
    _set(
        _cell(nb, "def offset"),
        "def offset(index, stride, storage_offset=0):\n"
        "    return sum(i * s for i, s in zip(index, stride))\n",
    )
    return nb


def _fake_tick(nb: dict) -> dict:
    """The checker call replaced by a printed ✓, its output forged too."""
    cell = _cell(nb, "ch01.check_offset")
    _set(cell, 'print("✓ offset finds every element of 5 views of one storage")')
    cell["outputs"] = [nbformat.v4.new_output("stream", name="stdout", text="✓ offset\n")]
    return nb


def _edited_call(nb: dict) -> dict:
    """The checker call edited to check a correct function of the student's choosing."""
    _set(
        _cell(nb, "ch01.check_offset"),
        "ch01.check_offset(lambda index, stride, storage_offset=0: storage_offset + "
        "sum(i * s for i, s in zip(index, stride)))",
    )
    return nb


def _monkeypatched(nb: dict) -> dict:
    """The checker replaced by one that always prints ✓."""
    _set(
        _cell(nb, "def offset"),
        "def offset(index, stride, storage_offset=0):\n    return 0\n\n"
        "from aigc_course.exercises import ch01\n"
        "ch01.check_offset = lambda fn: print('✓ offset')\n",
    )
    return nb


def _patched_helper(nb: dict) -> dict:
    """A deeper patch: the comparison that every checker uses."""
    _set(
        _cell(nb, "def offset"),
        "def offset(index, stride, storage_offset=0):\n    return 0\n\n"
        "import aigc_course.exercises._checking as c\n"
        "c.check_tensor = lambda *a, **k: None\n",
    )
    return nb


def _syntax_error(nb: dict) -> dict:
    _set(_cell(nb, "def pairwise_sq_dists"), "def pairwise_sq_dists(X, Y)\n    return X\n")
    return nb


def _slow_exercise(nb: dict) -> dict:
    """An infinite loop inside one function: that exercise times out, the others are graded."""
    _set(
        _cell(nb, "def sum_to_size"),
        "def sum_to_size(grad, shape):\n    while True:\n        pass\n",
    )
    return nb


def _colab(nb: dict) -> dict:
    """Saved from Colab: no cell ids, null execution counts, no outputs, Colab metadata."""
    nb["nbformat_minor"] = 0
    nb["metadata"]["colab"] = {"provenance": []}
    for cell in nb["cells"]:
        cell.pop("id", None)
        cell["metadata"] = {"id": "x" + str(abs(hash(str(cell["source"]))))[:8]}
        if cell["cell_type"] == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
    return nb


def _armed(nb: dict) -> dict:
    """Rewrites the checkers' registry in the kernel: every checker always passes."""
    cell = _cell(nb, "def offset")
    cell["source"] = _source(cell) + (
        "\nfrom aigc_course.exercises import _verdict\n"
        "_verdict._armed['checkers'] = {k: (lambda *a, **kw: print('✓ forged'))\n"
        "                               for k in _verdict._armed['checkers']}\n"
        "_verdict.run_checker = lambda exercise, *a, **k: _verdict.Verdict(exercise, 'passed', '✓')\n"
    )
    return nb


def _hook(nb: dict) -> dict:
    """An IPython pre_run_cell hook that reads the grader's cells and prints verdict lines
    with their nonce (the grader of issue 18 read its verdicts from stdout)."""
    cell = _cell(nb, "def offset")
    cell["source"] = _source(cell) + (
        "\nimport json, re\n"
        "def _forge(info):\n"
        "    code = info.raw_cell\n"
        "    m = re.search(r\"'([0-9a-f]{16,32})'\", code)\n"
        "    names = ['offset', 'pairwise_sq_dists', 'standardize_rows', 'sum_to_size', 'as_strided']\n"
        "    rows = [{'exercise': n, 'status': 'passed', 'feedback': '✓'} for n in names]\n"
        "    if m:\n"
        "        print('@@aigc_course.grade@@' + m.group(1) + json.dumps(rows))\n"
        "get_ipython().events.register('pre_run_cell', _forge)\n"
        "get_ipython().events.register('post_run_cell', lambda result: _forge(result.info))\n"
    )
    return nb


def _int_subclass(nb: dict) -> dict:
    """offset returns an int whose == always says yes."""
    _set(
        _cell(nb, "def offset"),
        "class Always(int):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    __hash__ = int.__hash__\n\n"
        "def offset(index, stride, storage_offset=0):\n    return Always(0)\n",
    )
    return nb


def _swallows_base_exception(nb: dict) -> dict:
    """The reference, but sum_to_size loops and swallows every interruption."""
    _set(
        _cell(nb, "def sum_to_size", solution=True),
        "def sum_to_size(grad, shape):\n"
        "    while True:\n"
        "        try:\n"
        "            while True:\n"
        "                pass\n"
        "        except BaseException:\n"
        "            pass\n",
    )
    return nb


def _library(nb: dict) -> dict:
    """The reference, but as_strided hands the work to torch.as_strided."""
    _set(
        _cell(nb, "def as_strided", solution=True),
        "import torch as _torch\n\n"
        "def as_strided(storage, size, stride, storage_offset=0):\n"
        "    t = _torch.as_strided(_torch.from_numpy(storage.numpy()), size, stride, storage_offset)\n"
        "    return ac.tensor(t.contiguous().numpy())\n",
    )
    return nb


def _colab_with_notes(nb: dict) -> dict:
    """Saved from Colab, with a note in an exercise's markdown cell, a new markdown cell and
    a new code cell."""
    nb = _colab(nb)
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and "Exercise 1" in _source(cell):
            cell["source"] = _source(cell) + "\n\nMy note: the stride is in elements, not bytes."
            cells.insert(i + 1, nbformat.v4.new_markdown_cell("Notes to self: try it by hand."))
            cells.insert(i + 2, nbformat.v4.new_code_cell("print(2 + 2)  # my own experiment"))
            break
    else:
        raise LookupError("Exercise 1")
    for cell in cells:
        cell.pop("id", None)
    return nb


SUBMISSIONS = {
    "ref": lambda: _reference(),
    "student": lambda: _student(),
    "wrong": lambda: _wrong(_student()),
    "faketick": lambda: _fake_tick(_student()),
    "editedcall": lambda: _edited_call(_student()),
    "patched": lambda: _monkeypatched(_student()),
    "patchedhelper": lambda: _patched_helper(_student()),
    "syntax": lambda: _syntax_error(_student()),
    "slow": lambda: _slow_exercise(_student()),
    "colab": lambda: _colab(_reference()),
    "colabnotes": lambda: _colab_with_notes(_reference()),
    "armed": lambda: _armed(_student()),
    "hook": lambda: _hook(_student()),
    "intsubclass": lambda: _int_subclass(_student()),
    "baseexception": lambda: _swallows_base_exception(_reference()),
    "library": lambda: _library(_reference()),
}


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> dict[str, dict[str, tuple[str, str]]]:
    """Grade the class once, on the command line; {student: {exercise: (status, feedback)}}."""
    folder = tmp_path_factory.mktemp("class")
    for name, make in SUBMISSIONS.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(make()), encoding="utf-8")
    (folder / "corrupt.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "otherchapter.ipynb").write_bytes(CHAPTER05.read_bytes())
    deleted = _student()  # a code cell of the reference (not an exercise's) deleted
    deleted["cells"].remove(_cell(deleted, "x = torch.empty(5, 3)"))
    (folder / "deleted.ipynb").write_text(json.dumps(deleted), encoding="utf-8")
    reordered = _student()
    cells = reordered["cells"]
    a = cells.index(_cell(reordered, "x = torch.empty(5, 3)"))
    b = cells.index(_cell(reordered, "x = torch.rand(5, 3)"))
    cells[a], cells[b] = cells[b], cells[a]
    (folder / "reordered.ipynb").write_text(json.dumps(reordered), encoding="utf-8")
    twice = folder / "twice"  # one student, two notebooks of chapter 1: the best one counts
    twice.mkdir()
    (twice / "a_first_try.ipynb").write_text(json.dumps(_wrong(_student())), encoding="utf-8")
    (twice / "b_final.ipynb").write_text(json.dumps(_reference()), encoding="utf-8")

    out = folder / "gradebook.csv"
    cmd = [
        sys.executable,
        "-m",
        "aigc_course.grade",
        *sorted(folder.glob("*.ipynb")),
        twice,
        "--out",
        out,
        "--wide",
        folder / "scores.csv",
        "--report",
        folder / "report.html",
        "--feedback",
        folder / "feedback",
        "--chapter",
        "1",
        "--timeout",
        "150",
        "--exercise-timeout",
        "3",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "grading" in proc.stderr  # the tqdm bar
    assert "✓ passed" in proc.stdout  # the summary table's legend
    book: dict = {}
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        assert row["chapter"] in ("01", "?")
        if row["counted"] == "yes":
            book.setdefault(row["student"], {})[row["exercise"]] = (row["status"], row["feedback"])
    book["_rows"] = rows
    book["_stdout"] = proc.stdout
    book["_folder"] = folder
    return book


def test_every_submission_gets_a_row_per_exercise(gradebook):
    expected = set(SUBMISSIONS) | {"corrupt", "otherchapter", "deleted", "reordered", "twice"}
    assert {s for s in gradebook if not s.startswith("_")} == expected
    for student, rows in gradebook.items():
        if student.startswith("_"):
            continue
        assert list(rows) == EXERCISES01, student


def test_reference_solutions_pass(gradebook):
    assert {s for s, _ in gradebook["ref"].values()} == {"passed"}
    assert gradebook["ref"]["offset"][1].startswith("✓ offset")


def test_student_edition_is_not_attempted(gradebook):
    assert {s for s, _ in gradebook["student"].values()} == {"not attempted"}


def test_wrong_answer_fails_with_the_checkers_feedback(gradebook):
    status, feedback = gradebook["wrong"]["offset"]
    assert status == "failed"
    assert "storage_offset" in feedback or "offset" in feedback
    assert gradebook["wrong"]["as_strided"][0] == "not attempted"


@pytest.mark.parametrize("student", ["faketick", "editedcall"])
def test_a_forged_tick_does_not_pass(gradebook, student):
    assert gradebook[student]["offset"][0] == "not attempted"


def test_a_forged_tick_is_pointed_out(gradebook):
    """The notebook's own verdict, compared with the grader's."""
    assert "shows a ✓ here: forged or stale" in gradebook["faketick"]["offset"][1]
    assert "forged" not in gradebook["student"]["offset"][1]


@pytest.mark.parametrize("student", ["patched", "patchedhelper"])
def test_a_monkeypatched_checker_has_no_effect(gradebook, student):
    """The checker runs in the judge, forked before the patch: the wrong answer fails."""
    status, feedback = gradebook[student]["offset"]
    assert status == "failed", feedback


def test_syntax_error_is_reported_for_its_exercise(gradebook):
    status, feedback = gradebook["syntax"]["pairwise_sq_dists"]
    assert status == "error"
    assert "SyntaxError" in feedback
    assert gradebook["syntax"]["offset"][0] == "not attempted"


def test_infinite_loop_times_out_and_the_rest_is_graded(gradebook):
    status, feedback = gradebook["slow"]["sum_to_size"]
    assert (status, feedback) == ("error", "timed out after 3 s")
    assert gradebook["slow"]["as_strided"][0] == "not attempted"


def test_colab_saved_notebook_is_graded_by_rerunning_it(gradebook):
    assert {s for s, _ in gradebook["colab"].values()} == {"passed"}


@pytest.mark.parametrize(
    "student, reason",
    [
        ("corrupt", "corrupt JSON"),
        ("otherchapter", "another chapter: chapter 05"),
        ("deleted", "a deleted cell"),
        ("reordered", "reordered cells"),
    ],
)
def test_broken_submissions_are_errors_with_the_reason(gradebook, student, reason):
    for status, feedback in gradebook[student].values():
        assert status == "error"
        assert reason in feedback


def test_notebook_timeout_is_an_error(tmp_path):
    nb = _student()
    _set(_cell(nb, "def offset"), "while True:\n    pass\n")
    path = tmp_path / "loop.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    refs = grade.load_references()
    result = grade.grade_notebook(path, "loop", refs, "01", timeout=15)
    assert [s for _, s, _ in result.rows] == ["error"] * len(EXERCISES01)
    assert "timed out after 15 s" in result.rows[0][2]


def test_folder_names_the_student(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "ch01.ipynb").write_text("{}")
    (tmp_path / "bob.ipynb").write_text("{}")
    found = grade.submissions([tmp_path / "alice", tmp_path / "bob.ipynb"])
    assert [s for s, _ in found] == ["alice", "bob"]


def test_reference_exercises_come_from_the_checker_calls():
    ref = grade.load_reference(CHAPTER01)
    assert [e.id for e in ref.exercises] == EXERCISES01
    assert ref.exercises[0].args == ("offset",)
    assert ref.title and ref.chapter == "01"


def test_parallel_jobs_give_the_same_rows(tmp_path):
    """--jobs 2: notebooks graded in two processes, rows in the order of the submissions."""
    (tmp_path / "a.ipynb").write_text("not json", encoding="utf-8")
    (tmp_path / "b.ipynb").write_bytes(CHAPTER05.read_bytes())
    out = tmp_path / "gradebook.csv"
    argv = [str(tmp_path / "a.ipynb"), str(tmp_path / "b.ipynb"), "--chapter", "1"]
    assert grade.main([*argv, "--jobs", "2", "--out", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as f:
        rows = [(r["student"], r["exercise"], r["status"]) for r in csv.DictReader(f)]
    assert rows == [(s, x, "error") for s in "ab" for x in EXERCISES01]


# ------------------------------------------------------------------ issue 18: forgeries and losses


@pytest.mark.parametrize("student", ["armed", "hook"])
def test_forged_verdicts_from_the_kernel_do_not_pass(gradebook, student):
    """A rewritten registry of checkers, and fake verdict lines printed by an IPython hook:
    the verdicts come from the judge, so the untouched skeletons stay "not attempted"."""
    assert {s for s, _ in gradebook[student].values()} == {"not attempted"}


def test_an_int_whose_eq_always_says_yes_fails(gradebook):
    status, feedback = gradebook["intsubclass"]["offset"]
    assert status == "failed", feedback
    assert "at" in feedback  # the checker's own message about the wrong offset


def test_a_loop_that_swallows_base_exception_loses_only_itself(gradebook):
    rows = gradebook["baseexception"]
    # the reference's shown ✓ for it is also pointed out (forged or stale): it was not earned
    assert rows["sum_to_size"][0] == "error"
    assert rows["sum_to_size"][1].startswith("timed out after 3 s")
    # the exercise after it is graded in a new kernel, the ones before it are kept
    assert {x: s for x, (s, _) in rows.items() if x != "sum_to_size"} == {
        x: "passed" for x in EXERCISES01 if x != "sum_to_size"
    }


def test_edited_markdown_and_added_cells_are_not_errors(gradebook):
    assert {s for s, _ in gradebook["colabnotes"].values()} == {"passed"}


def test_a_solution_that_uses_the_library_is_flagged(gradebook):
    status, feedback = gradebook["library"]["as_strided"]
    assert status == "uses the library"
    assert "uses the library's implementation (torch.as_strided)" in feedback
    assert gradebook["library"]["offset"][0] == "passed"


def test_two_notebooks_of_one_chapter_the_best_counts_everywhere(gradebook):
    rows = [r for r in gradebook["_rows"] if r["student"] == "twice"]
    assert {(r["notebook"], r["counted"]) for r in rows} == {
        ("a_first_try.ipynb", "no"),
        ("b_final.ipynb", "yes"),
    }
    assert {s for s, _ in gradebook["twice"].values()} == {"passed"}
    assert all("counted (best score): b_final.ipynb" in r["feedback"] for r in rows)
    line = next(l for l in gradebook["_stdout"].splitlines() if l.startswith("twice "))
    assert line.endswith(f"{len(EXERCISES01)}/{len(EXERCISES01)}")
    assert "policy: a student's best-scoring notebook of a chapter counts" in gradebook["_stdout"]
    folder = gradebook["_folder"]
    with open(folder / "scores.csv", newline="", encoding="utf-8") as f:
        wide = {r["student"]: r for r in csv.DictReader(f)}
    assert wide["twice"]["total"] == str(POINTS01) and wide["twice"]["percentage"] == "100.0"
    assert f"a_first_try.ipynb (0/{POINTS01})" in (folder / "feedback" / "twice.md").read_text()


def test_long_gradebook_has_stars_and_points(gradebook):
    ref = {r["exercise"]: r for r in gradebook["_rows"] if r["student"] == "ref"}
    assert [(ref[x]["stars"], ref[x]["points"]) for x in EXERCISES01[:5]] == [
        ("★", "1"),
        ("★★", "2"),
        ("★★", "2"),
        ("★★", "2"),
        ("★★★", "3"),
    ]
    wrong = {r["exercise"]: r for r in gradebook["_rows"] if r["student"] == "wrong"}
    assert wrong["offset"]["points"] == "0" and wrong["offset"]["stars"] == "★"


def test_wide_scores_report_and_feedback_files(gradebook):
    folder = gradebook["_folder"]
    with open(folder / "scores.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["student"] + [f"01.{x}" for x in EXERCISES01] + [
            "total",
            "percentage",
        ]
        wide = {r["student"]: r for r in reader}
    assert wide["ref"]["total"] == str(POINTS01) and wide["student"]["total"] == "0"
    assert wide["library"]["01.as_strided"] == "0"
    assert wide["library"]["total"] == str(POINTS01 - 3)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and "Pass rate per exercise" in page and "Most frequent hints" in page
    assert "graded in the sandbox" in page
    feedback = (folder / "feedback" / "wrong.md").read_text(encoding="utf-8")
    assert "**offset** (★): failed" in feedback and "storage_offset" in feedback
    assert len(list((folder / "feedback").glob("*.md"))) == len(wide)


def test_library_use_is_counted_with_allow_library(tmp_path):
    path = tmp_path / "library.ipynb"
    path.write_text(json.dumps(_library(_reference())), encoding="utf-8")
    refs = grade.load_references()
    result = grade.grade_notebook(path, "library", refs, "01", timeout=150, allow_library=True)
    rows = {x: (s, f) for x, s, f in result.rows}
    assert rows["as_strided"][0] == "passed"
    assert "(--allow-library)" in rows["as_strided"][1]
