"""The canonical first code cell of every chapter notebook.

The repository URL is defined once, in ``_config.yml`` (``repository.url``). This module
turns it into the setup cell's source; ``scripts/execute_notebooks.py --sync-setup`` writes
that source into every notebook, and ``tests/test_notebook_conventions.py`` checks that
the notebooks agree with it.

Run it to print the cell for the current ``_config.yml``::

    python scripts/setup_cell.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"

#: The tag that hides the cell's input in the HTML book (it stays runnable in Colab).
SETUP_CELL_TAGS = ("hide-input",)


def repo_url_from_config(config_path: Path | str = CONFIG) -> str:
    """Return ``repository.url`` from the book's ``_config.yml``, without a trailing slash."""
    with open(config_path, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    try:
        url = config["repository"]["url"]
    except (KeyError, TypeError) as err:
        raise KeyError(f"{config_path} has no repository.url") from err
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ValueError(f"repository.url in {config_path} must be an https URL, got {url!r}")
    return url.rstrip("/")


def setup_cell_source(repo_url: str) -> str:
    """Return the source of the setup cell that installs ``aigc_course`` from ``repo_url``.

    The cell sets the Hugging Face environment variables before anything imports
    transformers: quiet everywhere, and offline everywhere except in Colab, where the GPT-2
    chapters may fetch the real ``gpt2`` (``aigc_course.models.hub.pick_gpt2`` decides). It
    installs only the companion package and only when it is missing (Colab), and in Colab
    prints one line with the versions it found. Elsewhere (a local checkout, CI) it prints
    nothing, so its committed output is the same on every machine. It never installs or
    upgrades torch: the package declares torch as an optional extra, which this cell does not
    request.
    """
    return (
        "# Set-up: install the companion package `aigc_course` only when it is missing (in\n"
        "# Colab); it never installs, upgrades or replaces torch. Hugging Face is quiet, and\n"
        "# offline except in Colab (set before transformers is imported). In Colab, print the\n"
        "# versions.\n"
        "import importlib.metadata\n"
        "import importlib.util\n"
        "import os\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'IN_COLAB = "google.colab" in sys.modules\n'
        "if not IN_COLAB:  # local runs and CI never download\n"
        '    os.environ.setdefault("HF_HUB_OFFLINE", "1")\n'
        'os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")\n'
        'os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")\n'
        'if importlib.util.find_spec("aigc_course") is None:\n'
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "git+{repo_url}"],\n'
        "        check=True,\n"
        "    )\n"
        "if IN_COLAB:\n"
        '    found = [f"Python {sys.version.split()[0]}"]\n'
        '    for name in ("torch", "transformers", "tokenizers", "aigc_course"):\n'
        "        try:\n"
        '            found.append(f"{name} {importlib.metadata.version(name)}")\n'
        "        except importlib.metadata.PackageNotFoundError:\n"
        '            found.append(f"{name} missing")\n'
        '    print("Colab:", " | ".join(found))'
    )


if __name__ == "__main__":
    print(setup_cell_source(repo_url_from_config()))
