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

    The cell is silent when the package is already importable (a local checkout, CI), and
    installs only the companion package otherwise (Colab). It never installs or upgrades
    torch: the package declares torch as an optional extra, which this cell does not request.
    """
    return (
        "# Set-up: install the companion package `aigc_course` only when it is missing\n"
        "# (for example in Colab). It never installs, upgrades or replaces torch.\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if importlib.util.find_spec("aigc_course") is None:\n'
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "git+{repo_url}"],\n'
        "        check=True,\n"
        "    )"
    )


if __name__ == "__main__":
    print(setup_cell_source(repo_url_from_config()))
