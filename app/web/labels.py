"""Stored codes as a person reads them: clip and recording states, qualification states, roles,
speaker groups and skip reasons, each vocabulary beside its labels. Templates use
``{{ clip.status | label("clip_status") }}``; a code without a label shows as stored."""

from __future__ import annotations

from app.web.i18n import N_, gettext

SKIP_REASONS: dict[str, str] = {
    "bad_audio": N_("Bad audio (noise, distortion, cut off)"),
    "wrong_language": N_("Wrong language"),
    "empty": N_("Nobody speaks"),
}
CLIP_STATUS_NAMES: dict[str, str] = {
    "collected": N_("collected"),
    "held": N_("held"),
    "published": N_("published"),
    "agreed": N_("agreed"),
    "disputed": N_("disputed"),
    "resolved": N_("resolved"),
    "unusable": N_("unusable"),
    "stuck": N_("stuck"),
}
RECORDING_STATUS_NAMES: dict[str, str] = {
    "segmented": N_("segmented"),
    "held": N_("held"),
    "no_speech": N_("no speech"),
    "rejected": N_("rejected"),
}
QUALIFICATION_NAMES: dict[str, str] = {
    "qualified": N_("qualified"),
    "paused": N_("paused"),
}
ROLE_NAMES: dict[str, str] = {
    "coordinator": N_("coordinator"),
    "transcriber": N_("transcriber"),
    "reviewer": N_("reviewer"),
}
SPEAKER_GROUP_NAMES: dict[str, str] = {
    "child": N_("children (under 13)"),
    "teen": N_("teenagers (13 to 17)"),
    "adult": N_("adults (18 to 64)"),
    "elderly": N_("older people (65 and over)"),
}
STUCK_KIND_NAMES: dict[str, str] = {
    "withdrawn": N_("withdrawn after skips"),
    "unreachable": N_("nobody left to take it"),
}
VOCABULARIES: dict[str, dict[str, str]] = {
    "clip_status": CLIP_STATUS_NAMES,
    "recording_status": RECORDING_STATUS_NAMES,
    "qualification": QUALIFICATION_NAMES,
    "role": ROLE_NAMES,
    "speaker_group": SPEAKER_GROUP_NAMES,
    "skip_reason": SKIP_REASONS,
    "stuck_kind": STUCK_KIND_NAMES,
}


def label(code: str | None, vocabulary: str) -> str:
    """``code`` of ``vocabulary`` in the reader's language (as stored if it has no label)."""
    if code is None:
        return ""
    name = VOCABULARIES[vocabulary].get(str(code))
    return gettext(name) if name else str(code)
