"""What to do with a clip once its transcriptions are in: accept a final text, ask for one more
independent transcription, or send it to a reviewer. Pure: no database, no clock.

The rule, in order:
1. Two or more people skipped the clip as bad audio -> a ``bad_audio`` dispute (a reviewer may
   mark it unusable).
2. The largest group of transcripts that pairwise agree within the clip's threshold is a strict
   majority of at least two -> accept; the final text is the consensus of that group. With the
   usual two transcripts this means both agree; after escalation to three, two of three agreeing
   outvote the third.
3. Otherwise, while the clip has fewer slots than ``max_overlap`` -> one more transcription.
4. Otherwise -> a ``disagreement`` dispute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from crowdscribe.storage.models import DisputeKind
from review.agreement import AgreementPolicy, pairwise_error_rates
from review.consensus import decide_consensus

BAD_AUDIO_SKIPS_FOR_DISPUTE = 2

ACCEPT = "accept"
TRANSCRIBE_MORE = "transcribe_more"
DISPUTE = "dispute"


@dataclass(frozen=True)
class Decision:
    """The outcome for one clip. ``agreement_error`` is the largest pairwise error rate among the
    transcripts the decision rests on (the agreeing group when accepted, all of them otherwise)."""

    action: str  # accept | transcribe_more | dispute
    threshold: float
    agreement_error: float | None = None
    final_text: str | None = None
    method: str | None = None  # consensus method when accepted: identical | medoid | rover
    dispute_kind: str | None = None  # disagreement | bad_audio
    agreeing: tuple[int, ...] = ()  # indexes of the transcripts that formed the accepted group
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


def decide_clip(
    texts: Sequence[str],
    skip_reasons: Sequence[str],
    *,
    language: str,
    speaker_group: str,
    policy: AgreementPolicy,
    overlap: int,
    max_overlap: int,
) -> Decision:
    """Decide one clip from its counted transcripts and skip reasons (see the module rule)."""
    threshold = policy.threshold_for(language, speaker_group)
    bad_audio = sum(1 for reason in skip_reasons if reason == "bad_audio")
    if bad_audio >= BAD_AUDIO_SKIPS_FOR_DISPUTE:
        return Decision(
            action=DISPUTE,
            threshold=threshold,
            dispute_kind=DisputeKind.BAD_AUDIO,
            reason=f"{bad_audio} transcribers skipped the clip as bad audio",
        )
    rates = pairwise_error_rates(list(texts), language) if len(texts) >= 2 else []
    overall = max((max(row) for row in rates), default=None) if rates else None
    group = largest_agreeing_group(rates, threshold) if rates else ()
    if len(group) >= 2 and 2 * len(group) > len(texts):
        agreed = [texts[index] for index in group]
        consensus = decide_consensus(agreed, language)
        worst = max(rates[a][b] for a, b in combinations(group, 2))
        return Decision(
            action=ACCEPT,
            threshold=threshold,
            agreement_error=worst,
            final_text=consensus.text,
            method=consensus.method,
            agreeing=tuple(group),
            reason=f"{len(group)} of {len(texts)} transcripts agree within {threshold:.2f}",
        )
    if overlap < max_overlap:
        return Decision(
            action=TRANSCRIBE_MORE,
            threshold=threshold,
            agreement_error=overall,
            reason=_disagreement_reason(texts, overall, threshold) + "; asking one more person",
        )
    return Decision(
        action=DISPUTE,
        threshold=threshold,
        agreement_error=overall,
        dispute_kind=DisputeKind.DISAGREEMENT,
        reason=_disagreement_reason(texts, overall, threshold) + f" after {overlap} transcriptions",
    )


def _disagreement_reason(texts: Sequence[str], overall: float | None, threshold: float) -> str:
    if overall is None:
        return f"only {len(texts)} transcript(s), nothing to compare"
    return f"transcripts differ by up to {overall:.2f} (threshold {threshold:.2f})"
