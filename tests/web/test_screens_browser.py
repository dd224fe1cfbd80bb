"""Every page a Chinese transcriber, a reviewer and a coordinator open, at phone (390×844) and
desktop (1280×800) size, in Chinese and English: no sideways scrolling, the page's words in
its language, no language codes or English left on a Chinese page, and times with their zone.
Screenshots go to tests/artifacts/screen_{locale}_{size}_{page}.png, to be looked at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from crowdscribe.storage.models import LedgerEntry
from crowdscribe.storage.states import LedgerState
from review.appeals import file_appeal
from tests import review_world as world
from tests.builders import add_person
from tests.web.test_review_browser import make_disputes
from transcribe.standing import create_team, join_team, set_leaderboard_choice

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
LOCALES = {"zh-CN": "zh-CN,zh;q=0.9", "en": "en-US,en;q=0.9"}
FINAL = "我哋一齊去街市買餸"
# A word each page must show, per language (the Chinese one proves the page is translated).
WORDS = {
    "zh-CN": {
        "login": "访问令牌",
        "home": "你的语言",
        "work": "提交并领取下一段",
        "earnings": "最近提交",
        "accuracy": "准确率",
        "standing": "排行榜",
        "team_join": "加入",
        "review": "待审核的争议",
        "appeals": "申诉",
        "dashboard": "各语言一致情况",
        "people": "人员",
        "person": "访问权限",
        "stuck": "卡住的片段",
    },
    "en": {
        "login": "Access token",
        "home": "Your languages",
        "work": "Submit and take the next clip",
        "earnings": "Recent submissions",
        "accuracy": "Your accuracy",
        "standing": "Leaderboard",
        "team_join": "Join",
        "review": "Disputes waiting for review",
        "appeals": "Appeal",
        "dashboard": "Agreement per language",
        "people": "People",
        "person": "Access",
        "stuck": "Stuck clips",
    },
}
# The lease's end names the reader's zone (Asia/Shanghai by default).
ZONE_NAMES = {"zh-CN": "中国时间", "en": "China Time"}
# Language codes as stored: a page shows names (粤语, Cantonese), never these.
RAW_CODES = re.compile(r"\b(yue|cmn|en)\b")
# Words a Chinese page may keep: the product, currencies, key names, units, zone names.
ENGLISH_ALLOWED = re.compile(
    r"crowdscribe|CNY|API|Esc|Ctrl|Alt|Space|Enter|JSON|Asia/Shanghai|UTC|English|"
    r"ann|bob|cat|mei|lin|kai|boss|river|rec-\d+\.wav|[0-9a-f]{8,}"
)


@dataclass(frozen=True)
class Screens:
    url: str
    mei: str  # a Cantonese transcriber: discounted work, an appeal, a team she leads
    boss: str  # coordinator and reviewer
    invite_code: str


def build_world(live_server) -> Screens:
    """Disputes to review, a stuck clip, and mei's Cantonese work: one transcript discounted
    and appealed, a clip waiting for her, a team and the leaderboard."""
    database, settings = live_server.database, live_server.settings
    make_disputes(live_server)
    people = {
        name: add_person(database, name, languages=("yue", "en")) for name in ("mei", "lin", "kai")
    }
    world.add_clip(database, settings, speech="[wrong language]")
    world.publish(database)
    for name in ("lin", "kai"):
        world.skip(database, people[name], "wrong_language")
    world.add_clip(database, settings, language="yue", speech="ngo dei")
    world.publish(database)
    world.transcribe(database, people["lin"], FINAL, language="yue")
    world.transcribe(database, people["mei"], "我哋去公園玩", language="yue")
    world.decide(database)
    world.transcribe(database, people["kai"], FINAL, language="yue")
    world.decide(database)
    world.add_clip(database, settings, language="yue", speech="ngo dei heoi gaai si")
    world.publish(database)
    boss = add_person(database, "boss", languages=("yue",), roles=("coordinator", "reviewer"))
    mei = people["mei"].person
    with database.session() as session:
        discounted = session.scalar(
            select(LedgerEntry.submission_id).where(
                LedgerEntry.user_id == mei.id, LedgerEntry.state == LedgerState.DISCOUNTED
            )
        )
        file_appeal(session, mei.id, discounted, "我听到佢讲公园", world._now())
        team = create_team(session, mei.id, "粤语小队", world._now())
        join_team(session, people["lin"].person.id, team.invite_code, world._now())
        set_leaderboard_choice(session, mei.id, show=True, display_name="小美")
    return Screens(live_server.url, people["mei"].token, boss.token, team.invite_code)


@contextmanager
def browser(chromium, locale: str, size: str) -> Iterator[object]:
    """A browser of ``size`` on the Asia/Shanghai clock asking for ``locale``."""
    phone = size == "phone"
    context = chromium.new_context(
        viewport=SIZES[size],
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        locale=locale,
        timezone_id="Asia/Shanghai",
        extra_http_headers={"Accept-Language": LOCALES[locale]},
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


def log_in(page, url: str, token: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/login")
    page.fill("input[name=token]", token)
    page.click("button.primary")
    page.wait_for_load_state()


def looks_right(page, locale: str, size: str, name: str, artifacts_dir) -> None:
    """No sideways scrolling; the page's word in its language; on a Chinese page no language
    code and no English beyond names, codes and units."""
    page.screenshot(path=str(artifacts_dir / f"screen_{locale}_{size}_{name}.png"), full_page=True)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width == SIZES[size]["width"], (name, scroll_width, inner_width)
    text = page.inner_text("body")
    assert WORDS[locale][name] in text, name
    if locale == "zh-CN":
        # Transcripts, tags, commands and keys are written as they are typed, in any language.
        for quoted in page.locator("code, kbd, [data-insert], textarea").all_inner_texts():
            text = text.replace(quoted, " ", 1)
        assert not RAW_CODES.search(text), (name, RAW_CODES.findall(text))
        english = re.findall(r"[A-Za-z][A-Za-z'’-]+(?: [A-Za-z][A-Za-z'’-]+)*", text)
        left = [words for words in english if not ENGLISH_ALLOWED.fullmatch(words)]
        # The transcripts on the review pages are English speech, so those pages may quote it.
        if name not in ("review", "person"):
            assert left == [], (name, left)


@pytest.mark.parametrize("locale", list(LOCALES))
def test_every_page_reads_well_at_phone_and_desktop_size(
    locale, live_server, chromium, artifacts_dir
):
    screens = build_world(live_server)
    url = screens.url
    for size in SIZES:
        with browser(chromium, locale, size) as page:
            page.goto(f"{url}/login")
            looks_right(page, locale, size, "login", artifacts_dir)
            log_in(page, url, screens.mei)
            looks_right(page, locale, size, "home", artifacts_dir)
            # The first visit takes a clip; the second finds it held and goes back to it.
            held = page.locator("a.button[href^='/work/']")
            page.click(
                "a.button[href^='/work/']" if held.count() else "form[action='/work/next'] button"
            )
            page.wait_for_url(re.compile(r"/work/\w+$"))
            looks_right(page, locale, size, "work", artifacts_dir)
            # The lease end names its zone, not a bare clock time.
            assert ZONE_NAMES[locale] in page.inner_text("#lease-status")
            for name, path in (
                ("earnings", "/earnings"),
                ("accuracy", "/me/accuracy"),
                ("standing", "/standing"),
                ("team_join", f"/teams/join/{screens.invite_code}"),
            ):
                page.goto(f"{url}{path}")
                looks_right(page, locale, size, name, artifacts_dir)
            # The week began at midnight on the reader's clock, and says so.
            page.goto(f"{url}/standing")
            assert ZONE_NAMES[locale] in page.inner_text("[data-testid=period-start]")
            assert "00:00" in page.inner_text("[data-testid=period-start]")
            log_in(page, url, screens.boss)
            for name, path in (
                ("review", "/review"),
                ("appeals", "/review/appeals"),
                ("dashboard", "/coordinator"),
                ("people", "/coordinator/people"),
                ("person", "/coordinator/people/mei"),
                ("stuck", "/coordinator/stuck"),
            ):
                page.goto(f"{url}{path}")
                looks_right(page, locale, size, name, artifacts_dir)
