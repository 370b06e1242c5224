r"""GPT-2's byte-to-character table: every byte as one printable unicode character.

Byte-level BPE works on bytes, but ``vocab.json`` and ``merges.txt`` are text files in which a
space separates the two halves of a merge. GPT-2 therefore writes every byte as a visible
character: the 188 printable bytes (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) stand for
themselves, and the other 68 (controls, space, ``\x7f``..``\xa0``, ``\xad``) are shifted to
the characters ``chr(256 + n)``, n = 0, 1, 2, ... in byte order. So the space byte 32 becomes
``Ġ`` (``chr(288)``) and the newline 10 becomes ``Ċ`` (``chr(266)``): ``" the"`` is the token
``"Ġthe"``.

>>> BYTE_TO_UNICODE[ord(" ")], BYTE_TO_UNICODE[ord("\n")], BYTE_TO_UNICODE[ord("a")]
('Ġ', 'Ċ', 'a')
>>> BYTE_TOKENS.index("!"), BYTE_TOKENS.index("Ġ")
(0, 220)
>>> token_to_bytes("Ġthe")
b' the'

See chapter 7.
"""

from __future__ import annotations

__all__ = [
    "BYTE_TOKENS",
    "BYTE_TO_UNICODE",
    "UNICODE_TO_BYTE",
    "bytes_to_unicode",
    "bytes_to_token",
    "token_to_bytes",
]


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table: byte value (0..255) -> one printable character."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table = {b: chr(b) for b in printable}
    n = 0
    for b in range(256):
        if b not in table:  # a control or blank byte: move it past the Latin-1 range
            table[b] = chr(256 + n)
            n += 1
    return dict(sorted(table.items()))


BYTE_TO_UNICODE: dict[int, str] = bytes_to_unicode()
UNICODE_TO_BYTE: dict[str, int] = {c: b for b, c in BYTE_TO_UNICODE.items()}

#: The 256 single-byte tokens in GPT-2's id order: sorted by character, so the printable
#: bytes come first (``"!"`` is id 0) and the shifted ones last (``"Ġ"``, the space, is 220).
BYTE_TOKENS: list[str] = sorted(BYTE_TO_UNICODE.values())


def bytes_to_token(data: bytes) -> str:
    """The printable spelling of raw bytes, as in ``vocab.json``: ``b" hi"`` -> ``"Ġhi"``."""
    return "".join(BYTE_TO_UNICODE[b] for b in data)


def token_to_bytes(token: str) -> bytes:
    """The raw bytes behind a ``vocab.json`` token: ``"Ġhi"`` -> ``b" hi"``.

    Raises ``KeyError`` for a character outside the table (not a byte-level token).
    """
    return bytes(UNICODE_TO_BYTE[c] for c in token)
