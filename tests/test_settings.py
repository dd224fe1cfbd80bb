"""Every setting the README documents exists, is read from the environment, and has one default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crowdscribe.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def documented_variables() -> set[str]:
    """The ``CROWDSCRIBE_*`` names in the README's configuration table (``_X`` is short for
    ``CROWDSCRIBE_X`` in a row that lists several)."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            for name in re.findall(r"`(CROWDSCRIBE_\w+|_[A-Z_]+)`", row.split("|")[1]):
                names.add(name if name.startswith("CROWDSCRIBE") else "CROWDSCRIBE" + name)
    return names


def test_the_readme_documents_exactly_the_settings() -> None:
    fields = {f"CROWDSCRIBE_{name.upper()}" for name in Settings.model_fields}
    assert documented_variables() == fields


@pytest.mark.parametrize(
    ("variable", "text", "value"),
    [
        ("CROWDSCRIBE_MAX_CLIP_S", "8", 8.0),
        ("CROWDSCRIBE_CLIPS_URL", "s3://clips/pilot", "s3://clips/pilot"),
        ("CROWDSCRIBE_LEASE_S", "120", 120.0),
        ("CROWDSCRIBE_DEFAULT_OVERLAP", "3", 3),
        ("CROWDSCRIBE_MAX_OVERLAP", "2", 2),
        ("CROWDSCRIBE_GOLD_RATE", "0.1", 0.1),
        ("CROWDSCRIBE_EXAM_CLIPS", "3", 3),
        ("CROWDSCRIBE_EXAM_THRESHOLD", "0.2", 0.2),
        ("CROWDSCRIBE_EXAM_COOLDOWN_S", "60", 60.0),
        ("CROWDSCRIBE_ACCURACY_BAR", "0.3", 0.3),
        ("CROWDSCRIBE_ACCURACY_WINDOW", "20", 20),
        ("CROWDSCRIBE_RATES_FILE", "/etc/rates.toml", Path("/etc/rates.toml")),
        ("CROWDSCRIBE_POLICY_FILE", "/etc/policy.toml", Path("/etc/policy.toml")),
        ("CROWDSCRIBE_DATABASE_URL", "postgresql://x@h/db", "postgresql://x@h/db"),
        ("CROWDSCRIBE_SECRET_KEY", "s3cret", "s3cret"),
    ],
)
def test_each_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str, text: str, value: object
) -> None:
    monkeypatch.setenv(variable, text)
    field = variable.removeprefix("CROWDSCRIBE_").lower()
    assert getattr(Settings(), field) == value
