"""Execute chapter notebooks top to bottom in a fresh kernel, in place.

Usage::

    python scripts/execute_notebooks.py                     # every chapters/**/*.ipynb
    python scripts/execute_notebooks.py chapters/01_tensors.ipynb
    python scripts/execute_notebooks.py --sync-setup        # rewrite the setup cells first
    python scripts/execute_notebooks.py --sync-setup --no-execute

Each notebook runs with its own folder as the working directory, with ``HF_HUB_OFFLINE=1``
and matplotlib's inline backend, so its committed outputs are exactly what nbval
(``pytest``) reproduces. No cell may raise, whatever its tags: Colab's "Run all" ignores
tags, so an error stops a learner there. Show intended errors with
``aigc_course.book.expect_error``. A raising cell makes the script fail. The script prints
each notebook's wall time and fails if one takes longer than ``--max-seconds`` (60 s by
default, the course's budget for a 2-core CPU).

``--sync-setup`` replaces the first code cell of every notebook with the canonical setup
cell generated from ``_config.yml``'s ``repository.url`` (see ``scripts/setup_cell.py``);
run it after changing that URL, for example in a fork.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from setup_cell import (
    ROOT,
    SETUP_CELL_TAGS,
    repo_url_from_config,
    setup_cell_source,
)

CHAPTERS = ROOT / "chapters"


def chapter_notebooks() -> list[Path]:
    """All chapter notebooks, sorted, without Jupyter's checkpoint copies."""
    return sorted(p for p in CHAPTERS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def looks_like_setup_cell(source: str) -> bool:
    return "aigc_course" in source and "pip" in source and "find_spec" in source


def sync_setup_cell(nb: nbformat.NotebookNode, source: str) -> str:
    """Make the notebook's first code cell the canonical setup cell; say what was done.

    A first code cell that already is a setup cell (of any vintage) is rewritten; otherwise a
    new setup cell is inserted before it, so no chapter code is ever overwritten.
    """
    index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    if index is not None and looks_like_setup_cell(nb.cells[index].source):
        cell = nb.cells[index]
        action = "unchanged" if cell.source == source else "rewritten"
        cell.source = source
    else:
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.insert(len(nb.cells) if index is None else index, cell)
        action = "inserted"
    tags = list(cell.metadata.get("tags", []))
    for tag in SETUP_CELL_TAGS:
        if tag not in tags:
            tags.append(tag)
    cell.metadata["tags"] = tags
    return action


def kernel_environment() -> None:
    """Set the environment that the kernel inherits: offline, quiet, inline figures."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # ipykernel picks the inline backend only when MPLBACKEND is unset; with Agg (as CI
    # exports it) figures would silently vanish from the committed outputs.
    os.environ.pop("MPLBACKEND", None)


class CellRaised(Exception):
    """A cell raised although nbclient let it (it was tagged ``raises-exception``)."""


def execute(path: Path, cell_timeout: int, kernel_name: str) -> float:
    """Run one notebook in place; return its wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name=kernel_name,
        allow_errors=False,
        record_timing=False,  # keep timestamps out of the committed notebook
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    # nbclient lets a cell tagged raises-exception raise; "Run all" in Colab would stop there
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                raise CellRaised(
                    f"code cell {i} raised {output.ename}: {output.evalue} (tagged "
                    f"{cell.metadata.get('tags', [])}); use aigc_course.book.expect_error"
                )
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/**/*.ipynb")
    parser.add_argument(
        "--sync-setup",
        action="store_true",
        help="rewrite each notebook's first code cell from _config.yml's repository.url",
    )
    parser.add_argument(
        "--no-execute", action="store_true", help="only sync the setup cells, do not execute"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="fail when a notebook takes longer than this (default: 60)",
    )
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=300,
        help="abort a cell that runs longer than this many seconds (default: 300)",
    )
    parser.add_argument("--kernel", default="python3", help="kernel name (default: python3)")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or chapter_notebooks()
    if not notebooks:
        print("no notebooks found under chapters/")
        return 0

    if args.sync_setup:
        source = setup_cell_source(repo_url_from_config())
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            action = sync_setup_cell(nb, source)
            nbformat.write(nb, path)
            print(f"setup cell {action}: {path.relative_to(ROOT)}")
    if args.no_execute:
        return 0

    kernel_environment()
    failures = []
    total = 0.0
    for path in notebooks:
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        try:
            elapsed = execute(path, args.cell_timeout, args.kernel)
        except (CellExecutionError, CellTimeoutError, CellRaised) as err:
            message = str(err)
            if len(message) > 4000:  # the cell's source and stderr come first; keep the end
                message = "...\n" + message[-4000:]
            print(f"FAILED  {name}\n{message}", file=sys.stderr, flush=True)
            failures.append(f"{name}: error")
            continue
        total += elapsed
        slow = elapsed > args.max_seconds
        print(f"{elapsed:7.1f} s  {name}{'  (over the limit)' if slow else ''}", flush=True)
        if slow:
            failures.append(f"{name}: {elapsed:.1f} s > {args.max_seconds:g} s")
    print(f"{total:7.1f} s  total for {len(notebooks)} notebook(s)", flush=True)
    if failures:
        print("failed:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
