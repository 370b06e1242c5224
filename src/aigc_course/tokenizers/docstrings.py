"""An offline English corpus: the docstrings of the standard library and installed packages.

The shipped GPT-2 (``aigc_course/models/tiny_gpt2``, made by ``scripts/train_tiny_gpt2.py``)
learns English from text that every installation of the course already has on disk:
Python's own documentation (:mod:`pydoc_data.topics`) and the docstrings of the standard
library and of a fixed list of permissively licensed packages. The source files are parsed
with :mod:`ast`, never imported, so building the corpus runs no package code.

The same installed versions give the same corpus, byte for byte:

- **Sources** (:data:`SOURCES`), each with its licence: walked in a fixed order, files sorted
  by path. The course's own package is never included: its docstrings paraphrase the
  chapters, whose prose is the held-out text on which the model is judged.
- **Cleaning** (:func:`clean_docstring`): a docstring is split into paragraphs at blank lines.
  A paragraph is kept when it reads as prose: at least 6 words, at least 75% of its
  characters letters or spaces, and no doctest prompt, table rule or directive marker
  (``>>>``, ``---``, ``===``, ``..``) at the start of a line. Its lines are re-flowed into
  one line.
- **Deduplication**: a paragraph already seen (compared case-folded, whitespace collapsed) is
  dropped, so that inherited and copied docstrings count once.
- **Documents**: one per docstring (and one per pydoc topic), in walk order, joined by
  ``<|endoftext|>``.

>>> clean_docstring('''Return the sum of the values.
...
... >>> add(1, 2)
... 3
...
... Parameters
... ----------
... x : int''')
['Return the sum of the values.']
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import sysconfig
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SOURCES", "Source", "clean_docstring", "docstring_documents", "is_held_out"]

EOS = "<|endoftext|>"


@dataclass(frozen=True)
class Source:
    """One part of the corpus: an importable top-level package (or ``stdlib``)."""

    name: str
    licence: str


#: What the corpus reads, in this order. All are permissively licensed.
SOURCES: tuple[Source, ...] = (
    Source("pydoc_data", "PSF-2.0 (Python's documentation)"),
    Source("stdlib", "PSF-2.0"),
    Source("numpy", "BSD-3-Clause"),
    Source("scipy", "BSD-3-Clause"),
    Source("sklearn", "BSD-3-Clause"),
    Source("torch", "BSD-3-Clause"),
    Source("transformers", "Apache-2.0"),
    Source("diffusers", "Apache-2.0"),
    Source("huggingface_hub", "Apache-2.0"),
    Source("matplotlib", "PSF-based matplotlib licence"),
    Source("sympy", "BSD-3-Clause"),
    Source("networkx", "BSD-3-Clause"),
    Source("sphinx", "BSD-2-Clause"),
    Source("docutils", "public domain / BSD-2-Clause"),
    Source("jinja2", "BSD-3-Clause"),
    Source("IPython", "BSD-3-Clause"),
    Source("pygments", "BSD-2-Clause"),
)

_MARKUP = re.compile(r"^\s*(>>>|\.\.\.|---|===|\.\. |:\w+:|\||\+[-=])", re.MULTILINE)


def clean_docstring(doc: str) -> list[str]:
    """The prose paragraphs of one docstring, each re-flowed into one line (rules above)."""
    kept = []
    for block in re.split(r"\n\s*\n", doc):
        if _MARKUP.search(block):
            continue
        text = " ".join(block.split())
        if len(text.split()) < 6:
            continue
        letters = sum(c.isalpha() or c == " " for c in text)
        if letters < 0.75 * len(text):
            continue
        kept.append(text)
    return kept


def _source_files(source: Source) -> list[Path]:
    if source.name == "stdlib":
        root = Path(sysconfig.get_paths()["stdlib"])
        skip = {"site-packages", "test", "tests", "idlelib", "lib2to3", "pydoc_data", "turtledemo"}
        return sorted(
            p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts[:-1])
        )
    spec = importlib.util.find_spec(source.name)
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(p for p in root.rglob("*.py") if not {"tests", "test"} & set(p.parts))


def _docstrings(path: Path) -> Iterator[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                yield doc


def _raw_documents(source: Source) -> Iterator[str]:
    if source.name == "pydoc_data":
        from pydoc_data.topics import topics

        yield from (topics[name] for name in sorted(topics))
        return
    for path in _source_files(source):
        yield from _docstrings(path)


def docstring_documents(sources: tuple[Source, ...] = SOURCES) -> Iterator[tuple[str, str]]:
    """Yield ``(source name, document)`` pairs: cleaned, deduplicated, in a fixed order."""
    seen: set[bytes] = set()
    for source in sources:
        for raw in _raw_documents(source):
            paragraphs = []
            for paragraph in clean_docstring(raw):
                key = hashlib.blake2b(" ".join(paragraph.lower().split()).encode(), digest_size=12)
                if key.digest() not in seen:
                    seen.add(key.digest())
                    paragraphs.append(paragraph)
            if paragraphs:
                yield source.name, "\n\n".join(paragraphs)


def is_held_out(document: str, every: int = 50) -> bool:
    """Whether a document belongs to the validation split: about one in ``every``, by hash.

    >>> is_held_out("some text") == is_held_out("some text")
    True
    """
    digest = hashlib.blake2b(document.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % every == 0
