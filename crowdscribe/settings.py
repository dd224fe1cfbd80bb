"""All configuration in one place, read from the environment (prefix ``CROWDSCRIBE_``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where data lives and how the pipeline behaves; every field has a working default."""

    model_config = SettingsConfigDict(env_prefix="CROWDSCRIBE_", extra="ignore")

    home: Path = Field(default=Path("crowdscribe-data"))
    database_url: str | None = None
    secret_key: str | None = None
    # Collection
    max_clip_s: float = 15.0
    # Dispatch
    lease_s: float = 600.0
    default_overlap: int = 2
    max_overlap: int = 3
    gold_rate: float = 0.05
    # Qualification exam
    exam_clips: int = 5
    exam_threshold: float = 0.15
    exam_cooldown_s: float = 3600.0
    # Accuracy bar: paused in a language above this error rate over the last N final clips
    accuracy_bar: float = 0.25
    accuracy_window: int = 50
    # Optional TOML files; defaults live in code (transcribe.pricing, review.agreement)
    rates_file: Path | None = None
    policy_file: Path | None = None

    @property
    def home_dir(self) -> Path:
        """The data home as an absolute path, created on first use."""
        path = self.home.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def clips_dir(self) -> Path:
        return self.home_dir / "clips"

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, else SQLite inside the data home."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'crowdscribe.db'}"

    @property
    def people_changed_file(self) -> Path:
        """Touched whenever access changes (deactivation, new token, roles): web servers forget
        the API tokens they trusted when its modification time moves."""
        return self.home_dir / "people.changed"

    def note_people_changed(self) -> None:
        """Tell every web server on this data home to check tokens again from the next request."""
        self.people_changed_file.touch()

    @property
    def resolved_secret_key(self) -> str:
        """Cookie-signing key: configured, else generated once and kept in the data home."""
        if self.secret_key:
            return self.secret_key
        key_file = self.home_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()


def settings_for(home: str | None) -> Settings:
    """Settings with the data home at ``home`` (flows, tests, scripts), else the process-wide."""
    return Settings(home=Path(home)) if home else get_settings()
