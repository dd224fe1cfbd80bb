"""Refusals a person can act on. The CLI and web app map each kind to an exit code / HTTP status
in one place (``app.cli`` and ``app.web.app``)."""

from __future__ import annotations


class Refusal(Exception):
    """Base for every refusal; ``message`` is written for the person who made the request."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(Refusal):
    http_status = 404


class NotAuthenticated(Refusal):
    http_status = 401


class Forbidden(Refusal):
    http_status = 403


class NotQualified(Forbidden):
    """The person has not passed (or is paused in) the exam for that language."""


class Conflict(Refusal):
    http_status = 409


class LeaseExpired(Conflict):
    """The lease ran out and someone else took the slot; the text was kept, not counted."""


class InvalidInput(Refusal):
    http_status = 422


class ConventionError(InvalidInput):
    """Text breaks the transcription conventions; ``problems`` lists the first few with their
    positions, ``problem_count`` says how many there are in all."""

    def __init__(self, message: str, problems: list, problem_count: int | None = None) -> None:
        super().__init__(message)
        self.problems = problems
        self.problem_count = len(problems) if problem_count is None else problem_count
