"""The grader's static parts, without kernels: stars and points from the reference notebooks,
the library-use check, the plain-data wire, the best-score policy and the outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from aigc_course import grade
from aigc_course.exercises._verdict import decode, encode, to_plain

REFS = grade.load_references()


def _solution_codes(chapter: str) -> list[str]:
    path = next(grade.CHAPTERS.glob(f"{chapter}_*.ipynb"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [grade._source(c) for c in nb["cells"] if c["cell_type"] == "code"]


def test_stars_and_points_come_from_the_exercise_headings(tmp_path):
    import nbformat

    cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    for heading, call in [
        ("### Exercise 1 (★): one", "ch01.check_one(one)"),
        ("### Exercise 2 ★★★: three", "ch01.check_three(Three)"),
        ("### Exercise 3 (★★): milestone", "ch01.check_milestone_1(one, Three)"),
    ]:
        cells += [nbformat.v4.new_markdown_cell(heading), nbformat.v4.new_code_cell(call)]
    cells.append(nbformat.v4.new_code_cell("def one():\n    pass\n\nclass Three:\n    pass\n"))
    path = tmp_path / "01_x.ipynb"
    path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)), encoding="utf-8")
    ref = grade.load_reference(path)
    assert [(e.id, e.stars, e.points, e.kinds) for e in ref.exercises] == [
        ("one", 1, 1, ("def",)),
        ("three", 3, 3, ("class",)),
        ("milestone_1", 2, 3, ("def", "class")),
    ]
    assert all(1 <= e.stars <= 3 for r in REFS.values() for e in r.exercises)


@pytest.mark.parametrize("chapter", sorted(REFS))
def test_reference_solutions_do_not_use_the_library(chapter):
    codes = _solution_codes(chapter)
    assert {e.id: grade.library_use(codes, e) for e in REFS[chapter].exercises} == {
        e.id: None for e in REFS[chapter].exercises
    }


def _exercise(chapter: str, exercise_id: str) -> grade.Exercise:
    return next(e for e in REFS[chapter].exercises if e.id == exercise_id)


@pytest.mark.parametrize(
    "chapter, exercise_id, code, used",
    [
        (
            "04",
            "adam",
            "from aigc_course.optim import Adam\n\nclass MyAdam(Adam):\n    pass\n",
            "aigc_course.optim.Adam",
        ),
        (
            "04",
            "adam",
            "import aigc_course as ac\n\nclass MyAdam(ac.optim.Adam):\n    pass\n",
            "aigc_course.optim.Adam",
        ),
        (
            "04",
            "warmup_cosine",
            "import torch\n\ndef lr_lambda(step):\n"
            "    return torch.optim.lr_scheduler.CosineAnnealingLR\n",
            "torch.optim.lr_scheduler",
        ),
        (
            "01",
            "as_strided",
            "import torch as t\n\ndef as_strided(s, size, stride, offset=0):\n"
            "    return t.as_strided(s, size, stride, offset)\n",
            "torch.as_strided",
        ),
    ],
)
def test_library_implementations_are_flagged(chapter, exercise_id, code, used):
    exercise = _exercise(chapter, exercise_id)
    assert grade.library_use([code], exercise).startswith(used)


def test_attention_through_torch_is_flagged():
    exercise = next(e for e in REFS["08"].exercises if "attention" in e.id)
    name = exercise.args[0]
    code = (
        "import torch.nn.functional as F\n\n"
        f"def {name}(q, k, v, *args):\n    return F.scaled_dot_product_attention(q, k, v)\n"
    )
    assert grade.library_use([code], exercise) == (
        "torch.nn.functional.scaled_dot_product_attention"
    )


def test_the_learners_own_code_is_not_flagged():
    code = (
        "import aigc_course as ac\n\n"
        "def as_strided(storage, size, stride, storage_offset=0):\n"
        "    index = ac.tensor(storage_offset)\n    return storage[index]\n"
    )
    assert grade.library_use([code], _exercise("01", "as_strided")) is None


class _Always(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


def test_the_wire_rebuilds_exact_types():
    import numpy as np
    import torch

    import aigc_course as ac

    value = [
        _Always(3),
        2.5,
        "s",
        (1, None),
        {"k": True},
        np.float32(1.5),
        np.arange(6).reshape(2, 3),
        torch.ones(2, dtype=torch.float64),
        ac.tensor(3.0),
        torch.Size([2, 3]),
        torch.float32,
    ]
    back = decode(json.loads(json.dumps(encode(value))))
    assert type(back[0]) is int and back[0] == 3 and back[0] != 4
    assert back[1:5] == [2.5, "s", (1, None), {"k": True}]
    assert back[5].dtype == np.float32 and back[6].shape == (2, 3)
    assert back[7].dtype == torch.float64 and type(back[7]) is torch.Tensor
    assert back[8].shape == () and isinstance(back[8], ac.Tensor)
    assert back[9] == torch.Size([2, 3]) and back[10] is torch.float32
    assert to_plain(_Always(3)) != 4
    with pytest.raises(TypeError):
        encode(object())


def test_the_wire_refuses_object_arrays_and_unknown_tags():
    import numpy as np

    with pytest.raises(TypeError):
        encode(np.array([object()]))
    with pytest.raises(ValueError):
        decode({"ndarray": {"dtype": "|O", "shape": [1], "b64": ""}})
    with pytest.raises(ValueError):
        decode({"pickle": "..."})


def _result(student, name, statuses):
    ids = [e.id for e in REFS["01"].exercises]
    rows = [(x, s, f"feedback {x} <script>") for x, s in zip(ids, statuses)]
    return grade.Result(student, Path(name), "01", rows)


def test_best_score_policy_and_outputs(tmp_path):
    p, f, n = grade.PASSED, grade.FAILED, grade.NOT_ATTEMPTED
    results = [
        _result("ann", "a.ipynb", [p, p, f, n, n]),  # 3 points
        _result("ann", "b.ipynb", [p, f, f, f, p]),  # 4 points: counts
        _result("bob<b>", "c.ipynb", [p, p, p, p, p]),
    ]
    grade.apply_policy(results, REFS)
    assert [r.counted for r in results] == [False, True, True]
    assert "counted (best score): b.ipynb" in results[0].note
    text = grade.summary(results)
    assert "ann" in text and "2/5" in text and "a.ipynb (3/10)" in text
    grade.write_wide(tmp_path / "wide.csv", results, REFS)
    with open(tmp_path / "wide.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert (rows["ann"]["total"], rows["ann"]["percentage"]) == ("4", "40.0")
    assert rows["ann"]["01.as_strided"] == "3" and rows["bob<b>"]["total"] == "10"
    grade.write_report(tmp_path / "r.html", results, REFS)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "bob&lt;b&gt;" in page and "<svg" in page
    assert "100%" in page and "50%" in page  # offset: 2 of 2 counted pass; sum_to_size 1 of 2
    grade.write_feedback(tmp_path / "fb", results, REFS)
    assert sorted(x.name for x in (tmp_path / "fb").iterdir()) == ["ann.md", "bob_b.md"]
    assert "b.ipynb): 4/10 points" in (tmp_path / "fb" / "ann.md").read_text(encoding="utf-8")
