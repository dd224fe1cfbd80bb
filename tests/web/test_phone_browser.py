"""Phone first: every page at 390×844 in Chinese and English, no sideways scrolling, the main
buttons within thumb's reach; and a player that keeps the person's settings and leaves the
keyboard to the input method while it composes. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from review.gold import add_gold
from tests.builders import add_person
from tests.web.test_review_browser import make_disputes

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LOCALES = {"zh-CN": "zh-CN,zh;q=0.9", "en": "en-US,en;q=0.9"}
SPOKEN = ["the cat sat on the mat", "a bird sang in the tall tree", "we walk home after school"]
GOLD = ["the quick brown fox jumps over the lazy dog", "she sells sea shells by the shore"]
# Words each page must show in each language (the Chinese proves the page is translated).
WORDS = {
    "zh-CN": {
        "login": "访问令牌",
        "home": "领取下一段",
        "work": "提交并领取下一段",
        "earnings": "最近提交",
        "exam": "资格考试",
        "review": "待审核的争议",
        "dispute": "转写对齐",
    },
    "en": {
        "login": "Access token",
        "home": "Take next clip",
        "work": "Submit and take the next clip",
        "earnings": "Recent submissions",
        "exam": "Qualification exam",
        "review": "Disputes waiting for review",
        "dispute": "Transcripts, aligned",
    },
}


@contextmanager
def phone(chromium, locale: str) -> Iterator[object]:
    """A phone-sized touch browser in Asia/Shanghai asking for ``locale``."""
    context = chromium.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
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


def fits_the_phone(page, locale: str, name: str, artifacts_dir) -> None:
    """No horizontal scrolling, the page's words in its language; a screenshot kept."""
    page.screenshot(path=str(artifacts_dir / f"phone_{locale}_{name}.png"), full_page=True)
    # A phone browser zooms out to fit a page wider than the screen, widening innerWidth with
    # it; so the width is held to the phone's, too.
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width == PHONE["width"], (name, scroll_width, inner_width)
    assert WORDS[locale][name] in page.inner_text("body"), name


def within_reach(page, selector: str) -> None:
    """The control is on screen horizontally, full size, and big enough for a thumb."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 40, box


def log_in(page, url: str, token: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=token]", token)
    page.click("button.primary")
    page.wait_for_load_state()


@pytest.mark.parametrize("locale", list(LOCALES))
def test_transcriber_pages_fit_a_phone(
    locale, live_server, chromium, spoken_clips, sqlite_database, publish, artifacts_dir
):
    url = live_server.url
    live_server.settings.exam_clips = 2
    for clip_id, text in zip(spoken_clips(GOLD, project="gold"), GOLD, strict=True):
        with live_server.database.session() as session:
            add_gold(session, clip_id, text)
    spoken_clips(SPOKEN)
    publish(overlap=2)
    _, token = add_person(sqlite_database, "mei")
    _, newcomer = add_person(sqlite_database, "newcomer", qualified=())

    with phone(chromium, locale) as page:
        page.goto(f"{url}/login")
        fits_the_phone(page, locale, "login", artifacts_dir)
        within_reach(page, "button.primary")
        log_in(page, url, token)
        fits_the_phone(page, locale, "home", artifacts_dir)
        within_reach(page, "form[action='/work/next'] button")

        page.click("form[action='/work/next'] button")
        page.wait_for_url(re.compile(r"/work/\w+$"))
        fits_the_phone(page, locale, "work", artifacts_dir)
        for control in ("#play", "#send", "#skip-clip", "#transcript"):
            within_reach(page, control)
        page.fill("#transcript", "the cat sat on the mat")
        page.locator("#problems li.ok, #problems li").first.wait_for()
        with page.expect_navigation():
            page.click("#send")

        page.goto(f"{url}/earnings")
        fits_the_phone(page, locale, "earnings", artifacts_dir)
        # Status and amount of a submission are on screen, not cut off to the right.
        row = page.locator("#submissions tbody tr").first
        for label in (2, 3):
            cell = row.locator("td").nth(label + 2).bounding_box()
            assert cell["x"] + cell["width"] <= PHONE["width"]

        page.context.clear_cookies()
        log_in(page, url, newcomer)
        page.click("form[action$='/start'] button")
        page.wait_for_url(re.compile(r"/exam/\d+$"))
        fits_the_phone(page, locale, "exam", artifacts_dir)
        within_reach(page, "#send")


@pytest.mark.parametrize("locale", list(LOCALES))
def test_review_pages_fit_a_phone(locale, live_server, chromium, artifacts_dir):
    url = live_server.url
    (_bad_audio, first, _second), _people = make_disputes(live_server)
    rita = add_person(live_server.database, "rita", roles=("reviewer",))
    with phone(chromium, locale) as page:
        log_in(page, url, rita.token)
        page.goto(f"{url}/review")
        fits_the_phone(page, locale, "review", artifacts_dir)
        page.goto(f"{url}/review/disputes/{first}")
        fits_the_phone(page, locale, "dispute", artifacts_dir)
        for control in ("#accept-1", "#save-final", "#mark-unusable"):
            within_reach(page, control)


def test_the_player_keeps_speed_loop_and_volume_and_leaves_ime_keys_alone(
    live_server, browser_page, spoken_clips, sqlite_database, publish, artifacts_dir
):
    url, page = live_server.url, browser_page
    spoken_clips(SPOKEN)
    publish(overlap=1)
    _, token = add_person(sqlite_database, "kai")
    log_in(page, url, token)
    page.click("form[action='/work/next'] button")
    page.wait_for_url(re.compile(r"/work/\w+$"))
    first_clip = page.url
    page.select_option("#speed", "1.25")
    page.click("#loop")
    page.fill("#volume", "0.4")

    # While an input method composes, Esc (and the rest) belong to it: nothing plays.
    page.focus("#transcript")
    page.evaluate(
        """() => {
          const box = document.getElementById("transcript");
          box.dispatchEvent(new KeyboardEvent("keydown",
            {key: "Escape", code: "Escape", isComposing: true, bubbles: true}));
          const legacy = new KeyboardEvent("keydown",
            {key: "Escape", code: "Escape", bubbles: true});
          Object.defineProperty(legacy, "keyCode", {get: () => 229});
          box.dispatchEvent(legacy);
          box.dispatchEvent(new KeyboardEvent("keydown",
            {key: "Enter", code: "Enter", ctrlKey: true, isComposing: true, bubbles: true}));
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("document.getElementById('clip-audio').paused")
    assert page.url == first_clip
    page.keyboard.press("Escape")
    page.wait_for_function("!document.getElementById('clip-audio').paused")
    page.keyboard.press("Escape")

    page.fill("#transcript", "the cat sat on the mat")
    page.locator("#problems li").first.wait_for()
    with page.expect_navigation():
        page.click("#send")
    page.wait_for_url(re.compile(r"/work/\w+$"))
    assert page.url != first_clip
    state = page.evaluate(
        """() => {
          const audio = document.getElementById("clip-audio");
          return [audio.playbackRate, audio.loop, audio.volume,
                  document.getElementById("speed").value,
                  document.getElementById("loop").getAttribute("aria-pressed"),
                  document.getElementById("volume").value];
        }"""
    )
    assert state == [1.25, True, 0.4, "1.25", "true", "0.4"]
    # The kept speed holds once the new clip plays, too.
    page.click("#play")
    page.wait_for_function("document.getElementById('clip-audio').currentTime > 0.2")
    assert page.evaluate("document.getElementById('clip-audio').playbackRate") == 1.25
    page.screenshot(path=str(artifacts_dir / "player_settings_kept.png"), full_page=True)
