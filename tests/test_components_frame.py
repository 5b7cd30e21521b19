"""components.frame: the sidebar (backend, typed key, counts) and the guard on deep links."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from components.frame import get_studio
from studio.credentials import Backend, Credentials
from studio.emulator import RunningEmulator
from studio.runtime import Runtime
from studio.states import WAITING_FOR_KEY, JobStatus
from tests.app_support import (
    ALICE,
    APP_FILE,
    AUTH,
    BOSS,
    EVE,
    GALLERY,
    RUN_TIMEOUT,
    app_as,
    live_jobs,
    open_app,
    open_app_studio,
    seed_job,
    shown_text,
    submit_generation,
)
from tests.conftest import EMULATOR_KEY

DEMO_NOTE = (
    "Demo backend: images are drawn on this machine and nothing is billed. To use FoxAPI, "
    "start the studio with FOXAPI_API_KEY set, or use a key in this browser session:"
)


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


@pytest.fixture
def upstream_studio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> Iterator[Runtime]:
    """No key on the server; "FoxAPI" is an emulator that wants EMULATOR_KEY."""
    yield from open_app_studio(tmp_path, monkeypatch, base_url=emulator.base_url)


@pytest.fixture
def keyed_studio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> Iterator[Runtime]:
    """A server configured with a key: every session uses FoxAPI (here an emulator)."""
    yield from open_app_studio(
        tmp_path, monkeypatch, base_url=emulator.base_url, api_key=EMULATOR_KEY
    )


def test_a_demo_asks_for_no_key_and_counts_no_bill_but_says_how_to_use_a_key(
    studio: Runtime,
) -> None:
    seed_job(studio.store, "a demo fox", num_outputs=4)

    app = open_app()

    assert [info.value for info in app.sidebar.info] == [DEMO_NOTE]
    # The key field waits, folded, under the notice that points to it.
    [folded] = app.sidebar.expander
    assert folded.label == "Use a FoxAPI key"
    assert [field.key for field in folded.text_input] == ["foxapi_key"]
    metrics = {metric.label: metric.value for metric in app.sidebar.metric}
    assert metrics == {"Jobs in flight": "1"}


def test_with_a_key_the_sidebar_counts_jobs_and_images_billed_today(
    keyed_studio: Runtime, emulator: RunningEmulator
) -> None:
    foxapi_key = Credentials(Backend.FOXAPI, emulator.base_url, EMULATOR_KEY).key_id
    seed_job(keyed_studio.store, "a fox in flight", num_outputs=3, key_id=foxapi_key)
    seed_job(keyed_studio.store, "a fox that failed", status=JobStatus.FAILED, num_outputs=2)
    seed_job(keyed_studio.store, "a demo fox", num_outputs=4)  # drawn locally: never billed

    app = open_app()

    metrics = {metric.label: metric.value for metric in app.sidebar.metric}
    assert metrics == {"Jobs in flight": "2", "Images billed today": "3"}


def test_a_first_request_straight_to_the_gallery_gets_the_frame(studio: Runtime) -> None:
    # A fresh session whose very first run is /gallery: Streamlit runs pages/gallery.py
    # by the old folder rules, without app.py, until the page's guard steps in.
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.switch_page(GALLERY)
    app.query_params["q"] = "fox"
    app.run()

    assert not app.exception
    assert [title.value for title in app.title] == ["Gallery"]
    assert [info.value for info in app.sidebar.info] == [DEMO_NOTE]
    assert app.query_params["q"] == "fox"


def test_a_typed_key_switches_this_session_to_foxapi_and_is_never_shown(
    upstream_studio: Runtime, emulator: RunningEmulator
) -> None:
    app = open_app()
    app.sidebar.text_input(key="foxapi_key").set_value(EMULATOR_KEY).run()

    [note] = app.sidebar.success
    assert "FoxAPI at 127\\.0\\.0\\.1" in note.value
    assert "with the key you entered (this browser session only)" in note.value
    # Out of the demo: the field is in view (to change or clear the key), and so is the bill.
    assert not app.sidebar.expander
    assert app.sidebar.text_input(key="foxapi_key").value == EMULATOR_KEY
    assert "Images billed today" in [metric.label for metric in app.sidebar.metric]
    app.run()  # and it stays so on the next run
    assert app.sidebar.success and not app.sidebar.info
    submit_generation(app, "a fox sent with my own key")

    assert not app.error
    [job] = upstream_studio.store.jobs.jobs()
    assert job.backend == Backend.FOXAPI
    assert job.key_id == Credentials(Backend.FOXAPI, emulator.base_url, EMULATOR_KEY).key_id
    assert [entry.path for entry in emulator.log if entry.method == "POST"] == [
        "/v1/images/generations"
    ]
    assert "drawn on this machine" not in shown_text(app)
    assert EMULATOR_KEY not in shown_text(app)
    assert EMULATOR_KEY not in Path(upstream_studio.settings.database_url[10:]).read_bytes().decode(
        "latin-1"
    )

    other_session = open_app()  # another browser keeps the demo backend
    assert [info.value for info in other_session.sidebar.info] == [DEMO_NOTE]


def test_a_wrong_typed_key_is_refused_in_plain_words(upstream_studio: Runtime) -> None:
    app = open_app()
    app.sidebar.text_input(key="foxapi_key").set_value("sk-not-the-right-one").run()

    submit_generation(app, "a fox with the wrong key")

    [error] = app.error
    assert "key" in error.value.lower()
    assert "sk-not-the-right-one" not in shown_text(app)
    assert upstream_studio.store.jobs.jobs() == []


def test_typing_the_key_again_resumes_the_jobs_waiting_for_it(
    upstream_studio: Runtime, emulator: RunningEmulator
) -> None:
    key_id = Credentials(Backend.FOXAPI, emulator.base_url, EMULATOR_KEY).key_id
    seed_job(upstream_studio.store, "sent before the server restarted", key_id=key_id, progress=30)
    app = open_app(GALLERY)
    assert [job["words"] for job in live_jobs(app)] == [WAITING_FOR_KEY]

    app.sidebar.text_input(key="foxapi_key").set_value(EMULATOR_KEY).run()

    assert [job["words"] for job in live_jobs(app)] == ["Generating 30 %"]


def test_a_server_with_a_key_names_foxapi_and_asks_for_none(keyed_studio: Runtime) -> None:
    app = open_app()

    [note] = app.sidebar.success
    assert note.value.startswith("FoxAPI at 127\\.0\\.0\\.1")
    assert "key you entered" not in note.value
    assert "foxapi_key" not in [field.key for field in app.sidebar.text_input]
    assert "1 image will be billed by FoxAPI." in [caption.value for caption in app.caption]
    assert EMULATOR_KEY not in shown_text(app)


# Sign-in ------------------------------------------------------------------------------


def test_without_sign_in_every_page_is_the_sign_in_screen(studio: Runtime) -> None:
    seed_job(studio.store, "a secret fox", status=JobStatus.FAILED)
    for page_file in (None, GALLERY, "pages/edit.py", "pages/usage.py"):
        app = app_as({"is_logged_in": False}, page_file)
        assert [button.label for button in app.button] == ["Sign in"]
        assert "grok-imagine-image" in shown_text(app)  # it says what the studio is
        assert "secret fox" not in shown_text(app)
        assert not app.sidebar.text_input  # no key field, no counters
        assert [title.value for title in app.title] == ["Image Studio"]


def test_one_sign_in_button_per_provider(studio: Runtime) -> None:
    named = {key: value for key, value in AUTH.items() if key.startswith(("redirect", "cookie"))}
    provider = {key: value for key, value in AUTH.items() if key not in named}
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.secrets["auth"] = named | {"google": provider, "microsoft": provider}
    app.user = {"is_logged_in": False}
    app.run()
    assert [button.label for button in app.button] == [
        "Sign in with Google",
        "Sign in with Microsoft",
    ]


def test_a_person_outside_the_allowed_list_is_told_and_shown_nothing(
    studio: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_ALLOWED_EMAILS", "@example.com")
    st.cache_resource.clear()
    seed_job(get_studio().store, "a secret fox", status=JobStatus.FAILED)
    app = app_as(EVE, GALLERY)
    [refusal] = app.error
    assert refusal.value.startswith("This studio is not open to eve@")
    assert "elsewhere\\.org" in refusal.value
    assert [button.label for button in app.button] == ["Sign out"]
    assert "secret fox" not in shown_text(app) and "Gallery" not in shown_text(app)


def test_signed_in_people_keep_their_key_field_and_bill_in_view_in_a_demo(
    studio: Runtime,
) -> None:
    app = app_as(ALICE)

    [note] = app.sidebar.info
    assert note.value.endswith("To use FoxAPI, enter your key below.")
    assert not app.sidebar.expander
    assert app.sidebar.text_input(key="foxapi_key").label == "FoxAPI key"
    assert "Images billed today" in [metric.label for metric in app.sidebar.metric]


def test_the_sidebar_names_who_is_signed_in(studio: Runtime) -> None:
    app = app_as(ALICE)
    assert "Signed in as **Alice**" in app.sidebar.markdown[0].value
    assert "Sign out" in [button.label for button in app.sidebar.button]
    assert [title.value for title in app.title] == ["Generate"]


def test_the_usage_page_is_only_in_an_admins_navigation(
    studio: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_ADMINS", "boss@example.com")
    st.cache_resource.clear()
    get_studio()
    assert "Usage" not in shown_text(app_as(ALICE))
    assert "Usage" not in [title.value for title in app_as(ALICE, "pages/usage.py").title]
    boss = app_as(BOSS, "pages/usage.py")
    assert [title.value for title in boss.title] == ["Usage"]


def test_a_server_whose_data_folder_cannot_be_written_stops_with_one_clear_line(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a folder under a file cannot be made, even by root
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOXAPI_", "STUDIO_"))}
    env["STUDIO_DATA_DIR"] = str(blocker / "data")
    started = subprocess.run(
        [
            sys.executable,
            *("-m", "streamlit", "run", str(APP_FILE)),
            *("--server.headless", "true", "--server.address", "127.0.0.1"),
            *("--server.port", "0"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 1
    assert started.stderr.splitlines() == [
        f"The studio cannot write to its data folder {blocker / 'data'} (not a directory): "
        "make it writable, or set STUDIO_DATA_DIR to a folder that is."
    ]
