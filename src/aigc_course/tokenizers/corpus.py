"""The course's offline text corpus: Python's own documentation.

``pydoc_data.topics.topics`` ships with every CPython (it backs ``help("if")``): 79 topics,
about 465k characters of English prose with code examples. No download is needed.

See chapter 7.
"""

from __future__ import annotations

__all__ = ["python_docs_text"]


def python_docs_text() -> str:
    """All of ``pydoc_data.topics`` joined in sorted topic order, separated by blank lines.

    >>> text = python_docs_text()
    >>> len(text) > 400_000, text == python_docs_text()
    (True, True)
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name] for name in sorted(topics))
