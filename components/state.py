"""Typed access to `st.session_state`: each component declares the values it keeps.

A value is declared once, with its key and what it holds when unset, so no key is
ever rebuilt as a string in two places. `Scoped` keeps one value per form or page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import streamlit as st

T = TypeVar("T")


class SessionValue(Generic[T]):
    def __init__(self, key: str, default: Callable[[], T]) -> None:
        self.key = key
        self._default = default

    def get(self) -> T:
        """The value kept for this session, or a fresh default (not stored)."""
        if self.key in st.session_state:
            value: T = st.session_state[self.key]
            return value
        return self._default()

    def set(self, value: T) -> None:
        st.session_state[self.key] = value

    def clear(self) -> None:
        st.session_state.pop(self.key, None)


class Scoped(Generic[T]):
    """One SessionValue per scope (a form, a page): `feedback("generate").get()`."""

    def __init__(self, prefix: str, default: Callable[[], T]) -> None:
        self._prefix = prefix
        self._default = default

    def __call__(self, scope: str) -> SessionValue[T]:
        return SessionValue(f"{self._prefix}:{scope}", self._default)
