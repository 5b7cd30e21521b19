"""Which part of the gallery is shown, read from and written to the URL.

`page`, `q` (search), `mode` (generate or edit) and `fav` (1) live in the query
string, so a link reproduces the view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

from components import frame
from studio.records import GalleryFilter
from studio.request import Mode

PAGE_SIZE = 24
# Seven ASCII digits: enough for any gallery, and no Unicode digit int() refuses ("²").
_PAGE_NUMBER = re.compile(r"[0-9]{1,7}")


@dataclass(frozen=True)
class View:
    page: int = 1
    search: str = ""
    mode: Mode | None = None
    favourites_only: bool = False
    search_cut: bool = False  # the link's search was longer than a prompt can be

    @property
    def filter(self) -> GalleryFilter:
        return GalleryFilter(self.search, self.mode, self.favourites_only)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def on_page(self, page: int) -> View:
        return View(page, self.search, self.mode, self.favourites_only, self.search_cut)


def read_view() -> View:
    """The view the URL asks for; anything malformed falls back to the default."""
    params = st.query_params
    page_text = params.get("page", "1")
    page = int(page_text) if _PAGE_NUMBER.fullmatch(page_text) else 1
    mode_text = params.get("mode", "")
    mode = Mode(mode_text) if mode_text in (Mode.GENERATE.value, Mode.EDIT.value) else None
    # No prompt is longer than a prompt may be, so neither is a useful search.
    limit = frame.jobs().settings.studio_max_prompt_chars
    search = params.get("q", "").strip()
    return View(max(page, 1), search[:limit], mode, params.get("fav") == "1", len(search) > limit)


def set_param(name: str, value: str | None) -> None:
    """Set a query parameter, or drop it when it holds the default (a clean URL)."""
    if value:
        st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]


def set_page(page: int) -> None:
    set_param("page", str(page) if page > 1 else None)


def page_of(index: int) -> int:
    return index // PAGE_SIZE + 1
