"""A coordinator publishes real speech; two new transcribers log in, listen, type, fix a
convention slip the page points out, submit until the work runs out."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crowdscribe.storage.models import Submission
from tests.builders import add_person

pytestmark = pytest.mark.browser

TEXTS = {
    "the cat sat on the mat": "the cat sat on the mat",
    "a dog ran in the park": "a dog ran in the park",
}


def log_in_with_token(page, url: str, token: str, lands_on: str = "/") -> None:
    page.goto(f"{url}/")
    assert "/login" in page.url
    page.fill("input[name=token]", token)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{url}{lands_on}")


def log_in_with_password(page, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{url}/")


def play_and_hear(page) -> None:
    """Press play and wait for the audio clock to move; pause again with Esc from the text box."""
    page.click("#play")
    page.wait_for_function("document.getElementById('clip-audio').currentTime > 0.3")
    page.wait_for_selector("[data-player][data-state=playing]")
    assert page.get_attribute("#play", "aria-pressed") == "true"
    page.focus("#transcript")
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-player][data-state=paused]")
    assert page.evaluate("document.getElementById('clip-audio').paused")


def transcribe_until_no_work(page, url: str, shots, who: str) -> int:
    """Work through clips as a person would; returns how many were submitted."""
    done = 0
    while "/work/" in page.url:
        play_and_hear(page)
        clip_id = page.get_attribute("#clip-audio", "src").split("/")[-2]
        heard = page.evaluate("document.getElementById('clip-audio').src")
        assert clip_id in heard
        # Typing plain letters (including the shortcut letters r and l) goes into the text.
        page.click("#transcript")
        page.keyboard.type("rl [nosie] ")
        assert page.input_value("#transcript") == "rl [nosie] "
        assert page.get_attribute("#loop", "aria-pressed") == "false"
        problem = page.locator("#problems li", has_text="[nosie]")
        problem.wait_for()
        assert "Characters 4–10" in problem.inner_text()
        if done == 0:
            page.screenshot(path=shots / f"work_{who}_convention_error.png", full_page=True)
        # Submitting with the problem still there keeps the person on the clip.
        page.click("#send")
        page.wait_for_timeout(300)
        assert "/work/" in page.url and page.input_value("#transcript") == "rl [nosie] "
        page.fill("#transcript", "")
        page.click("button[data-insert='[noise]']")
        page.keyboard.type("spoken words here")
        page.locator("#problems li", has_text="Follows the conventions").wait_for()
        assert page.input_value("#transcript") == "[noise] spoken words here"
        with page.expect_navigation():
            page.click("#send")
        done += 1
    return done


def test_two_new_transcribers_work_through_published_speech(
    live_server, browser_page, chromium, spoken_clips, sqlite_database, publish, artifacts_dir
):
    url = live_server.url
    clip_ids = spoken_clips(list(TEXTS))
    _, boss_token = add_person(sqlite_database, "coordinator", roles=("coordinator",), languages=())
    assert publish(overlap=2) == 2
    _, ana_token = add_person(sqlite_database, "ana")
    add_person(sqlite_database, "ben", password="listen carefully")

    page = browser_page
    log_in_with_token(page, url, ana_token)
    take = page.locator("form[action='/work/next'] button")
    assert re.search(r"Take next clip · 0\.\d\d CNY", take.inner_text())
    assert "2" in page.locator("td.num").first.inner_text()
    page.screenshot(path=artifacts_dir / "home_ana.png", full_page=True)
    take.click()
    page.wait_for_url(re.compile(r"/work/\w+"))
    page.wait_for_function("document.getElementById('clip-audio').readyState >= 1")
    page.screenshot(path=artifacts_dir / "work_ana.png", full_page=True)
    assert transcribe_until_no_work(page, url, artifacts_dir, "ana") == 2
    page.locator("[data-testid=no-work]").wait_for()
    page.screenshot(path=artifacts_dir / "no_work_ana.png", full_page=True)

    ben_context = chromium.new_context(viewport={"width": 420, "height": 860})
    ben = ben_context.new_page()
    log_in_with_password(ben, url, "ben", "listen carefully")
    ben.click("form[action='/work/next'] button")
    ben.wait_for_url(re.compile(r"/work/\w+"))
    ben.screenshot(path=artifacts_dir / "work_ben_narrow.png", full_page=True)
    assert transcribe_until_no_work(ben, url, artifacts_dir, "ben") == 2
    assert "Nothing to transcribe right now" in ben.content()
    ben.goto(f"{url}/earnings")
    assert ben.locator("tbody tr").count() == 2
    ben.screenshot(path=artifacts_dir / "earnings_ben.png", full_page=True)
    ben_context.close()

    with live_server.database.session() as session:
        rows = session.execute(select(Submission.clip_id, Submission.user_id, Submission.text))
        by_clip: dict[str, set[int]] = {}
        for clip_id, user_id, text in rows:
            assert text == "[noise] spoken words here"
            by_clip.setdefault(clip_id, set()).add(user_id)
    assert sorted(by_clip) == sorted(clip_ids)
    assert all(len(people) == 2 for people in by_clip.values())

    boss = chromium.new_context()
    overview = boss.new_page()
    log_in_with_token(overview, url, boss_token, lands_on="/coordinator")
    assert overview.locator("[data-testid=submissions-today]").inner_text() == "4"
    overview.screenshot(path=artifacts_dir / "coordinator.png", full_page=True)
    boss.close()
