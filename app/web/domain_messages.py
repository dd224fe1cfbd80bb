"""Messages from the domain packages (refusals, convention problems, receipts) in the reader's
language.

The domain writes plain English and knows nothing of locales (the one-way house); here each
message a transcriber or reviewer can meet is a catalog template, ``{name}`` marking the parts
that vary. A message is matched against the templates, and the translated template is filled
with the same parts. Anything unmatched stays as written: English, never wrong.
"""

from __future__ import annotations

import re
from functools import cache

from app.web.i18n import N_, gettext, language_name

TEMPLATES: tuple[str, ...] = (
    # Dispatch and leases
    N_("You hold no assignment {assignment}; claim a clip first."),
    N_("You already submitted clip {clip} (receipt {receipt}); the first transcript stands."),
    N_("You skipped clip {clip}; it cannot be submitted any more."),
    N_("You already submitted clip {clip}; there is nothing to renew."),
    N_("You skipped clip {clip}; there is nothing to renew."),
    N_(
        "Your lease on clip {clip} ran out and someone else took the slot; "
        "you can still submit, but the text will not count."
    ),
    N_("You already submitted clip {clip}; it cannot be skipped now."),
    N_("You do not hold clip {clip}; claim it before listening to it."),
    N_("Saved: your transcript of clip {clip} counts (receipt {receipt})."),
    N_(
        "Saved (this request was already received): your transcript of clip {clip} counts "
        "(receipt {receipt})."
    ),
    N_(
        "Saved but NOT counted: your lease on clip {clip} ran out and someone else took the "
        "slot, so this transcript is kept (receipt {receipt}) but will not be paid."
    ),
    N_(
        "Saved but NOT counted (this request was already received): your lease on clip {clip} "
        "ran out and someone else took the slot, so this transcript is kept (receipt {receipt}) "
        "but will not be paid."
    ),
    N_(
        "You are not qualified to transcribe {language} yet (or you were paused); "
        "pass the {language2} exam first."
    ),
    N_("You are not qualified in any language yet; pass an exam before taking paid work."),
    N_("No clips in {languages} right now; more arrive when new audio is published."),
    N_(
        "No clips in {languages} right now; 1 is held by others under lease, "
        "the earliest returns at {time} UTC."
    ),
    N_(
        "No clips in {languages} right now; {count} are held by others under lease, "
        "the earliest returns at {time} UTC."
    ),
    # Exams
    N_("You are already qualified in {language}; no exam needed."),
    N_("You can retake the {language} exam from {when} UTC."),
    N_("You are not assigned to work in {language}; ask your coordinator to add it."),
    N_(
        "You have already seen every {language} exam clip there is; a retake needs new "
        "ones, so ask your coordinator."
    ),
    N_(
        "The {language} exam needs {needed} gold clips and only {found} exist; "
        "a coordinator can add more with `crowdscribe gold add`."
    ),
    N_("You have no exam {exam}."),
    N_("Exam {exam} is finished; start a new one to try again."),
    N_("Clip {clip} is not part of exam {exam}."),
    N_("Clip {clip} is not part of your exam {exam}."),
    N_("Answer every clip before finishing: {missing} of {total} still open ({clips})."),
    N_("Exam {exam} is not finished yet."),
    # Review
    N_("there is no dispute {dispute}; see the dispute queue"),
    N_("there is no dispute {dispute}"),
    N_("clip {clip} is not under dispute, so it cannot be played here"),
    N_("only people with the reviewer role can resolve disputes"),
    N_("you transcribed this clip yourself; another reviewer must decide it"),
    N_(
        "choose exactly one: accept a transcript, give an edited final text, "
        "or mark the clip unusable"
    ),
    N_("transcript {submission} is not one of this clip's"),
    N_("choose accept, edit or unusable"),
    # Stuck work (coordinators)
    N_("all {count} active people qualified in {language} already had it"),
    N_("nobody active is qualified in {language} ({paused} paused, {gone} deactivated)"),
    N_("nobody active is qualified in {language}"),
    # Feedback, appeals, standing and teams
    N_(
        "This was a check clip with a known transcript; your text differs from it by {rate}, "
        "more than the bar, so it was paid at the reduced rate."
    ),
    N_(
        "Your text differs by {rate} from the final text the other transcribers agreed on, "
        "more than the bar, so it was paid at the reduced rate."
    ),
    N_(
        "Your text differs by {rate} from the final text a reviewer decided, more than the "
        "bar, so it was paid at the reduced rate."
    ),
    N_("Write a short {what} saying why."),
    N_("The {what} is {length} characters long; keep it to {limit}."),
    N_("You have no transcript with that number."),
    N_("Only a transcript paid at the reduced rate can be appealed."),
    N_("You already appealed this verdict; each verdict can be appealed once."),
    N_("There is no appeal {appeal}."),
    N_("Only reviewers decide appeals."),
    N_("This is your own appeal; another reviewer must decide it."),
    N_("Appeal {appeal} is already decided; the first decision stands."),
    N_("Keep the display name to {limit} characters."),
    N_(
        "Error rate {rate} over the last {clips} checked clips in {language}; with 95% "
        "confidence it is at least {low}, above the {bar} bar; retake the {language2} exam to "
        "work in it again."
    ),
    N_(
        "Error rate {rate} over the last {clips} checked clips in {language}, {gold} of them "
        "reference clips; with 95% confidence it is at least {low}, above the {bar} bar; "
        "retake the {language2} exam to work in it again."
    ),
    N_("Give the team a name of 1 to {limit} characters."),
    N_("You are already in a team; leave it before starting another."),
    N_("A team called {name} already exists; choose another name."),
    N_("That invite code belongs to no team; ask the leader for a new link."),
    N_("You are already in a team; leave it before joining another."),
    N_("You are not in a team."),
    N_("A leader cannot leave their own team."),
    # Convention problems
    N_("A tag cannot sit inside another bracket or a ((guess)); close the outer one first."),
    N_("Empty []: write a tag such as [noise], or remove the brackets."),
    N_("Unknown tag [{tag}]; did you mean [{nearest}]?"),
    N_("Unknown tag [{tag}]; known tags: {known}"),
    N_("A ((guess)) cannot contain another bracket; close the first one before opening a new one."),
    N_("'))' closes a guess that was never opened; write the guess as ((words))."),
    N_("Empty (( )): write your best guess inside, or [unintelligible] if you cannot guess."),
    N_("'[' inside another '['; a tag is one word in brackets, like [noise]."),
    N_("']' without a matching '['; tags look like [noise]."),
    N_("Full-width '{char}': use half-width (( )) for guesses and [ ] for tags."),
    N_("Single '{char}': a guess is written with double parentheses, ((like this))."),
    N_("Write numbers as spoken: write {number} as {spoken}"),
    N_("A hyphen marks a cut-off word and goes straight after it (wor-); remove this one."),
    N_(
        "'{char}' is not used in transcripts; write only what was said, with the tags in the guide."
    ),
    N_("'[' is never closed; tags look like [noise]."),
    N_("'((' is never closed; a guess looks like ((words))."),
    N_("The transcript is empty; write [no-speech] if nothing was said."),
    N_("[no-speech] means nothing was said; remove it, or remove the words."),
)
# Messages the domain writes in Chinese for Chinese text, read as their English template.
ALIASES: tuple[tuple[str, str], ...] = (
    (
        "数字要写成汉字：{number} 写成 {spoken}",
        "Write numbers as spoken: write {number} as {spoken}",
    ),
)
CONVENTION_SUMMARY_ONE = N_("The transcript breaks the conventions (1 problem); first: {first}")
CONVENTION_SUMMARY_MANY = N_(
    "The transcript breaks the conventions ({count} problems); first: {first}"
)
_LANGUAGE_PARTS = frozenset({"language", "language2"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    parts, position = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(f"(?P<{match.group(1)}>.+?)")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """Each template's fixed start, its pattern and the template: a message is matched only
    against the templates it starts like (a receipt with every submit; a regex each was a
    tenth of a millisecond)."""
    pairs = [(template, template) for template in TEMPLATES] + list(ALIASES)
    return tuple(
        (written.partition("{")[0], _pattern(written), template) for written, template in pairs
    )


def message_parts(message: str) -> tuple[str, dict[str, str]] | None:
    """The template a domain message was written from and its varying parts, if it is known."""
    for start, pattern, template in _patterns():
        if not message.startswith(start):
            continue
        found = pattern.fullmatch(message)
        if found:
            return template, found.groupdict()
    return None


def _language_list(codes: str) -> str:
    return gettext(", ").join(language_name(code) for code in codes.split(", "))


def translate_message(message: str) -> str:
    """A domain message in the current locale (as written if no template matches)."""
    found = message_parts(message)
    if found is None:
        return message
    template, parts = found
    for name in _LANGUAGE_PARTS & parts.keys():
        parts[name] = language_name(parts[name])
    if "languages" in parts:
        parts["languages"] = _language_list(parts["languages"])
    return gettext(template).format(**parts)


def translate_problems(problems: list) -> list[dict]:
    """Convention problems as the API returns them: code, position, and the message and its
    parts (``params``) in the current locale."""
    out = []
    for problem in problems:
        found = message_parts(problem.message)
        row = problem.to_dict()
        row["message"] = translate_message(problem.message)
        row["params"] = found[1] if found else {}
        out.append(row)
    return out


def convention_summary(problems: list, count: int | None = None) -> str:
    """The one-line refusal for a transcript with ``problems`` (the first ``count``, if
    given), in the current locale."""
    count = len(problems) if count is None else count
    first = translate_message(problems[0].message)
    if count == 1:
        return gettext(CONVENTION_SUMMARY_ONE).format(first=first)
    return gettext(CONVENTION_SUMMARY_MANY).format(count=count, first=first)
