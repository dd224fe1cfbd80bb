"""People and access: tokens shown once and stored hashed, passwords, qualifications."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import select

from crowdscribe.errors import Conflict, InvalidInput
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import User
from transcribe.users import (
    authenticate_password,
    authenticate_token,
    create_user,
    list_people,
    pause_language,
    qualified_languages,
    set_qualified,
)


def test_the_token_works_once_shown_and_only_its_digest_is_stored(database: Database) -> None:
    with database.session() as session:
        person, token = create_user(
            session, "ann", ["transcriber", "reviewer"], ["en", "YUE"], qualified=["en"]
        )
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    with database.session() as session:
        row = session.scalar(select(User))
        assert token not in (row.token_digest, row.password_hash)
        assert row.token_digest == hashlib.sha256(token.encode()).hexdigest()
        found = authenticate_token(session, token)
        assert found == person
        assert found.roles == frozenset({"transcriber", "reviewer"})
        assert found.languages == ("en", "yue")
        assert authenticate_token(session, token[:-1] + "x") is None
        assert authenticate_token(session, "") is None


def test_passwords_are_argon2_hashes_and_unknown_names_fail_alike(database: Database) -> None:
    with database.session() as session:
        create_user(session, "bob", ["coordinator"], [], password="correct horse")
    with database.session() as session:
        assert session.scalar(select(User.password_hash)).startswith("$argon2")
        assert authenticate_password(session, "bob", "correct horse").name == "bob"
        assert authenticate_password(session, "bob", "wrong") is None
        started = time.perf_counter()
        assert authenticate_password(session, "nobody", "wrong") is None
        unknown_s = time.perf_counter() - started
        started = time.perf_counter()
        authenticate_password(session, "bob", "wrong")
        known_s = time.perf_counter() - started
    # The unknown name still pays for one argon2 verification.
    assert unknown_s > known_s / 4


def test_names_are_unique_and_roles_checked(database: Database) -> None:
    with database.session() as session:
        create_user(session, "ann", ["transcriber"], ["en"])
    with pytest.raises(Conflict, match="already exists"), database.session() as session:
        create_user(session, "ann", ["transcriber"], ["en"])
    with pytest.raises(InvalidInput, match="unknown role"), database.session() as session:
        create_user(session, "cat", ["boss"], ["en"])
    refusal = pytest.raises(InvalidInput, match="not among their languages")
    with refusal, database.session() as session:
        create_user(session, "dan", ["transcriber"], ["en"], qualified=["yue"])


def test_a_pause_stops_work_in_one_language_until_requalified(database: Database) -> None:
    with database.session() as session:
        ann, _ = create_user(session, "ann", ["transcriber"], ["en", "yue"], qualified=["en,yue"])
        pause_language(session, ann.id, "yue", "error rate 0.31 over the last 50 clips")
    with database.session() as session:
        assert qualified_languages(session, ann.id) == ["en"]
        [(person, records)] = list_people(session)
        paused = {r.language: (r.status, r.reason) for r in records}
        assert paused["yue"] == ("paused", "error rate 0.31 over the last 50 clips")
        set_qualified(session, ann.id, "yue")
    with database.session() as session:
        assert qualified_languages(session, ann.id) == ["en", "yue"]
