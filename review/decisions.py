"""What to do with a clip once its transcriptions are in: accept a final text, ask for one more
independent transcription, or send it to a reviewer. Pure: no database, no clock.

Transcripts are compared twice (review.agreement.compare_transcripts): by their words, against the
clip's threshold, and by their verbatim events (fillers, repetitions, cut-offs, tags), counted
apart. The rule, in order:
1. Two or more people skipped the clip as bad audio -> a ``bad_audio`` dispute.
   One transcript alone (a clip published with overlap 1) by a writer whose track record makes
   a second transcription poor value (``one_transcript_suffices``, ``benefit`` rule only) ->
   accept it as it is (adaptive overlap, Williams et al. 2011); it is credited, not scored.
2. The largest group of transcripts whose words pairwise agree within the threshold is a strict
   majority of at least two, and they differ in at most ``max_verbatim_differences`` verbatim
   events -> accept; the final text is the weighted, verbatim-aware consensus of every
   transcript (review.consensus: the group settles the clip, each writer votes by their
   accuracy), written in the language's script. More verbatim differences than that ->
   one more transcription, whose vote settles them, while the overlap limit allows; at the limit
   the vote stands. Under the ``benefit`` rule, two agreeing texts that still differ where the
   vote is unsure (``review.consensus.contested_share``) ask one more person when the error
   that vote is expected to fix is worth more than the transcription (``split_vote_pays``).
3. Otherwise escalate (``policy.escalation``): ``benefit`` asks one more person only when that
   is expected to cost less than a review, counting what a worse final text costs
   (``further_transcription_pays``); ``transcribe`` asks more people up to ``max_overlap``;
   ``review`` goes straight to a reviewer. A further transcription is never asked for when it
   could not make a majority (after three texts of which no two agree, a fourth cannot).
4. Otherwise -> a ``disagreement`` dispute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from crowdscribe.storage.states import DisputeKind
from review.agreement import AgreementPolicy, compare_transcripts, verbatim_differences
from review.consensus import MEDOID, PRIOR_ERROR, contested_share, decide_consensus
from review.script import to_script
from transcribe.conventions import is_chinese

BAD_AUDIO_SKIPS_FOR_DISPUTE = 2

ACCEPT = "accept"
TRANSCRIBE_MORE = "transcribe_more"
DISPUTE = "dispute"
SINGLE = "single"  # consensus method of a clip accepted on one trusted writer's transcript
# How much worse than a reviewed text a 2-of-3 text ends, now that all three texts vote
# (bench/quality.py): by about a point where trusted writers were apart, by about a third of a
# point where an untrusted writer caused the gap.
SETTLED_EXTRA_ERROR = 0.01
EXPLAINED_EXTRA_ERROR = 0.0035
# Chance the next writer, whoever in the crowd claims the clip, lands within the threshold of a
# trusted text: about one in four is an average writer or worse (bench/quality.py: 0.66-0.72).
NEW_WRITER_LANDS = 0.75
# How often one more writer gets right a place two writers read differently: careful people miss
# a hard-to-hear word about one time in four (bench/quality.py).
THIRD_SETTLES = 0.75
# Share of one writer's errors a second transcription removes, with the review a disagreement
# brings: a careful writer's 3-4% becomes 1-2% (bench/quality.py).
SECOND_CATCHES = 0.6


@dataclass(frozen=True)
class Decision:
    """The outcome for one clip. ``agreement_error`` is the largest pairwise word error rate
    (verbatim events apart) among the transcripts the decision rests on (the agreeing group when
    accepted, all of them otherwise)."""

    action: str  # accept | transcribe_more | dispute
    threshold: float
    agreement_error: float | None = None
    final_text: str | None = None
    method: str | None = None  # when accepted: identical | medoid | rover | single
    dispute_kind: str | None = None  # disagreement | bad_audio
    agreeing: tuple[int, ...] = ()  # indexes of the transcripts that formed the accepted group
    verbatim_differences: tuple[str, ...] = ()  # fillers, repetitions, cut-offs, tags in dispute
    reason: str = ""

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "threshold": self.threshold,
            "agreement_error": self.agreement_error,
            "final_text": self.final_text,
            "method": self.method,
            "dispute_kind": self.dispute_kind,
            "agreeing": list(self.agreeing),
            "verbatim_differences": list(self.verbatim_differences),
            "reason": self.reason,
        }


def largest_agreeing_group(rates: Sequence[Sequence[float]], threshold: float) -> tuple[int, ...]:
    """Indexes of the biggest set of transcripts whose every pair is within ``threshold``; ties go
    to the set with the smallest worst pair. Empty when no two transcripts agree."""
    count = len(rates)
    for size in range(count, 1, -1):
        best: tuple[int, ...] = ()
        best_worst = float("inf")
        for group in combinations(range(count), size):
            worst = max(rates[a][b] for a, b in combinations(group, 2))
            if worst <= threshold and worst < best_worst:
                best, best_worst = group, worst
        if best:
            return best
    return ()


def can_still_decide(largest_group: int, count: int) -> bool:
    """Whether one more transcript could complete a strict majority of agreeing texts: it joins
    the largest group at best."""
    return 2 * (max(largest_group, 1) + 1) > count + 1


@dataclass(frozen=True)
class Escalation:
    """What one more transcription is expected to do for a disagreeing clip: ``settle`` is the
    chance it completes an agreeing majority, ``extra_error`` how much worse a text settled that
    way is than a reviewed one."""

    settle: float
    extra_error: float


def _untrusted(error: float | None, threshold: float) -> bool:
    # Expected to miss by more than twice the agreement threshold: a spammer or a beginner.
    return error is not None and error > 2 * threshold


def _lands(error: float | None, threshold: float) -> float:
    # Chance a writer of this expected error lands within the threshold on a clip.
    expected = PRIOR_ERROR if error is None else error
    return min(max(1 - (expected / (2 * threshold)) ** 2, 0.05), 0.95)


def expected_escalation(
    disagreement: float | None, threshold: float, expected_errors: Sequence[float | None]
) -> Escalation:
    """The expected effect of one more transcription: the next writer, whoever in the crowd
    it is, must land within the threshold, and so must one of the present writers. A writer
    not known yet may simply have slipped, and their first scores are worth having: no extra
    error is counted. When an untrusted writer (twice the threshold) explains the gap, the new
    text most likely sides with the right one, and a 2-of-3 text ends a little worse than a
    review; when known, trusted writers disagree, the audio is hard for everybody, the chance
    falls with the gap and a 2-of-3 text ends about a point worse."""
    present = [_lands(error, threshold) for error in expected_errors] or [_lands(None, threshold)]
    explained = any(_untrusted(error, threshold) for error in expected_errors)
    settle = NEW_WRITER_LANDS * max(present)
    if None in expected_errors:
        return Escalation(settle, 0.0)  # one more text also starts the newcomer's record
    if explained or not disagreement:
        return Escalation(settle, EXPLAINED_EXTRA_ERROR)
    return Escalation(settle * min(1.0, threshold / disagreement), SETTLED_EXTRA_ERROR)


def one_transcript_suffices(expected_error: float | None, policy: AgreementPolicy) -> bool:
    """Adaptive overlap (Williams et al. 2011): stop at one transcript when a second is poor
    value. A second transcription costs one and removes about ``SECOND_CATCHES`` of the first
    writer's errors (with the review a disagreement brings); it is not worth it when
    ``error price × expected error × SECOND_CATCHES < 1``. Writers not known yet never qualify."""
    if expected_error is None:
        return False
    return policy.error_price * expected_error * SECOND_CATCHES < 1.0


def split_vote_pays(contested: float, policy: AgreementPolicy) -> bool:
    """Two agreeing texts still differ in places, and there the vote may pick the wrong
    reading (``contested``: the expected share of units it gets wrong). A third text costs one
    transcription and settles a contested place ``THIRD_SETTLES`` of the time; pays when
    ``error price × contested × THIRD_SETTLES > 1``."""
    return policy.error_price * contested * THIRD_SETTLES > 1.0


def further_transcription_pays(escalation: Escalation, policy: AgreementPolicy) -> bool:
    """A further transcription costs one and saves the review when it settles the clip, at the
    price of its extra error (``policy.error_price`` per unit of error rate). Pays when
    ``settle × (review cost − priced extra error) > 1``."""
    saving = policy.review_cost - policy.error_price * escalation.extra_error
    return escalation.settle * saving > 1.0


def decide_clip(
    texts: Sequence[str],
    skip_reasons: Sequence[str],
    *,
    language: str,
    speaker_group: str,
    policy: AgreementPolicy,
    overlap: int,
    max_overlap: int,
    expected_errors: Sequence[float | None] | None = None,
    script: str | None = None,
) -> Decision:
    """Decide one clip from its counted transcripts and skip reasons (see the module rule).
    ``expected_errors`` are the writers' measured error rates (review.accuracy), in text order;
    ``script`` is the script a Chinese final text is written in (review.script)."""
    threshold = policy.threshold_for(language, speaker_group)
    bad_audio = sum(1 for reason in skip_reasons if reason == "bad_audio")
    if bad_audio >= BAD_AUDIO_SKIPS_FOR_DISPUTE:
        return Decision(
            action=DISPUTE,
            threshold=threshold,
            dispute_kind=DisputeKind.BAD_AUDIO,
            reason=f"{bad_audio} transcribers skipped the clip as bad audio",
        )
    errors = list(expected_errors) if expected_errors is not None else [None] * len(texts)
    if (
        len(texts) == 1
        and policy.escalation == "benefit"
        and one_transcript_suffices(errors[0], policy)
    ):
        text = to_script(texts[0], script) if script and is_chinese(language) else texts[0]
        return Decision(
            action=ACCEPT,
            threshold=threshold,
            final_text=text,
            method=SINGLE,
            agreeing=(0,),
            reason=f"one transcript by a writer whose expected error ({errors[0]:.1%}) makes a "
            "second one poor value",
        )
    comparison = compare_transcripts(texts, language)
    rates = comparison.lexical
    overall = max((max(row) for row in rates), default=None) if len(texts) >= 2 else None
    group = largest_agreeing_group(rates, threshold) if len(texts) >= 2 else ()
    if group and all(_untrusted(errors[index], threshold) for index in group):
        group = ()  # writers known to be unreliable agreeing (copied or empty text) prove nothing
    if len(group) >= 2 and 2 * len(group) > len(texts):
        agreed = [texts[index] for index in group]
        verbatim = verbatim_differences(agreed, language)
        settled_by_vote = len(verbatim) <= policy.max_verbatim_differences
        if not settled_by_vote and overlap < max_overlap:
            return Decision(
                action=TRANSCRIBE_MORE,
                threshold=threshold,
                agreement_error=max(rates[a][b] for a, b in combinations(group, 2)),
                verbatim_differences=verbatim,
                reason=f"words agree but {len(verbatim)} verbatim events differ "
                f"({', '.join(verbatim)}); asking one more person to settle them",
            )
        words_differ = rates[group[0]][group[1]] > 0
        if (
            words_differ
            and len(texts) == 2
            and overlap < max_overlap
            and policy.escalation == "benefit"
        ):
            # Token-by-token keys miss phrase-level folds (佢地 = 佢哋), so only texts whose
            # normalised words differ are weighed.
            share = contested_share(agreed, language, [errors[index] for index in group])
            if split_vote_pays(share, policy):
                return Decision(
                    action=TRANSCRIBE_MORE,
                    threshold=threshold,
                    agreement_error=max(rates[a][b] for a, b in combinations(group, 2)),
                    verbatim_differences=verbatim,
                    reason=f"two transcripts agree but differ where neither reading is sure "
                    f"(about {share:.1%} of the text); asking one more person to settle them",
                )
        return _accept(texts, group, rates, verbatim, threshold, language, errors, script)
    if len(texts) >= 2 and _review_now(policy, rates, threshold, errors):
        return _dispute(texts, overall, threshold, overlap, "a review costs less than asking more")
    if overlap < max_overlap and can_still_decide(len(group), len(texts)):
        return Decision(
            action=TRANSCRIBE_MORE,
            threshold=threshold,
            agreement_error=overall,
            reason=_disagreement_reason(texts, overall, threshold) + "; asking one more person",
        )
    return _dispute(texts, overall, threshold, overlap, f"after {overlap} transcriptions")


def _review_now(
    policy: AgreementPolicy,
    rates: list[list[float]],
    threshold: float,
    errors: Sequence[float | None],
) -> bool:
    if policy.escalation == "review":
        return True
    if policy.escalation == "transcribe":
        return False
    closest = min((r for i, row in enumerate(rates) for r in row[i + 1 :]), default=0.0)
    return not further_transcription_pays(expected_escalation(closest, threshold, errors), policy)


def _accept(
    texts: Sequence[str],
    group: tuple[int, ...],
    rates: list[list[float]],
    verbatim: tuple[str, ...],
    threshold: float,
    language: str,
    errors: Sequence[float | None],
    script: str | None,
) -> Decision:
    # The agreeing group decides that the clip is settled; every text votes on the words, each
    # by its writer's accuracy, so a third text still breaks a tie the agreeing two left open.
    consensus = decide_consensus(texts, language, errors)
    if consensus.method == MEDOID and len(group) < len(texts):
        # The vote broke the conventions: fall back within the group, never to a text it outvoted.
        consensus = decide_consensus(
            [texts[index] for index in group], language, [errors[index] for index in group]
        )
    text = to_script(consensus.text, script) if script and is_chinese(language) else consensus.text
    count = len(rates)
    events = f"; verbatim differences settled by vote: {', '.join(verbatim)}" if verbatim else ""
    return Decision(
        action=ACCEPT,
        threshold=threshold,
        agreement_error=max(rates[a][b] for a, b in combinations(group, 2)),
        final_text=text,
        method=consensus.method,
        agreeing=tuple(group),
        verbatim_differences=verbatim,
        reason=f"{len(group)} of {count} transcripts agree within {threshold:.2f}{events}",
    )


def _dispute(
    texts: Sequence[str], overall: float | None, threshold: float, overlap: int, why: str
) -> Decision:
    return Decision(
        action=DISPUTE,
        threshold=threshold,
        agreement_error=overall,
        dispute_kind=DisputeKind.DISAGREEMENT,
        reason=_disagreement_reason(texts, overall, threshold) + f" {why}",
    )


def _disagreement_reason(texts: Sequence[str], overall: float | None, threshold: float) -> str:
    if overall is None:
        return f"only {len(texts)} transcript(s), nothing to compare"
    return f"transcripts differ by up to {overall:.2f} (threshold {threshold:.2f})"
