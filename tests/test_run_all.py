""" "Run all", as Colab and Jupyter do it: every chapter notebook, executed top to bottom in a
fresh kernel with every cell tag ignored, must finish without a single cell raising.

nbval (the main test run) honours tags such as ``raises-exception``, and Colab does not, so a
tagged cell would pass nbval and still stop a learner who presses "Run all". Here the tags are
stripped before execution and ``allow_errors`` is off: the first raising cell fails the test,
naming the cell. Intended errors belong inside ``aigc_course.book.expect_error``.

Each chapter runs within its 60 s budget, so the whole file takes a few minutes on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_run_all_ignoring_tags_raises_nowhere(chapter, monkeypatch):
    nb = nbformat.read(chapter, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)  # Colab ignores them; so do we
    # ipykernel picks the inline backend (figures as in Colab) only when MPLBACKEND is unset
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(chapter.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as e:
        pytest.fail(f"{chapter.name}: a cell raised under 'Run all' (tags ignored):\n{e}")
    executed = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert executed == list(range(1, len(executed) + 1)), "not every cell ran, in order"
