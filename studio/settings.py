"""Settings: the environment first, then `.streamlit/secrets.toml`, then defaults."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from studio import share_address

SECRETS_FILE = Path(".streamlit/secrets.toml")
DEFAULT_BASE_URL = "https://api.foxapi.cc"


class Settings(BaseSettings):
    """Every knob of the studio. Names match the environment variables."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    foxapi_api_key: SecretStr | None = None
    foxapi_base_url: str = DEFAULT_BASE_URL
    studio_data_dir: Path = Path("data")
    studio_database_url: str | None = None
    # Connections each process keeps open to the database (as many more under a burst):
    # servers x 2 x this must stay under PostgreSQL's max_connections.
    studio_database_pool_size: int = Field(default=5, ge=1)
    studio_storage_url: str | None = None
    studio_max_prompt_chars: int = Field(default=4000, ge=1)
    studio_max_requests_per_second: float = Field(default=5.0, gt=0)
    studio_max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    studio_max_upload_pixels: int = Field(default=40_000_000, gt=0)
    studio_max_download_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    studio_download_deadline_seconds: float = Field(default=120.0, gt=0)
    # `host` or `host:port` entries, comma-separated in the environment.
    studio_allowed_fetch_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    studio_lease_seconds: float = Field(default=30.0, gt=0)
    studio_thumbnail_px: int = Field(default=512, ge=64)
    # A click that would bill more images than this asks to be confirmed first.
    studio_confirm_above_images: int = Field(default=8, ge=1)
    # Signs the links pages give to images and downloads. Every server of one deployment
    # needs the same value; unset, a random one is kept in the data folder.
    studio_url_secret: SecretStr | None = None
    # Sign-in (`[auth]` in .streamlit/secrets.toml) decides who is who; these decide who
    # may enter and what each may spend. Emails are compared without regard to case.
    # Addresses and `@domain` entries, comma-separated; empty admits every signed-in person.
    studio_allowed_emails: str = ""
    studio_admins: str = ""  # emails of the people who see everything and the Usage page
    studio_private_galleries: bool = False  # True: people see only their own images
    # Images billed per person per day, and for the whole studio per calendar month;
    # 0 means no limit.
    studio_daily_image_limit: int = Field(default=0, ge=0)
    studio_monthly_image_limit: int = Field(default=0, ge=0)
    # Votes and comments one review link may change per minute, all its reviewers together.
    studio_review_changes_per_minute: int = Field(default=60, ge=1)
    # How long a new review link lives unless its owner says otherwise.
    studio_review_link_days: int = Field(default=7, ge=1)
    # How long a deleted image waits in the Trash before it and its files go for good.
    studio_trash_days: int = Field(default=30, ge=1)
    # The address people outside reach the studio at (https://studio.example.com): shared
    # links start with it. Unset, they start with the address the sharer's browser is on.
    studio_public_url: str | None = None
    # A Slack-compatible incoming webhook (https://hooks.slack.com/..., or any that takes
    # {"text": ...}): told when a reviewer sends their review and when a sweep finishes.
    studio_webhook_url: SecretStr | None = None
    # Content credentials (C2PA) on every download: off with STUDIO_C2PA=off. The
    # certificate chain (end-entity first) and its key are PEM files or PEM text; unset,
    # a self-signed chain is made in the data folder (readers call it untrusted).
    studio_c2pa: bool = True
    studio_c2pa_cert: str | None = None
    studio_c2pa_key: SecretStr | None = None
    studio_c2pa_tsa_url: str | None = None  # a timestamp authority for the signatures
    # The contact sheet PDF's paper: A4 or Letter.
    studio_paper: Literal["A4", "Letter"] = "A4"
    # The standard names S3 clients read. Unset, boto3 looks in its usual places
    # (the environment, ~/.aws, an instance role); set here, .streamlit/secrets.toml works too.
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None

    @field_validator("studio_allowed_fetch_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(entry.strip() for entry in value.split(",") if entry.strip())
        return value

    @field_validator("studio_public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        if isinstance(value, str):
            return share_address.public_base(value)
        return value

    @field_validator("studio_paper", mode="before")
    @classmethod
    def _paper_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"a4": "A4", "letter": "Letter"}.get(value.strip().lower(), value)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # st.secrets raises when the file is missing, so read the TOML file directly;
        # with case_sensitive=False its keys may be spelt like the environment's.
        secrets = TomlConfigSettingsSource(settings_cls, toml_file=SECRETS_FILE)
        return (init_settings, env_settings, secrets)

    @property
    def api_key(self) -> str | None:
        """The configured key, or None when the studio should run on the demo backend."""
        if self.foxapi_api_key is None:
            return None
        return self.foxapi_api_key.get_secret_value().strip() or None

    @cached_property
    def database_url(self) -> str:
        if self.studio_database_url:
            return self.studio_database_url
        return f"sqlite:///{(self.studio_data_dir / 'studio.db').resolve()}"

    @cached_property
    def storage_url(self) -> str:
        """Where originals and thumbnails go: `s3://bucket/prefix`, or a folder."""
        if self.studio_storage_url:
            return self.studio_storage_url
        return str((self.studio_data_dir / "images").resolve())


# Every default, read from the one place it is written (no environment, no secrets file):
# for code that takes a setting as a parameter and is also called without one.
DEFAULTS = Settings.model_construct()
