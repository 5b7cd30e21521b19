"""components.outage: a database that stops answering shows one sentence on every page, and
the page comes back once it answers, with the handler app.py gives st.App."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.local_script_runner import LocalScriptRunner

from components import outage
from components.frame import get_studio
from studio.db import database
from studio.errors import DatabaseUnavailable
from studio.runtime import Runtime
from tests.app_support import APP_FILE, BOSS, RUN_TIMEOUT, app_as, open_app_studio
from tests.board_support import board_of, shared_board
from tests.pg_support import free_port

PAGES = ("pages/generate.py", "pages/edit.py", "pages/gallery.py", "pages/boards.py")


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """The app's studio, and AppTest's runs handled as st.App handles the server's.

    AppTest runs app.py as a script, so the st.App built at its end (and its
    on_script_error) is not what runs it: the handler is given to each run here instead.
    """
    starts_runner = LocalScriptRunner.__init__

    def with_handler(runner: LocalScriptRunner, *args: Any, **kwargs: Any) -> None:
        starts_runner(runner, *args, **kwargs)
        runner._on_script_error = outage.on_script_error

    monkeypatch.setattr(LocalScriptRunner, "__init__", with_handler)
    yield from open_app_studio(tmp_path, monkeypatch)


@contextmanager
def database_away_for(studio: Runtime) -> Iterator[None]:
    """The store's database stops answering (its address now leads nowhere) for a while."""
    answering = studio.store.db.engine
    studio.store.db.engine = database.create_engine(
        f"postgresql+psycopg://studio@127.0.0.1:{free_port()}/studio", pool_size=1
    )
    try:
        yield
    finally:
        studio.store.db.engine.dispose()
        studio.store.db.engine = answering


@pytest.fixture
def database_away(studio: Runtime) -> Iterator[None]:
    with database_away_for(studio):
        yield


def the_app(page_file: str | None = None, **query: str) -> AppTest:
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    if page_file is not None:
        app.switch_page(page_file)
    app.query_params.update(query)
    return app.run()


def sentences(app: AppTest) -> list[str]:
    return [warning.value for warning in app.warning]


@pytest.mark.parametrize("page_file", PAGES)
def test_each_page_says_the_database_is_not_answering_instead_of_crashing(
    studio: Runtime, page_file: str
) -> None:
    app = the_app()
    with database_away_for(studio):
        app.switch_page(page_file).run()
        assert not app.exception
        assert sentences(app) == [outage.SENTENCE]
    # Answering again: the next run (the page's own retry, in a browser) is the page.
    app.run()
    assert not app.exception
    assert outage.SENTENCE not in sentences(app)
    # The sidebar is back too (on the demo backend it counts no bill).
    assert [metric.label for metric in app.metric] == ["Jobs in flight"]


def test_a_first_visit_during_an_outage_gets_the_sentence_too(
    studio: Runtime, database_away: None
) -> None:
    app = the_app("pages/gallery.py")
    assert not app.exception
    assert sentences(app) == [outage.SENTENCE]


def test_a_review_link_during_an_outage_gets_the_sentence(studio: Runtime) -> None:
    board, _items = board_of(studio, "A fox for review")
    token = shared_board(studio, board)
    with database_away_for(studio):
        app = the_app(token=token)
        assert not app.exception
        assert sentences(app) == [outage.SENTENCE]
    app.run()
    assert not app.exception
    assert outage.SENTENCE not in sentences(app)
    assert app.title[0].value == "Client picks"


def test_a_signed_in_admin_on_the_usage_page_gets_the_sentence(
    studio: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_ADMINS", "boss@example.com")
    st.cache_resource.clear()
    admins_studio = get_studio()
    app = app_as(BOSS, "pages/usage.py")
    with database_away_for(admins_studio):  # who is signed in is read from it first
        app.run()
        assert not app.exception
        assert sentences(app) == [outage.SENTENCE]
    app.run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Usage"]


def test_only_an_outage_is_taken_over_and_other_failures_stay_visible() -> None:
    away = DatabaseUnavailable("The studio cannot reach its database at x: refused.")
    assert outage.is_outage(away)
    try:
        try:
            raise away
        except DatabaseUnavailable as problem:
            raise RuntimeError("drawing the page failed") from problem
    except RuntimeError as wrapped:
        assert outage.is_outage(wrapped)
    assert not outage.is_outage(ValueError("a bug"))
    assert outage.on_script_error(ValueError("a bug")) is False
