"""A newcomer sees the work waiting before the exam and is never dead-ended; a transcriber
paid at the reduced rate reads why, appeals, and sees the reviewer's answer; a leader invites a
member. On a phone-sized screen (390×844) as well as a laptop."""

from __future__ import annotations

import re

import pytest

from review.gold import add_gold
from tests import review_world as world
from tests.builders import add_person
from tests.web.test_worker_flow_api import FINAL, discounted_world

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(chromium):
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def log_in(page, url: str, token: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=token]", token)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(rf"{url}/(review)?$"))


def assert_no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_a_newcomer_sees_work_waiting_and_the_exam_opens_with_gold_clips(
    live_server, phone_page, sqlite_database, artifacts_dir
):
    database, settings = live_server.database, live_server.settings
    settings.exam_clips = 2
    clip_ids = [world.add_clip(database, settings, language="yue") for _ in range(3)]
    world.publish(database, overlap=2)
    _, token = add_person(sqlite_database, "xiaoming", languages=("yue",), qualified=())
    page = phone_page
    log_in(page, live_server.url, token)
    offers = page.locator("[data-testid=offers]")
    row = offers.locator("tr[data-language=yue]")
    assert row.locator("td").nth(1).inner_text() == "3"
    assert re.search(r"\d\.\d\d( CNY|–)", row.locator("td").nth(2).inner_text())
    assert "Exam not open yet" in row.inner_text()
    assert "No clips are" not in page.inner_text("main")
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts_dir / "home_newcomer_exam_not_open_phone.png", full_page=True)

    with database.session() as session:
        for clip_id in clip_ids[:2]:
            add_gold(session, clip_id, "我哋去咗")
    page.reload()
    page.click("[data-testid=offers] >> text=Take the exam to start")
    page.wait_for_url(re.compile(r"/exam/\d+$"))


def test_an_exam_not_open_sends_home_with_a_note_not_an_error(
    live_server, browser_page, sqlite_database
):
    _, token = add_person(sqlite_database, "xiaohong", languages=("cmn",), qualified=())
    page = browser_page
    log_in(page, live_server.url, token)
    page.evaluate(
        """async () => {
        const form = document.createElement('form');
        form.method = 'post'; form.action = '/exam/cmn/start';
        const csrf = document.querySelector('meta[name=csrf-token]').content;
        form.innerHTML = `<input name="csrf_token" value="${csrf}">`;
        document.body.appendChild(form); form.submit(); }"""
    )
    page.wait_for_selector(".notice")
    assert page.url == f"{live_server.url}/"
    assert "exam is not open yet" in page.inner_text(".notice")


