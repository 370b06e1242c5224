"""Text with colour-coded token boundaries, as HTML for notebooks and the built book.

Each token is a coloured box whose tooltip gives its id. Whitespace stays visible (a newline
is drawn as ``↵``), and a token that is only part of a UTF-8 character shows its bytes as
``\\xe7`` escapes, since it is not text on its own.

See chapter 7.
"""

from __future__ import annotations

import html

__all__ = ["show_tokens", "tokens_html"]

_COLOURS = ("#fde2a7", "#b9e3c6", "#c6d8f7", "#f7c6d9", "#ddd0f5", "#c9ecec")


def tokens_html(tokenizer, text: str) -> str:
    """An HTML ``<div>`` showing how ``tokenizer`` (anything with ``encode`` and
    ``token_bytes``) cuts ``text``, followed by the token and character counts."""
    ids = tokenizer.encode(text)
    spans = []
    for k, i in enumerate(ids):
        piece = tokenizer.token_bytes(i).decode("utf-8", errors="backslashreplace")
        shown = html.escape(piece).replace("\n", "↵<br>")
        spans.append(
            f'<span title="id {i}" style="background:{_COLOURS[k % len(_COLOURS)]};'
            f'border-radius:3px;padding:1px 0;margin:0 1px;white-space:pre-wrap">{shown}</span>'
        )
    return (
        '<div style="font-family:monospace;line-height:1.9;font-size:0.95em">'
        + "".join(spans)
        + f'<div style="color:#666;font-size:0.85em">{len(ids)} tokens, {len(text)} characters'
        "</div></div>"
    )


def show_tokens(tokenizer, text: str):
    """Display :func:`tokens_html` in a notebook (the HTML string elsewhere)."""
    try:
        from IPython.display import HTML
    except ImportError:  # pragma: no cover
        return tokens_html(tokenizer, text)
    return HTML(tokens_html(tokenizer, text))
