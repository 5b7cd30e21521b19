"""Search text as the databases may safely be given it.

A search comes from a person or a URL (`?q=%00fox%00`): a NUL ends SQLite's FTS query
mid-string and PostgreSQL refuses it outright, and a lone surrogate cannot be encoded
for either. Such characters are dropped before a search reaches the store's queries,
so a search never crashes a page; spaces, tabs and line breaks stay as typed.
"""

from __future__ import annotations

import unicodedata

_DROPPED = frozenset({"Cc", "Cs"})  # control characters, and surrogates alone


def search_text(text: str) -> str:
    """`text` without control characters (spaces aside) or lone surrogates, trimmed."""
    return "".join(
        character
        for character in text
        if character.isspace() or unicodedata.category(character) not in _DROPPED
    ).strip()
