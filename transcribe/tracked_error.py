"""The error rate a transcript counts for in its author's accuracy (``/me/accuracy``, standing,
the pause rule's evidence): the one measured against the final text, until a reviewer upholds
an appeal against that verdict. The upheld verdict is that the transcript was right where it
differs (the final text or the check was wrong), so it then counts as error 0; the measured
rate stays stored, for the record and the feedback that explained the discount.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, exists

from crowdscribe.storage.models import Appeal, Submission
from crowdscribe.storage.states import AppealState

UPHELD_ERROR_RATE = 0.0


def tracked_error_rate() -> ColumnElement[float]:
    """``Submission.error_vs_final`` as accuracy counts it: 0 once an appeal on it is upheld
    (a SQL expression, correlated with the ``Submission`` of the query it is used in)."""
    upheld = exists().where(
        Appeal.submission_id == Submission.id, Appeal.state == AppealState.UPHELD
    )
    return case((upheld, UPHELD_ERROR_RATE), else_=Submission.error_vs_final)
