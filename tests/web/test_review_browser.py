"""A reviewer resolves disputes end to end in Chromium, keyboard first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowdscribe.storage.models import Clip, Dispute, LedgerEntry
from tests import review_world as world
from tests.builders import add_person

pytestmark = pytest.mark.browser

SPOKEN = "we caught three fish in the river"
TEXTS = (
    "we caught three fish in the river",
    "we bought three fish in the river [noise]",
    "we caught tree fish in a river",
)


def make_disputes(live_server):
    """A clip skipped twice as bad audio, then two spoken clips whose three transcripts all
    disagree. Returns the dispute ids (bad audio first: it was disputed first) and the people."""
    database, settings = live_server.database, live_server.settings
    for _ in range(2):
        world.add_clip(database, settings, speech=SPOKEN)
    world.add_clip(database, settings, speech="[mumbling]")
    world.publish(database)
    people = {name: add_person(database, name) for name in ("ann", "bob", "cat")}
    for _ in range(2):
        world.transcribe(database, people["ann"], TEXTS[0])
        world.transcribe(database, people["bob"], TEXTS[1])
    world.skip(database, people["ann"], "bad_audio")
    world.skip(database, people["bob"], "bad_audio")
    world.decide(database)
    for _ in range(2):
        world.transcribe(database, people["cat"], TEXTS[2])
    world.decide(database)
    with database.session() as session:
        ids = list(session.scalars(select(Dispute.id).order_by(Dispute.created_at, Dispute.id)))
    return ids, people


def log_in(page, url: str, token: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=token]", token)
    page.click("button.primary")


def test_reviewer_resolves_disputes_with_the_keyboard(
    live_server, browser_page, artifacts_dir
) -> None:
    page, url = browser_page, live_server.url
    (bad_audio, first, second), people = make_disputes(live_server)
    rita = add_person(live_server.database, "rita", roles=("reviewer",))
    log_in(page, url, rita.token)

    page.goto(f"{url}/review")
    assert page.locator("#disputes tbody tr").count() == 3
    page.select_option("#filter-age", "86400")
    page.click("text=Filter")
    assert page.locator("#empty").is_visible()
    page.goto(f"{url}/review")
    page.screenshot(path=str(artifacts_dir / "review_queue.png"), full_page=True)

    page.click(f"tr[data-dispute='{first}'] >> text=Review")
    page.wait_for_selector("#aligned")
    # Three rows aligned word by word; the words they disagree on are highlighted.
    assert page.locator("#aligned tr").count() == 3
    highlighted = page.locator("#aligned tr[data-transcript='2'] td.diff").all_inner_texts()
    assert highlighted == ["bought", "three", "the", "[noise]"]
    assert page.locator("#aligned tr[data-transcript='3'] td.diff").all_inner_texts() == [
        "caught",
        "tree",
        "a",
    ]
    assert "no checked clips yet" in page.locator("#transcripts li").first.inner_text()
    # The clip plays for the reviewer.
    page.click("#play")
    page.wait_for_function("document.getElementById('clip-audio').currentTime > 0.3")
    page.screenshot(path=str(artifacts_dir / "review_dispute.png"), full_page=True)

    # E edits; a convention error is shown inline and nothing is resolved.
    page.locator("h1").click()
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.id") == "final-text"
    page.fill("#final-text", "we caught three fish in the [rivr")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#problems li >> text=Characters")
    page.screenshot(path=str(artifacts_dir / "review_problem.png"), full_page=True)
    assert page.url.endswith(f"/review/disputes/{first}")
    # Typing "1" inside the text box types; it does not accept transcript 1.
    page.fill("#final-text", "we caught three fish in the river [laugh] ")
    page.focus("#final-text")
    page.keyboard.press("End")
    page.keyboard.press("1")
    assert page.input_value("#final-text").endswith("[laugh] 1")
    page.fill("#final-text", "we caught three fish in the river [laugh]")
    page.keyboard.press("Control+Enter")
    # The next dispute opens: the oldest still open, the bad-audio clip.
    page.wait_for_url(f"**/review/disputes/{bad_audio}")
    assert f"Dispute {first}: saved your final text" in page.inner_text(".notice")
    assert "said the audio is bad" in page.inner_text("main")

    # U, the reason is already "bad audio", Ctrl+Enter.
    page.locator("h1").click()
    page.keyboard.press("u")
    assert page.evaluate("document.activeElement.id") == "unusable-reason"
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/review/disputes/{second}")

    # Pressing 1 with the focus outside any text box accepts transcript 1.
    page.locator("h1").click()
    page.keyboard.press("1")
    page.wait_for_url(f"{url}/review")
    assert page.locator("#empty").is_visible()
    page.screenshot(path=str(artifacts_dir / "review_done.png"), full_page=True)

    with live_server.database.session() as session:
        clips = session.execute(
            select(Dispute.id, Clip.status, Clip.final_text)
            .join(Clip, Clip.id == Dispute.clip_id)
            .order_by(Dispute.id)
        ).all()
        states = sorted(session.scalars(select(LedgerEntry.state)))
    assert sorted(clips) == sorted(
        [
            (first, "resolved", "we caught three fish in the river [laugh]"),
            (bad_audio, "unusable", None),
            (second, "resolved", TEXTS[0]),
        ]
    )
    # Ann's text matched both finals; Bob's and Cat's did not; nobody typed the unusable clip.
    assert states == ["credited"] * 2 + ["discounted"] * 4

    # Bob sees his own accuracy, and where he went wrong.
    page.context.clear_cookies()
    log_in(page, url, people["bob"].token)
    page.goto(f"{url}/me/accuracy")
    cells = page.locator("#standings tr[data-language='en'] td").all_inner_texts()
    assert cells[:2] == ["English", "2"]
    assert page.locator(".worst .tok.substitute").count() >= 2
    page.screenshot(path=str(artifacts_dir / "my_accuracy.png"), full_page=True)


VERBATIM_TEXTS = (
    "um we we caught three fish in the riv- river [noise]",
    "we bought three fish on the river",
    "uh we caught tree fish in a river",
)
VERBATIM_LABELS = {
    "en": ("Verbatim differences", ["filler", "filler", "repetition", "cut-off", "tag"]),
    "zh-CN": ("逐字差异", ["语气词", "语气词", "重复", "话说一半", "标记"]),
}


@pytest.mark.parametrize("locale", list(VERBATIM_LABELS))
def test_verbatim_differences_are_listed_apart_from_the_words(
    live_server, chromium, artifacts_dir, locale
) -> None:
    database, settings = live_server.database, live_server.settings
    world.add_clip(database, settings, speech=SPOKEN)
    world.publish(database)
    people = [add_person(database, name) for name in ("ann", "bob", "cat")]
    for person, text in zip(people[:2], VERBATIM_TEXTS, strict=False):
        world.transcribe(database, person, text)
    world.decide(database)
    world.transcribe(database, people[2], VERBATIM_TEXTS[2])
    world.decide(database)
    with database.session() as session:
        dispute = session.scalar(select(Dispute.id))
    rita = add_person(database, "rita", roles=("reviewer",))
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900},
        locale=locale,
        extra_http_headers={"Accept-Language": f"{locale},en;q=0.5"},
    )
    page = context.new_page()
    try:
        log_in(page, live_server.url, rita.token)
        page.goto(f"{live_server.url}/review/disputes/{dispute}")
        heading, kinds = VERBATIM_LABELS[locale]
        assert heading in page.inner_text("#verbatim h3")
        assert page.inner_text("#verbatim-count") == "5"
        rows = page.locator("#verbatim tbody tr")
        assert rows.locator("td:first-child").all_inner_texts() == kinds
        # Transcript 1 heard the filler, the repetition, the cut-off and the noise; 2 none.
        assert rows.locator("code").all_inner_texts() == ["uh", "um", "we ×2", "riv-", "[noise]"]
        assert [row.locator("td").all_inner_texts()[2:] for row in rows.all()] == [
            ["·", "·", "1"],
            ["1", "·", "·"],
            ["1", "·", "·"],
            ["1", "·", "·"],
            ["1", "·", "·"],
        ]
        # The word disagreement is measured without them: 4 of 7 words (bob's and cat's).
        assert "57%" in page.inner_text("[data-player] p.muted")
        assert page.locator("#aligned tr").count() == 3
        page.screenshot(path=str(artifacts_dir / f"review_verbatim_{locale}.png"), full_page=True)
        api = page.request.get(f"{live_server.url}/api/v1/disputes/{dispute}").json()
        assert [row["kind"] for row in api["verbatim_differences"]] == [
            "filler",
            "filler",
            "repetition",
            "cut_off",
            "tag",
        ]
        assert api["verbatim_differences"][0] == {
            "kind": "filler",
            "event": "uh",
            "counts": [0, 0, 1],
        }
    finally:
        context.close()
