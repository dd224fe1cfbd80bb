"""The coordinator's dashboard in Chromium (desktop and a 390x844 phone), who sees the review
link, and earnings pages once a payout went out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from app.web.svg_plots import Series, bar_chart, line_chart, share_bar
from tests import review_world as world
from tests.builders import Member, add_person
from tests.web.test_pages import logged_in
from transcribe.payouts import create_payouts
from transcribe.projects import create_project
from transcribe.users import pause_language

AGREED = "the river is wide"


def run_campaign(database, settings) -> dict[str, Member]:
    """Three clips: one agreed, one disputed (open), one still published; pat is paused."""
    for _ in range(3):
        world.add_clip(database, settings, duration_s=2.0)
    world.publish(database)
    people = {name: add_person(database, name) for name in ("ann", "bob", "cat", "pat")}
    world.transcribe(database, people["ann"], AGREED)
    world.transcribe(database, people["bob"], AGREED)
    world.transcribe(database, people["ann"], "a b c d")
    world.transcribe(database, people["bob"], "w x y z")
    world.decide(database)  # the second clip gets a third slot
    world.transcribe(database, people["cat"], AGREED)  # the third clip, one of two
    world.transcribe(database, people["cat"], "p q r s")  # the second, disagreeing again
    world.decide(database)
    with database.session() as session:
        pause_language(session, people["pat"].person.id, "en", "accuracy 40% over 50 clips")
    return people


def test_svg_plots_are_well_formed_and_escape_labels() -> None:
    for plot in (
        line_chart("a <b>", ["1 Mar", "2 Mar"], [Series("x & y", [1.0, None])], level=("b", 3)),
        bar_chart("bars", ["1 Mar", "2 Mar"], [0.0, 5.0]),
        share_bar("shares", [("agreed", 3), ("<disputed>", 1)]),
    ):
        root = ElementTree.fromstring(str(plot))
        assert root.tag.endswith("svg") and "viewBox" in root.attrib
    assert "<b>" not in str(line_chart("a <b>", ["d"], [Series("s", [1.0])]))
    assert str(bar_chart("empty", [], [])).startswith("<svg")


@pytest.mark.browser
def test_coordinator_dashboard_shows_figures_beside_plots(
    live_server, browser_page, chromium, artifacts_dir
) -> None:
    database, settings = live_server.database, live_server.settings
    with database.session() as session:
        create_project(
            session, "river", overlap=2, max_overlap=settings.max_overlap, budget=Decimal("0.10")
        )
    run_campaign(database, settings)
    boss = add_person(database, "boss", languages=(), roles=("coordinator",))
    page, url = browser_page, live_server.url
    page.goto(f"{url}/login")
    page.fill("input[name=token]", boss.token)
    page.click("button.primary")
    page.goto(f"{url}/coordinator")
    assert page.locator("svg.plot").count() >= 4
    assert page.locator("[data-testid=clips-by-state]").inner_text().count("agreed") >= 1
    assert "1" in page.locator("[data-testid=backlog] .figure").inner_text()
    spend = page.locator("[data-testid=spend]").first.inner_text()
    assert "of 0.10 CNY budget" in spend and "over budget" in spend
    agreement = page.locator("[data-testid=agreement]").inner_text()
    assert re.search(r"English\s+1\s+1\s+50%\s+50%", agreement)
    assert "accuracy 40% over 50 clips" in page.content()
    # a coordinator who is not a reviewer gets no link to a page that would refuse them
    assert page.locator("a[href='/review']").count() == 0
    page.screenshot(path=str(artifacts_dir / "coordinator-dashboard.png"), full_page=True)

    phone = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        small = phone.new_page()
        small.goto(f"{url}/login")
        small.fill("input[name=token]", boss.token)
        small.click("button.primary")
        small.goto(f"{url}/coordinator")
        assert small.locator("svg.plot").first.bounding_box()["width"] <= 390
        overflow = small.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 390, f"the page scrolls sideways on a phone ({overflow}px)"
        small.screenshot(
            path=str(artifacts_dir / "coordinator-dashboard-phone.png"), full_page=True
        )
    finally:
        phone.close()


def test_review_link_only_for_coordinators_who_review(client, sqlite_database) -> None:
    both = add_person(sqlite_database, "rev", roles=("coordinator", "reviewer"))
    logged_in(client, both.token)
    page = client.get("/coordinator").text
    assert 'href="/review"' in page
    assert client.get("/review").status_code == 200


def test_earnings_page_shows_paid_and_unpaid_apart(client, settings, sqlite_database) -> None:
    people = run_campaign(sqlite_database, settings)
    with sqlite_database.session() as session:
        (batch,) = create_payouts(
            session,
            until=datetime.now(UTC) + timedelta(days=1),
            payouts_dir=settings.home_dir / "payouts",
            now=datetime.now(UTC),
        )
    ann = next(line for line in batch.lines if line.name == "ann")
    logged_in(client, people["ann"].token)
    page = client.get("/earnings").text
    paid = re.search(r'data-testid="paid">([^<]+)<', page).group(1)
    unpaid = re.search(r'data-testid="unpaid">([^<]+)<', page).group(1)
    assert paid == f"{ann.amount} CNY" and unpaid == "0.00 CNY"
    assert page.count('class="badge ok">paid</span>') == ann.entries
