"""Server-rendered pages through a plain HTTP client: work, skip, no work, earnings, overview."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdscribe.storage.models import Assignment
from tests.builders import add_person
from transcribe.users import pause_language


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def logged_in(client: TestClient, token: str) -> str:
    """Log the client in with ``token``; returns the session's CSRF token."""
    client.post("/login", data={"csrf_token": csrf_of(client.get("/login").text), "token": token})
    return csrf_of(client.get("/").text)


def take_next(client: TestClient, csrf: str):
    return client.post("/work/next", data={"csrf_token": csrf, "language": "en"})


def test_the_work_page_shows_the_clip_price_player_and_palette(
    client, sqlite_database, spoken_clips, publish
):
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "ana")
    page = take_next(client, logged_in(client, token))
    assert re.search(r"/work/\w{32}$", str(page.url))
    assert "pays 0.10 CNY" in page.text
    assert '<canvas id="waveform"' in page.text and "data-peaks='[" in page.text
    assert 'data-insert="[noise]"' in page.text
    assert "Alt</kbd>+<kbd>R" in page.text


def test_someone_elses_work_page_is_not_found_and_names_no_clip(
    client, spoken_clips, publish, sqlite_database
):
    [clip_id] = spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, ana = add_person(sqlite_database, "ana")
    _, ben = add_person(sqlite_database, "ben")
    take_next(client, logged_in(client, ana))
    with sqlite_database.session() as session:
        assignment_id = session.scalar(select(Assignment.id))
    client.cookies.clear()
    logged_in(client, ben)
    page = client.get(f"/work/{assignment_id}")
    assert page.status_code == 404
    assert clip_id not in page.text and "the cat" not in page.text


def test_skipping_with_a_reason_moves_on_and_says_when_work_runs_out(
    client, spoken_clips, publish, sqlite_database
):
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "ana")
    csrf = logged_in(client, token)
    work = take_next(client, csrf)
    assignment_id = str(work.url).rsplit("/", 1)[1]
    skipped = client.post(
        f"/work/{assignment_id}/skip", data={"csrf_token": csrf, "reason": "bad_audio"}
    )
    assert str(skipped.url).endswith("/no-work")
    assert "Nothing to transcribe right now" in skipped.text
    assert "Skipped. Thank you for saying why." in skipped.text
    with sqlite_database.session() as session:
        assert session.get(Assignment, assignment_id).skip_reason == "bad_audio"


def test_a_convention_slip_keeps_the_text_and_shows_where(
    client, sqlite_database, spoken_clips, publish
):
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "ana")
    csrf = logged_in(client, token)
    assignment_id = str(take_next(client, csrf).url).rsplit("/", 1)[1]
    page = client.post(
        f"/work/{assignment_id}/submit",
        data={"csrf_token": csrf, "text": "the [cat sat", "request_id": "r-page-0001"},
    )
    assert page.status_code == 422
    assert ">the [cat sat</textarea>" in page.text
    assert "Characters 5–" in page.text


def test_submitting_shows_pending_earnings_on_the_earnings_page(
    client, sqlite_database, spoken_clips, publish
):
    spoken_clips(["the cat sat on the mat"])
    publish(overlap=2)
    _, token = add_person(sqlite_database, "ana")
    csrf = logged_in(client, token)
    assignment_id = str(take_next(client, csrf).url).rsplit("/", 1)[1]
    after = client.post(
        f"/work/{assignment_id}/submit",
        data={"csrf_token": csrf, "text": "the cat sat on the mat", "request_id": "r-page-0002"},
    )
    assert "Submitted." in after.text and str(after.url).endswith("/no-work")
    earnings = client.get("/earnings").text
    assert "the cat sat on the mat" in earnings
    assert re.search(r"Pending review</div><div class=\"figure\">0\.10 CNY", earnings)


def test_the_overview_counts_progress_and_lists_paused_people(
    client, spoken_clips, publish, sqlite_database
):
    spoken_clips(["one clip", "two clip"])
    publish(overlap=2)
    _, boss = add_person(sqlite_database, "boss", roles=("coordinator",), languages=())
    paused, _ = add_person(sqlite_database, "pat")
    with sqlite_database.session() as session:
        pause_language(session, paused.id, "en", "accuracy 31% over the last 50 clips")
    logged_in(client, boss)
    page = client.get("/coordinator").text
    assert re.search(r"<td>English</td><td>webtest</td>\s*<td class=\"num\">2</td>", page)
    assert "accuracy 31% over the last 50 clips" in page and "<td>pat</td>" in page
    assert "minimum 0.10 CNY per clip" in page
    # Pat was the only one working in English: both clips wait with nobody left to take them.
    assert re.search(
        r'data-testid="stuck">.*?<div class="figure">2</div>\s*'
        r'<p class="muted">2 nobody left to take it',
        page,
        re.S,
    )
    stuck = client.get("/coordinator/stuck").text
    assert stuck.count("nobody active is qualified in English (1 paused, 0 deactivated)") == 2
