"""components.state: what a session keeps, declared once per value, stored only once set."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app_support import RUN_TIMEOUT, texts


def _page() -> None:
    # Runs alone in AppTest.from_function, so it imports what it uses.
    import streamlit as st

    from components.state import Scoped, SessionValue

    clicks = SessionValue("clicks", lambda: 0)
    notes: Scoped[list[str]] = Scoped("notes", list)
    if st.button("Count", key="count"):
        clicks.set(clicks.get() + 1)
    if st.button("Note", key="note"):
        notes("generate").set(["sent"])
    if st.button("Forget", key="forget"):
        clicks.clear()
        notes("generate").clear()
    # A default handed out is a fresh one: changing it changes nothing kept.
    notes("edit").get().append("lost")
    st.text(f"{clicks.get()} {notes('generate').get()} {notes('edit').get()}")


def _session() -> AppTest:
    app = AppTest.from_function(_page, default_timeout=RUN_TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    return app


def test_an_unset_value_reads_as_its_default_and_is_not_stored() -> None:
    app = _session()

    assert texts(app) == ["0 [] []"]
    for key in ("clicks", "notes:generate", "notes:edit"):
        assert key not in app.session_state


def test_a_set_value_is_kept_for_the_session_under_its_own_key() -> None:
    app = _session()

    app.button(key="count").click().run()
    app.button(key="count").click().run()

    assert texts(app) == ["2 [] []"]
    assert app.session_state["clicks"] == 2


def test_each_scope_keeps_its_own_value() -> None:
    app = _session()

    app.button(key="note").click().run()

    assert texts(app) == ["0 ['sent'] []"]
    assert app.session_state["notes:generate"] == ["sent"]
    assert "notes:edit" not in app.session_state


def test_a_cleared_value_is_forgotten_and_reads_as_its_default_again() -> None:
    app = _session()
    app.button(key="count").click().run()
    app.button(key="note").click().run()

    app.button(key="forget").click().run()

    assert texts(app) == ["0 [] []"]
    assert "clicks" not in app.session_state
    assert "notes:generate" not in app.session_state
    app.button(key="forget").click().run()  # clearing what is not set is harmless
    assert texts(app) == ["0 [] []"]