def test_the_button_shows_the_price_of_the_next_clip(live_server, browser_page, sqlite_database):
    database, settings = live_server.database, live_server.settings
    world.add_clip(database, settings, language="en", duration_s=2.0)
    world.publish(database, overlap=1)
    _, token = add_person(sqlite_database, "ana")
    page = browser_page
    log_in(page, live_server.url, token)
    label = page.inner_text("[data-testid=offers] button.primary")
    price = re.search(r"Take next clip · (\d+\.\d\d) CNY", label).group(1)
    page.click("[data-testid=offers] button.primary")
    page.wait_for_url(re.compile(r"/work/"))
    assert price in page.inner_text("main")


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}])
def test_a_reduced_payment_is_explained_appealed_and_answered(
    live_server, chromium, artifacts_dir, viewport
):
    database, settings = live_server.database, live_server.settings
    _ann, bob, _cat, rita = discounted_world(database, settings)
    tag = "phone" if viewport == PHONE else "laptop"
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15000)
    log_in(page, live_server.url, bob.token)
    page.click("[data-testid=offers] >> text=Earnings and feedback")
    item = page.locator(".feedback-item").first
    assert item.locator(".own-text").inner_text() == "我哋去公園玩"
    assert item.locator(".final-text").inner_text() == FINAL
    assert "餸" in item.locator("[data-testid=word-diff]").inner_text()
    assert "agreed" in item.inner_text()
    assert page.locator("a[href='/me/accuracy']").count() >= 1
    item.locator("input[name=note]").fill("我聽到佢講公園")
    item.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=appeal-state]")
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts_dir / f"earnings_feedback_{tag}.png", full_page=True)
    page.goto(f"{live_server.url}/me/accuracy")
    worst = page.inner_text(".worst")
    assert "餸" in worst and "𩠌" not in worst and "公園" in worst
    error_before = page.inner_text("#standings tr[data-language=yue]")
    page.go_back()

    reviewer = context.browser.new_context(viewport=viewport).new_page()
    log_in(reviewer, live_server.url, rita.token)
    reviewer.goto(f"{live_server.url}/review/appeals")
    case = reviewer.locator("[data-appeal]").first
    assert "我聽到佢講公園" in case.inner_text()
    case.locator("input[name=comment]").fill("錄音係講公園")
    case.locator("button[value=uphold]").click()
    reviewer.wait_for_selector(".notice")
    assert reviewer.locator("[data-appeal]").count() == 0
    assert_no_sideways_scroll(reviewer)
    reviewer.screenshot(path=artifacts_dir / f"review_appeals_{tag}.png", full_page=True)

    page.reload()
    state = page.locator("[data-testid=appeal-state]").inner_text()
    assert "upheld" in state and "錄音係講公園" in state
    # The upheld verdict is the one accuracy counts: the clip is no longer an error to learn from.
    page.click("a[href='/me/accuracy']")
    error_after = page.inner_text("#standings tr[data-language=yue]")
    assert "0.0%" in error_after and "0.0%" not in error_before
    assert page.locator(".worst").count() == 0
    context.close()


def test_a_leader_invites_a_member_by_link_and_sees_their_work(
    live_server, chromium, artifacts_dir
):
    database, settings = live_server.database, live_server.settings
    ann, bob, _cat, _rita = discounted_world(database, settings)
    leader = chromium.new_context(viewport=PHONE).new_page()
    log_in(leader, live_server.url, ann.token)
    leader.goto(f"{live_server.url}/standing")
    leader.fill("input[name=name]", "粤语小队")
    leader.click("text=Start a team")
    link = leader.input_value("[data-testid=invite-link]")
    member = chromium.new_context(viewport=PHONE).new_page()
    log_in(member, live_server.url, bob.token)
    member.goto(link)
    assert "leader sees" in member.inner_text("main")
    member.click("text=Join the team")
    member.wait_for_selector("text=粤语小队")
    # Not opted in: bob sees his own place, nobody else sees him.
    assert "Only you see this" in member.inner_text("[data-testid=leaderboard]")
    leader.reload()
    members = leader.inner_text("#members")
    assert "bob" in members and "CNY" in members
    assert "bob" not in leader.inner_text("#leaderboard")
    assert_no_sideways_scroll(leader)
    leader.screenshot(path=artifacts_dir / "standing_leader_phone.png", full_page=True)


def test_a_chinese_reader_on_a_phone_reads_offers_feedback_and_standing_in_chinese(
    live_server, chromium, artifacts_dir
):
    database, settings = live_server.database, live_server.settings
    _ann, bob, _cat, _rita = discounted_world(database, settings)
    world.add_clip(database, settings, language="yue")
    world.publish(database, overlap=2)
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    log_in(page, live_server.url, bob.token)
    offers = page.inner_text("[data-testid=offers]")
    assert "待做工作" in offers and "领取下一段" in offers
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts_dir / "home_offers_zh_phone.png", full_page=True)
    page.goto(f"{live_server.url}/earnings")
    feedback = page.inner_text("[data-testid=feedback]")
    assert "降价支付及原因" in feedback and "超过了标准" in feedback
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts_dir / "earnings_feedback_zh_phone.png", full_page=True)
    page.goto(f"{live_server.url}/standing")
    assert "排行榜" in page.inner_text("[data-testid=leaderboard]")
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts_dir / "standing_zh_phone.png", full_page=True)
    context.close()
