"""Over the JSON API: a tag typed with a Chinese input method is the same tag as the canonical
one, so two people who heard the same agree and are both paid in full."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from crowdscribe.storage.models import Clip, LedgerEntry, Submission
from tests import review_world as world
from tests.builders import add_person


def test_full_width_and_canonical_tags_agree_and_both_are_paid_in_full(
    database, settings, serve
) -> None:
    world.add_clip(database, settings, language="yue", speech="ngo dei heoi zo")
    world.publish(database, overlap=2)
    people = [add_person(database, name, languages=("yue",)) for name in ("ah", "bo")]
    with serve(database) as server:
        for member, text in zip(people, ("【noise】 我哋去咗", "[noise] 我哋去咗"), strict=True):
            headers = {"Authorization": f"Bearer {member.token}"}
            with httpx.Client(base_url=server.url, headers=headers) as http:
                claim = http.post("/api/v1/clips/next", json={"language": "yue"}).json()
                submitted = http.post(
                    f"/api/v1/assignments/{claim['assignment_id']}/submit",
                    json={"text": text, "request_id": f"request-{member.person.name}"},
                )
                assert submitted.status_code == 201, submitted.text
    world.decide(database)
    with database.session() as session:
        clip = session.scalar(select(Clip))
        entries = session.execute(
            select(LedgerEntry.state, LedgerEntry.amount).order_by(LedgerEntry.id)
        ).all()
        stored = session.scalars(select(Submission.text).order_by(Submission.id)).all()
    assert clip.status == "agreed" and clip.agreement_error == 0.0
    assert [state for state, _ in entries] == ["credited", "credited"]
    assert entries[0].amount == entries[1].amount == clip.price
    assert stored == ["[noise] 我哋去咗", "[noise] 我哋去咗"]
