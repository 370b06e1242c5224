"""Repository-wide pytest configuration.

* The environment is set before anything imports matplotlib or transformers: offline hub,
  quiet logs, and the non-interactive Agg backend for unit tests and doctests.
* nbval (strict mode, see pyproject.toml) compares every output of every chapter notebook.
  Two kinds are not compared:
  - ``stderr``: warnings, tqdm bars and library logs go there and vary between versions
    and runs (nbval keys stream outputs by their name, so "stderr" in ``skip_compare``
    skips exactly those);
  - images (PNG, JPEG, SVG): their bytes vary with matplotlib and freetype versions. The
    figure's ``text/plain`` repr (``<Figure size 640x480 with 1 Axes>``) is still compared.
* nbval runs every notebook as Colab's "Run all" does: every cell, whatever its tags, and a
  cell that raises fails. nbval's own markers that would let a cell raise (the
  ``raises-exception`` / ``nbval-raises-exception`` tags, ``# NBVAL_RAISES_EXCEPTION``) or skip
  it (``nbval-skip``, ``# NBVAL_SKIP``) are switched off here, because Colab ignores them;
  intended errors are shown with ``aigc_course.book.expect_error``.
  (``tests/test_run_all.py`` checks that this holds.)
* The notebook kernels must draw figures with the inline backend, as when the notebooks were
  executed. ipykernel chooses inline only when ``MPLBACKEND`` is unset, so it is removed from
  the environment while nbval starts a kernel; with Agg, figures would vanish and every
  figure cell would fail.
"""

from __future__ import annotations

import os

from hypothesis import settings

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ["MPLBACKEND"] = "Agg"

# Hypothesis: by default the same examples on every run, so that CI is reproducible;
# HYPOTHESIS_PROFILE=explore draws fresh random examples (use it while developing).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NBVAL_SKIP_COMPARE = ("stderr", "image/png", "image/jpeg", "image/svg+xml")


def _start_kernel_without_mplbackend(setup):
    def wrapped():
        saved = os.environ.pop("MPLBACKEND", None)
        try:
            setup()
        finally:
            if saved is not None:
                os.environ["MPLBACKEND"] = saved

    return wrapped


def _run_all_semantics(collect):
    def wrapped():
        for item in collect():
            options = getattr(item, "options", None)
            if options is not None:  # an nbval cell
                options["check_exception"] = False  # no cell may raise
                options["skip"] = False  # and every cell runs
            yield item

    return wrapped


def pytest_collectstart(collector):
    # nbval's collector for one notebook; matched by name so that this file works (and
    # does nothing) when nbval is not installed or is disabled with -p no:nbval.
    if type(collector).__name__ == "IPyNbFile" and hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(collector.skip_compare) + NBVAL_SKIP_COMPARE
        collector.setup = _start_kernel_without_mplbackend(collector.setup)
        collector.collect = _run_all_semantics(collector.collect)
