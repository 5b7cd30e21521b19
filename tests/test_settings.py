"""Settings come from the environment first, then .streamlit/secrets.toml, then defaults."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import InvalidImage
from studio.request import GenerationRequest
from studio.runtime import Runtime, open_studio
from studio.settings import DEFAULT_BASE_URL, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "FOXAPI_API_KEY",
        "FOXAPI_BASE_URL",
        "STUDIO_DATA_DIR",
        "STUDIO_DATABASE_URL",
        "STUDIO_ALLOWED_FETCH_HOSTS",
        "STUDIO_DOWNLOAD_DEADLINE_SECONDS",
        "STUDIO_MAX_DOWNLOAD_BYTES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def write_secrets(text: str) -> None:
    Path(".streamlit").mkdir()
    Path(".streamlit/secrets.toml").write_text(text)


def test_defaults_run_on_the_demo_backend_with_data_in_the_project() -> None:
    settings = Settings()
    assert settings.api_key is None
    assert settings.foxapi_base_url == DEFAULT_BASE_URL
    assert settings.database_url == f"sqlite:///{Path('data/studio.db').resolve()}"


def test_secrets_file_is_read_with_environment_style_names() -> None:
    write_secrets('FOXAPI_API_KEY = "sk-from-file"\nSTUDIO_DATA_DIR = "/srv/studio"\n')
    settings = Settings()
    assert settings.api_key == "sk-from-file"
    assert settings.studio_data_dir == Path("/srv/studio")


def test_environment_wins_over_the_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write_secrets('FOXAPI_API_KEY = "sk-from-file"\n')
    monkeypatch.setenv("FOXAPI_API_KEY", "sk-from-env")
    monkeypatch.setenv("STUDIO_DATABASE_URL", "postgresql://studio@db/studio")
    settings = Settings()
    assert settings.api_key == "sk-from-env"
    assert settings.database_url == "postgresql://studio@db/studio"


def test_a_blank_key_means_demo_and_the_key_never_shows_in_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FOXAPI_API_KEY", "   ")
    assert Settings().api_key is None
    monkeypatch.setenv("FOXAPI_API_KEY", "sk-very-secret")
    assert "sk-very-secret" not in repr(Settings())


def test_download_limits_and_allowed_fetch_hosts_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = Settings()
    assert defaults.studio_download_deadline_seconds == 120
    assert defaults.studio_allowed_fetch_hosts == ()
    monkeypatch.setenv("STUDIO_ALLOWED_FETCH_HOSTS", " images.internal, 10.0.0.5:9000,,[::1]:81 ")
    monkeypatch.setenv("STUDIO_DOWNLOAD_DEADLINE_SECONDS", "30")
    monkeypatch.setenv("STUDIO_MAX_DOWNLOAD_BYTES", "1000")
    settings = Settings()
    assert settings.studio_allowed_fetch_hosts == ("images.internal", "10.0.0.5:9000", "[::1]:81")
    assert settings.studio_download_deadline_seconds == 30
    assert settings.studio_max_download_bytes == 1000


def test_allowed_fetch_hosts_may_be_a_list_in_the_secrets_file() -> None:
    write_secrets('STUDIO_ALLOWED_FETCH_HOSTS = ["images.internal", "10.0.0.5:9000"]\n')
    assert Settings().studio_allowed_fetch_hosts == ("images.internal", "10.0.0.5:9000")


def test_paper_and_content_credentials_settings_read_as_people_write_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = Settings()
    assert (defaults.studio_paper, defaults.studio_c2pa) == ("A4", True)
    monkeypatch.setenv("STUDIO_PAPER", " letter ")
    monkeypatch.setenv("STUDIO_C2PA", "off")
    monkeypatch.setenv("STUDIO_C2PA_KEY", "-----BEGIN PRIVATE KEY-----")
    settings = Settings()
    assert (settings.studio_paper, settings.studio_c2pa) == ("Letter", False)
    assert "BEGIN PRIVATE KEY" not in repr(settings)
    monkeypatch.setenv("STUDIO_PAPER", "A3")
    with pytest.raises(ValueError, match="studio_paper"):
        Settings()


def test_every_studio_setting_the_deployment_recipe_names_exists() -> None:
    root = Path(__file__).resolve().parent.parent
    recipe = (root / "docs" / "deploy.md").read_text() + (
        root / "docs" / "deploy" / "compose.yaml"
    ).read_text()
    named = set(re.findall(r"\b(STUDIO_[A-Z_]+)\b", recipe))
    assert named  # the recipe does set some
    assert named <= {name.upper() for name in Settings.model_fields}


# Each setting changes what the studio does. Most are proven where they act (test_jobs,
# test_fetch, test_people, test_storage...); these are the ones read only at start.


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    studios: list[Runtime] = []

    def open_with(**values: object) -> Runtime:
        settings = Settings(
            foxapi_api_key="sk-unused",
            foxapi_base_url="http://127.0.0.1:9",
            studio_data_dir=tmp_path / "data",
            **values,
        )
        studios.append(open_studio(settings, start=False))
        return studios[-1]

    yield open_with
    for studio in studios:
        studio.close()


def test_the_thumbnail_size_is_the_setting(opened: Callable[..., Runtime]) -> None:
    archive = opened(studio_thumbnail_px=128).archive
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 512), "orange").save(buffer, "PNG")

    saved = archive.save(buffer.getvalue())

    with Image.open(io.BytesIO(archive.read(saved.thumb_path))) as thumbnail:
        assert max(thumbnail.size) == 128


def test_the_upload_pixel_limit_is_the_setting(opened: Callable[..., Runtime]) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1000), "teal").save(buffer, "PNG")
    service = opened(studio_max_upload_pixels=1_000_000).service

    with pytest.raises(InvalidImage) as refused:
        service.gallery.upload_input(buffer.getvalue(), "wide.png")

    assert "pixels" in refused.value.message or "megapixels" in refused.value.message


def test_the_lease_and_the_request_rate_are_the_settings(opened: Callable[..., Runtime]) -> None:
    studio = opened(studio_lease_seconds=7, studio_max_requests_per_second=2)
    request = GenerationRequest.build(prompt="a fox")

    job = studio.store.jobs.create_job(
        request,
        backend="foxapi",
        key_id="key-x",
        lease_owner=studio.engine.owner,
        lease_seconds=studio.engine.lease_seconds,
    )

    with studio.store.engine.connect() as conn:
        lease_until = conn.exec_driver_sql(
            "SELECT lease_until - created_at FROM jobs WHERE id = ?", (job.id,)
        ).scalar_one()
    assert lease_until == pytest.approx(7, abs=0.5)
    assert "interval=0.5 s" in repr(studio.engine.clients.demo_limiter)  # 2 requests a second


def test_the_database_pool_size_is_the_setting(opened: Callable[..., Runtime]) -> None:
    assert opened(studio_database_pool_size=3).store.engine.pool.size() == 3  # type: ignore[attr-defined]
