"""All configuration in one place, read from the environment (prefix ``CROWDSCRIBE_``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Two agreeing transcripts are the smallest majority that can accept a clip (review.decisions).
MIN_DECIDING_OVERLAP = 2


class Settings(BaseSettings):
    """Where data lives and how the pipeline behaves; every field has a working default."""

    model_config = SettingsConfigDict(env_prefix="CROWDSCRIBE_", extra="ignore")

    home: Path = Field(default=Path("crowdscribe-data"))
    database_url: str | None = None
    secret_key: str | None = None
    # Session cookies only over HTTPS: on wherever the app is served behind TLS.
    secure_cookies: bool = False
    # Collection: where clip files and manifests go, a folder or an fsspec URL such as
    # s3://bucket/prefix (credentials from the AWS_* environment); else HOME/clips.
    max_clip_s: float = 15.0
    clips_url: str | None = None
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
    # People: times shown in this IANA zone until a person's browser saves theirs (the crowd is
    # mostly in UTC+8); work languages whose readers want a given script by default.
    default_time_zone: str = "Asia/Shanghai"
    language_locales: dict[str, str] = Field(default_factory=lambda: {"yue": "zh_Hant"})
    # Script of stored and exported Chinese final texts, per language, over review.script's
    # defaults (cmn simplified, yue hk); JSON, e.g. {"yue": "traditional"}
    final_scripts: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overlap_can_decide(self) -> Settings:
        """Refuse an overlap limit no decision can use: past the first limit at which no two
        texts agreeing is still possible, one more text can never complete a majority."""
        limit = deciding_overlap_limit(self.default_overlap)
        if self.max_overlap < MIN_DECIDING_OVERLAP:
            raise ValueError(
                f"MAX_OVERLAP={self.max_overlap} cannot work: agreement needs two transcripts "
                f"that agree, so the limit must be at least {MIN_DECIDING_OVERLAP} (with one, "
                f"every clip of a writer not yet trusted would go to a reviewer)"
            )
        if not 1 <= self.default_overlap <= self.max_overlap <= limit:
            raise ValueError(
                f"MAX_OVERLAP={self.max_overlap} with DEFAULT_OVERLAP={self.default_overlap} "
                f"cannot work: the limit must be between the default overlap and {limit}, the "
                f"most transcriptions that can still form an agreeing majority (more are paid "
                f"for but can never change the outcome)"
            )
        return self

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
    def resolved_clips_url(self) -> str:
        """Where collect writes clips: the configured URL or folder, else ``HOME/clips``."""
        return self.clips_url or str(self.clips_dir)

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, else SQLite inside the data home."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'crowdscribe.db'}"

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


def deciding_overlap_limit(default_overlap: int) -> int:
    """The most transcriptions a clip starting at ``default_overlap`` can usefully reach: one
    more helps only while the largest possible non-majority group plus the new text would be a
    strict majority (after 3 texts of which no two agree, a 4th cannot make 3 of 4)."""
    count = max(default_overlap, 1)
    group = max(count // 2, 1)
    while 2 * (group + 1) > count + 1:
        count += 1
        group = min(group + 1, count // 2)
    return count


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()


def settings_for(home: str | None) -> Settings:
    """Settings with the data home at ``home`` (flows, tests, scripts), else the process-wide."""
    return Settings(home=Path(home)) if home else get_settings()
