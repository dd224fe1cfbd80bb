"""The coordinator's dashboard: the campaign's figures (``review.campaign_status``) as numbers
and server-side SVG plots, clips per language and project, and the rate card in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.web.deps import DbSession, SettingsDep, require_role
from app.web.i18n import _
from app.web.labels import label
from app.web.local_time import calendar_date, start_of_day
from app.web.svg_plots import PALETTE, Series, bar_chart, line_chart, share_bar
from app.web.templating import templates
from app.web.transcriber_view import person_zone
from crowdscribe.clock import utc_now
from crowdscribe.storage.states import ClipStatus
from review.campaign_status import CampaignStatus, status_of_campaign
from review.progress import (
    clip_progress,
    open_dispute_count,
    recordings_by_status,
    submissions_since,
)
from transcribe.pricing import load_rate_card
from transcribe.users import Person

# Colours that read at a glance: done is green, waiting on people blue or amber, lost red.
STATE_COLORS = {
    ClipStatus.COLLECTED: "#9ca3af",
    ClipStatus.HELD: "#6b7280",
    ClipStatus.PUBLISHED: "#2563eb",
    ClipStatus.AGREED: "#16a34a",
    ClipStatus.DISPUTED: "#d97706",
    ClipStatus.RESOLVED: "#0d9488",
    ClipStatus.UNUSABLE: "#dc2626",
    ClipStatus.STUCK: "#7c3aed",
}
router = APIRouter(tags=["coordinator pages"], include_in_schema=False)
Coordinator = Annotated[Person, Depends(require_role("coordinator"))]


def dashboard_plots(status: CampaignStatus) -> dict[str, Markup]:
    """The dashboard's SVG plots, drawn from the same figures as its numbers, in the reader's
    language (the states' legend included)."""
    days = [calendar_date(day, "day") for day, _count in status.progress]
    plots = {
        "states": share_bar(
            _("Clips by state"),
            [
                (label(state, "clip_status"), count)
                for state, count in status.clips_by_state.items()
            ],
            colors={label(state, "clip_status"): color for state, color in STATE_COLORS.items()},
        ),
        "progress": line_chart(
            _("Final clips over time"),
            days,
            [Series(_("final clips"), [count for _day, count in status.progress])],
        ),
        "throughput": bar_chart(
            _("Transcripts submitted per day"),
            days,
            [count for _day, count, _minutes in status.throughput],
        ),
    }
    for spend in status.spend:
        spent = [float(amount) for _day, amount in spend.cumulative]
        projection: list[float | None] = [None] * (len(spent) - 1) + [spent[-1]]
        labels = list(days)
        if spend.remaining_cost > 0:
            end = spend.projected_end
            labels.append(_("end") if end is None else calendar_date(end, "day"))
            spent.append(None)  # type: ignore[arg-type]
            projection.append(float(spend.projected_total))
        level = (
            (_("budget %(amount)s") % {"amount": spend.budget}, float(spend.budget))
            if spend.budget
            else None
        )
        plots[f"spend-{spend.project}-{spend.currency}"] = line_chart(
            _("Spend in %(project)s (%(currency)s)")
            % {"project": spend.project, "currency": spend.currency},
            labels,
            [
                Series(_("spent"), spent),
                Series(_("projected"), projection, color=PALETTE[1], dashed=True),
            ],
            level=level,
        )
    return plots


@router.get("/coordinator")
def overview(
    request: Request, person: Coordinator, session: DbSession, settings: SettingsDep
) -> Response:
    """The coordinator's dashboard: progress, clips by state, spend against budget, agreement
    per language, throughput, reviewer backlog, paused people, rates; plots beside numbers."""
    now = utc_now()
    midnight = start_of_day(now, person_zone(person, settings))
    statuses, clip_rows = clip_progress(session)
    status = status_of_campaign(
        session,
        now=now,
        card=load_rate_card(settings.rates_file),
        default_overlap=settings.default_overlap,
    )
    return templates.TemplateResponse(
        request,
        "coordinator.html",
        {
            "status": status,
            "plots": dashboard_plots(status),
            "is_reviewer": person.has_role("reviewer"),
            "recordings": recordings_by_status(session),
            "clip_statuses": statuses,
            "clip_rows": clip_rows,
            "submissions_today": submissions_since(session, midnight),
            "open_disputes": open_dispute_count(session),
            "card": load_rate_card(settings.rates_file),
        },
    )
