"""The notebooks' setup cell, executed in a kernel as Colab would run it.

A prelude makes ``aigc_course`` not importable (its source folder leaves ``sys.path``),
pretends to be Colab or not (a ``google.colab`` module), and replaces ``subprocess.run``
(the install command) by a stub that records what it would run. Then the real setup cell,
generated from ``_config.yml`` by ``scripts/setup_cell.py``, runs in the same kernel.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import setup_cell  # noqa: E402

URL = setup_cell.repo_url_from_config()
SETUP = setup_cell.setup_cell_source(URL)

PRELUDE = """
import importlib, json, os, subprocess, sys, types
for var in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY"):
    os.environ.pop(var, None)
recorded = []
subprocess.run = lambda cmd, **kwargs: recorded.append(list(cmd))  # the stub: record only
hide = {hide}
if hide:  # aigc_course not installed: drop the folder that holds it from sys.path
    sys.path[:] = [p for p in sys.path if not os.path.isdir(os.path.join(p or ".", "aigc_course"))]
    for name in [m for m in sys.modules if m.split(".")[0] == "aigc_course"]:
        del sys.modules[name]
    importlib.invalidate_caches()
colab = {colab}
if colab:
    sys.modules["google"] = types.ModuleType("google")
    sys.modules["google.colab"] = types.ModuleType("google.colab")
else:
    sys.modules.pop("google.colab", None)
"""

REPORT = """
import importlib.util
print("@@" + json.dumps({
    "installs": recorded,
    "env": {v: os.environ.get(v) for v in
            ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY")},
    "transformers_imported": "transformers" in sys.modules,
    "torch_imported": "torch" in sys.modules,
}))
"""


def _run(*, hide: bool, colab: bool) -> tuple[str, dict]:
    """Run the prelude, the setup cell and a report in one fresh kernel."""
    cells = [
        nbformat.v4.new_code_cell(PRELUDE.format(hide=hide, colab=colab)),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(REPORT),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    setup_output = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    report = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    return setup_output, json.loads(report.split("@@", 1)[1])


@pytest.fixture(scope="module")
def colab_without_package():
    return _run(hide=True, colab=True)


def test_installs_only_the_package_when_it_is_missing(colab_without_package):
    _, report = colab_without_package
    assert report["installs"] == [[sys.executable, "-m", "pip", "install", "-q", f"git+{URL}"]]
    command = " ".join(report["installs"][0])
    assert "torch" not in command and "transformers" not in command and "-U" not in command


def test_sets_hf_variables_before_transformers_is_imported(colab_without_package):
    """Quiet everywhere; in Colab the hub stays reachable, so the GPT-2 chapters can use the
    real gpt2 (models.hub.pick_gpt2 decides)."""
    _, report = colab_without_package
    assert report["env"] == {
        "HF_HUB_OFFLINE": None,
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    }
    assert not report["transformers_imported"]
    assert not report["torch_imported"]  # versions come from metadata, nothing heavy imported


def test_prints_one_line_with_the_versions_in_colab(colab_without_package):
    import torch
    import transformers

    output, _ = colab_without_package
    lines = output.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Colab: Python {sys.version.split()[0]} | ")
    assert f"torch {torch.__version__}" in lines[0]
    assert f"transformers {transformers.__version__}" in lines[0]


def test_silent_and_no_install_outside_colab_with_the_package():
    """A local checkout or CI: nothing printed, so the committed output is the same anywhere."""
    output, report = _run(hide=False, colab=False)
    assert output == ""
    assert report["installs"] == []
    assert report["env"]["HF_HUB_OFFLINE"] == "1"  # outside Colab nothing is ever downloaded
