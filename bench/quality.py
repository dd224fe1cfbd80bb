"""Quality per yuan: final-text error against the truth, and what it cost, for each agreement
policy, on a simulated imperfect crowd. The decisions are made by crowdscribe's own code
(review.decisions.decide_clip and review.consensus, the functions review.processing calls for
every clip) and scored with review.agreement.error_rate; only the people are simulated.

The crowd (parameters and where they come from):
- 70% careful, 25% average, 5% spammers, each person with their own skill (a log-normal factor
  on their error rates). The mix follows the issue; the shape follows what the crowd
  transcription studies report: Novotney & Callison-Burch (2010, NAACL, "Cheap, fast and good
  enough: automatic speech recognition with non-expert transcription") found workers' quality
  to vary widely, with some unusable, and that a worker's agreement with others estimates it
  well enough to pick better transcripts; Marge, Banerjee & Rudnicky (2010, ICASSP, "Using the
  Amazon Mechanical Turk for transcription of spoken language") found that combining several
  non-expert transcripts (ROVER) brings them close to expert quality. Careful people here make
  about 4% WER/CER, average ones 9-15%, spammers 60% or more (measured by this script's crowd).
- Hard positions: a few tokens per clip are hard to hear for everyone, and people who miss them
  mostly make the same mistake (a near-homophone), so errors correlate across transcribers, as
  both studies observed; this is what lets two people agree on a wrong word.
- Verbatim events (fillers, repetitions, false-start cut-offs, [noise]) are dropped far more
  often than words are misheard; English clips are child speech (speaker group ``child``).
- Chinese clips (half Cantonese in traditional characters with written-Cantonese forms, half
  Mandarin in simplified) are typed in each person's habitual script: simplified, traditional,
  Taiwan-standard forms (著), written-Cantonese variants (佢地, 既, 左, 無) and full-width
  letters; none of these is an error, all of them make texts look different.
- A review costs ``--review-cost`` transcription-equivalents (default 2) and gives the truth
  with a small residual error (a reviewer hears the audio with the transcripts side by side).
- "three + ROVER" is Fiscus (1997): three transcripts, word-level voting, no review.
- Adaptive overlap (Williams, Melamed, Alonso, Hollister & Wiley, 2011, "Crowd-sourcing for
  difficult transcription of speech", ASRU) asks for more transcriptions only where the ones in
  hand look unreliable; the escalation rule here is of that kind (one more person only where it
  is expected to pay: a split word between two agreeing texts, an untrusted writer's gap). The
  "adaptive" row starts at one transcription (a project published with overlap 1) and stops
  there for writers whose track record makes a second poor value; such a lone transcript is
  credited but not scored against itself, as review.processing does.

Track records are kept as crowdscribe keeps them: each transcript's error against the clip's
final text, plus a few gold clips per person against the truth.

Every policy meets the same draws (common random numbers): a clip's first, second, third...
writer, what each of them types and what the reviewer writes come from generators seeded by the
seed and the clip, so two rows of one seed differ by their decisions alone, not by luck.

Run: .venv/bin/python bench/quality.py [--clips N] [--seeds 1 2 3] [--review-cost 2]
     [--languages en zh] [--only "new default" ...]
     [--paired "review every disagreement (new code)"]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import subprocess
import sys
import types
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import opencc

from review.accuracy import expected_error
from review.agreement import AgreementPolicy, error_rate
from review.consensus import decide_consensus
from review.decisions import ACCEPT, TRANSCRIBE_MORE, decide_clip
from review.script import final_script

# --- vocabulary -----------------------------------------------------------------------------

EN_WORDS = [
    "want",
    "big",
    "red",
    "ball",
    "went",
    "park",
    "with",
    "mummy",
    "daddy",
    "dog",
    "cat",
    "really",
    "fun",
    "because",
    "school",
    "teacher",
    "said",
    "look",
    "that",
    "one",
    "play",
    "my",
    "house",
    "car",
    "little",
    "jump",
    "tree",
    "green",
    "sister",
    "brother",
    "water",
    "apple",
    "rabbit",
    "yellow",
    "friend",
    "birthday",
    "cake",
    "swing",
    "slide",
]
EN_SHORT = ["a", "the", "to", "and", "i", "it", "is", "in", "of", "he", "we", "on"]
EN_CONFUSIONS = {
    "want": "won't",
    "went": "want",
    "ball": "bowl",
    "cat": "cap",
    "dog": "doll",
    "the": "a",
    "a": "the",
    "he": "she",
    "it": "is",
    "in": "on",
    "to": "too",
    "on": "in",
    "one": "won",
    "jump": "jumped",
    "play": "played",
    "tree": "three",
    "said": "says",
    "and": "an",
    "is": "his",
    "we": "me",
    "car": "card",
    "fun": "sun",
    "look": "looked",
}
EN_FILLERS = ["um", "uh", "er", "mm"]
# How people type the same thing differently in English (none of these is an error).
EN_SPELLINGS = {
    "colour": "color",
    "favourite": "favorite",
    "okay": "OK",
    "um": "umm",
    "uh": "uhh",
    "mummy": "Mummy",
}
EN_TRUTH_EXTRA = ["colour", "favourite", "okay"]

CMN_TEXT = "我们今天去公园玩妈妈说会下雨他很喜欢吃冰淇淋为什么不行是吗有没有西安面馆看着里面"
CMN_CONFUSIONS = dict(
    zip("在再的得他她做作那哪吗嘛已以", "再在得的她他作做哪那嘛吗以已", strict=True)
)
YUE_TEXT = "我哋今日去咗公園玩媽媽話會落雨佢好鍾意食雪糕點解唔得係咪有冇嘅喺度睇住裏面"
YUE_CONFUSIONS = dict(zip("係喺佢渠咗左嘅既", "喺係渠佢左咗既嘅", strict=True))
ZH_SHORT = set("了的啊吗呢嘅咗喎")
ZH_FILLERS = ["嗯", "呃"]
YUE_WRITTEN_VARIANTS = {"佢哋": "佢地", "嘅": "既", "咗": "左", "冇": "無"}

_S2T = opencc.OpenCC("s2t")
_S2TW = opencc.OpenCC("s2tw")
_T2S = opencc.OpenCC("t2s")


# --- clips ----------------------------------------------------------------------------------


@dataclass
class SimClip:
    language: str
    speaker_group: str
    tokens: list[str]  # the truth, one token a word / character / tag
    hard: set[int]  # positions everyone finds hard
    chinese: bool

    @property
    def truth(self) -> str:
        return render(self.tokens, self.chinese)


def render(tokens: list[str], chinese: bool) -> str:
    """Tokens as a person would type them."""
    if not chinese:
        return " ".join(tokens)
    return "".join(f" {t} " if t.startswith("[") or t.isascii() else t for t in tokens).strip()


def english_clip(rng: random.Random) -> SimClip:
    tokens: list[str] = []
    for _ in range(rng.randint(5, 16)):
        word = rng.choice(EN_SHORT if rng.random() < 0.4 else EN_WORDS + EN_TRUTH_EXTRA[:1])
        roll = rng.random()
        if roll < 0.07:  # a child's repetition
            tokens += [word, word]
        elif roll < 0.11 and len(word) > 2:  # false start cut off
            tokens += [word[:2] + "-", word]
        elif roll < 0.19:
            tokens += [rng.choice(EN_FILLERS), word]
        else:
            tokens.append(word)
    if rng.random() < 0.15:
        tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(EN_TRUTH_EXTRA))
    if rng.random() < 0.2:
        tokens.insert(rng.randrange(len(tokens) + 1), "[noise]")
    return SimClip("en", "child", tokens, _hard_positions(rng, tokens), False)


def chinese_clip(rng: random.Random, language: str) -> SimClip:
    text = YUE_TEXT if language == "yue" else CMN_TEXT
    start = rng.randrange(len(text))
    length = rng.randint(8, 24)
    chars = [text[(start + i) % len(text)] for i in range(length)]
    tokens: list[str] = []
    for char in chars:
        roll = rng.random()
        if roll < 0.04:
            tokens += [char, char]
        elif roll < 0.07:
            tokens += [rng.choice(ZH_FILLERS), char]
        elif roll < 0.08:
            tokens += [char + "-", char]
        else:
            tokens.append(char)
    if rng.random() < 0.1:
        tokens.insert(rng.randrange(len(tokens) + 1), "OK")
    if rng.random() < 0.15:
        tokens.insert(rng.randrange(len(tokens) + 1), "[noise]")
    return SimClip(language, "adult", tokens, _hard_positions(rng, tokens), True)


def _hard_positions(rng: random.Random, tokens: list[str]) -> set[int]:
    # Most clips have no hard spot; some have one or two (a mumbled word, overlapping noise).
    count = rng.choices([0, 1, 2, 3], weights=[50, 30, 15, 5])[0]
    return set(rng.sample(range(len(tokens)), min(count, len(tokens))))


# --- people ---------------------------------------------------------------------------------

KINDS = {  # substitution, short-word deletion, verbatim drop, typo, hard-position miss
    "careful": (0.006, 0.02, 0.10, 0.004, 0.25),
    "average": (0.025, 0.05, 0.30, 0.015, 0.45),
}


@dataclass
class Person:
    id: int
    kind: str
    skill: float
    script: str  # simplified | traditional | taiwan
    cantonese_variants: bool
    full_width: bool
    spelling: bool
    errors: list[float] = field(default_factory=list)  # vs final texts, newest last
    gold: list[float] = field(default_factory=list)


def crowd(rng: random.Random, size: int) -> list[Person]:
    people = []
    for number in range(size):
        kind = rng.choices(["careful", "average", "spammer"], weights=[70, 25, 5])[0]
        people.append(
            Person(
                id=number,
                kind=kind,
                skill=math.exp(rng.gauss(0, 0.35)),
                script=rng.choices(["simplified", "traditional", "taiwan"], weights=[5, 4, 1])[0],
                cantonese_variants=rng.random() < 0.5,
                full_width=rng.random() < 0.2,
                spelling=rng.random() < 0.3,
            )
        )
    return people


def transcribe(rng: random.Random, person: Person, clip: SimClip) -> str:
    """What ``person`` types for ``clip``."""
    if person.kind == "spammer":
        return _spam(rng, clip)
    sub, short, drop, typo, hard = (rate * person.skill for rate in KINDS[person.kind])
    out: list[str] = []
    for position, token in enumerate(clip.tokens):
        verbatim = (
            token.startswith("[")
            or token.endswith("-")
            or _is_filler(token)
            or (position and clip.tokens[position - 1] == token)
        )
        is_short = token in ZH_SHORT if clip.chinese else token in EN_SHORT
        if position in clip.hard and rng.random() < min(hard, 0.95):
            if rng.random() < 0.7:  # the same mishearing most people make
                out.append(_confusion(token, clip))
            continue
        if verbatim and rng.random() < drop:
            continue
        if is_short and rng.random() < short:
            continue
        if rng.random() < sub:
            out.append(_confusion(token, clip) if rng.random() < 0.5 else _random_token(rng, clip))
            continue
        if rng.random() < typo and not clip.chinese and len(token) > 3:
            token = token[:-2] + token[-1] + token[-2]
        out.append(token)
    return _habits(person, render(out, clip.chinese), clip)


def _is_filler(token: str) -> bool:
    return token in EN_FILLERS or token in ZH_FILLERS


def _confusion(token: str, clip: SimClip) -> str:
    table = (
        EN_CONFUSIONS
        if not clip.chinese
        else (YUE_CONFUSIONS if clip.language == "yue" else CMN_CONFUSIONS)
    )
    if token in table:
        return table[token]
    return token + "s" if not clip.chinese else "啲" if clip.language == "yue" else "地"


def _random_token(rng: random.Random, clip: SimClip) -> str:
    if not clip.chinese:
        return rng.choice(EN_WORDS)
    return rng.choice(YUE_TEXT if clip.language == "yue" else CMN_TEXT)


def _spam(rng: random.Random, clip: SimClip) -> str:
    roll = rng.random()
    if roll < 0.4:  # a few words, then gives up
        return render(clip.tokens[: max(1, len(clip.tokens) // 4)], clip.chinese)
    tokens = [_random_token(rng, clip) for _ in range(rng.randint(2, len(clip.tokens)))]
    return render(tokens, clip.chinese)


def _habits(person: Person, text: str, clip: SimClip) -> str:
    if not clip.chinese:
        if person.spelling:
            words = [EN_SPELLINGS.get(word, word) for word in text.split()]
            text = " ".join(words)
        return text
    simplified = _T2S.convert(text)
    if person.script == "simplified":
        text = simplified
    elif person.script == "taiwan":
        text = _S2TW.convert(simplified)
    else:
        text = _S2T.convert(simplified) if clip.language != "yue" else text
    if clip.language == "yue" and person.cantonese_variants:
        for standard, variant in YUE_WRITTEN_VARIANTS.items():
            text = text.replace(standard, variant)
    if person.full_width:
        text = text.replace("OK", "ＯＫ")
    return text


WINDOW = 50  # scored clips in a person's track record, as the accuracy window
REVIEW_RATES = (0.002, 0.005, 0.03, 0.0, 0.08)


def review(rng: random.Random, clip: SimClip) -> str:
    """A reviewer's final text: the truth with a small residual error."""
    reviewer = Person(
        -1,
        "careful",
        1.0,
        "traditional" if clip.language == "yue" else "simplified",
        False,
        False,
        False,
    )
    saved = KINDS["careful"]
    KINDS["careful"] = REVIEW_RATES
    try:
        return transcribe(rng, reviewer, clip)
    finally:
        KINDS["careful"] = saved


# --- policies -------------------------------------------------------------------------------

BASELINE_COMMIT = "6e7f868"  # the decision code before issue 12 ("today's default")
BASELINE_MODULES = ("normalize", "agreement", "rover", "consensus", "decisions")


@cache
def baseline() -> dict[str, types.ModuleType]:
    """The review modules as they were at ``BASELINE_COMMIT``, loaded from git beside today's."""
    root = Path(__file__).resolve().parent.parent
    package = types.ModuleType("baseline_review")
    package.__path__ = []
    sys.modules["baseline_review"] = package
    for name in BASELINE_MODULES:
        source = subprocess.run(
            ["git", "show", f"{BASELINE_COMMIT}:review/{name}.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.replace("from review.", "from baseline_review.")
        module = types.ModuleType(f"baseline_review.{name}")
        sys.modules[module.__name__] = module
        exec(compile(source, f"{BASELINE_COMMIT}:review/{name}.py", "exec"), module.__dict__)
    return {name: sys.modules[f"baseline_review.{name}"] for name in BASELINE_MODULES}


@dataclass(frozen=True)
class Policy:
    name: str
    base_overlap: int
    max_overlap: int
    agreement: AgreementPolicy = AgreementPolicy()
    vote_only: bool = False  # final text by consensus of all, never a review
    baseline: bool = False  # the decision code before issue 12, which knows no track records


POLICIES = (
    Policy("today's default (2, up to 3, then review)", 2, 3, baseline=True),
    Policy("three + ROVER (code of 6e7f868)", 3, 3, vote_only=True, baseline=True),
    Policy("review every disagreement (code of 6e7f868)", 2, 2, baseline=True),
    Policy("three + weighted ROVER (new code)", 3, 3, vote_only=True),
    Policy("review every disagreement (new code)", 2, 2, AgreementPolicy(escalation="review")),
    Policy("new default", 2, 3),
    Policy("adaptive (1, up to 3)", 1, 3),
)


@dataclass
class Tally:
    error_sum: float = 0.0
    clips: int = 0
    transcriptions: int = 0
    reviews: int = 0

    def row(self, review_cost: float) -> tuple[float, float, float, float]:
        cost = (self.transcriptions + review_cost * self.reviews) / self.clips
        return (
            self.error_sum / self.clips,
            self.transcriptions / self.clips,
            self.reviews / self.clips,
            cost,
        )


def _track_record(person: Person) -> float:
    return expected_error(person.gold + person.errors[-WINDOW:])


def run_policy(
    policy: Policy,
    clips: list[SimClip],
    people: list[Person],
    seed: int,
    gold_per_person: int,
    review_cost: float = 2.0,
) -> Tally:
    """Every clip through ``policy`` with fresh track records; returns the totals. The new
    code's escalation rule is told what a review costs."""
    rng = random.Random(seed)
    agreement = replace(policy.agreement, review_cost=review_cost)
    decide = baseline()["decisions"].decide_clip if policy.baseline else decide_clip
    consensus = baseline()["consensus"].decide_consensus if policy.baseline else decide_consensus
    for person in people:
        person.errors.clear()
        person.gold = [
            error_rate(gold.truth, transcribe(rng, person, gold), gold.language)
            for gold in rng.sample(clips, gold_per_person)
        ]
    tally = Tally()
    for number, clip in enumerate(clips):
        # Common random numbers: the clip's k-th writer, what they type and the review are the
        # same under every policy, so the rows differ by their decisions, not by their draws.
        queue = random.Random(f"{seed}:{number}").sample(people, min(len(people), 8))
        draws = [random.Random(f"{seed}:{number}:{k}") for k in range(len(queue))]
        chosen = queue[: policy.base_overlap]
        texts = [transcribe(draws[k], person, clip) for k, person in enumerate(chosen)]
        final = None
        while final is None:
            known = [_track_record(person) for person in chosen]
            if policy.vote_only:
                final = (
                    consensus(texts, clip.language)
                    if policy.baseline
                    else consensus(texts, clip.language, known)
                ).text
                break
            extra = (
                {}
                if policy.baseline
                else {"expected_errors": known, "script": final_script(clip.language)}
            )
            decision = decide(
                texts,
                [],
                language=clip.language,
                speaker_group=clip.speaker_group,
                policy=agreement,
                overlap=len(texts),
                max_overlap=policy.max_overlap,
                **extra,
            )
            if decision.action == ACCEPT:
                final = decision.final_text
            elif decision.action == TRANSCRIBE_MORE:
                chosen.append(queue[len(chosen)])
                texts.append(transcribe(draws[len(texts)], chosen[-1], clip))
            else:
                final = review(random.Random(f"{seed}:{number}:review"), clip)
                tally.reviews += 1
        for person, text in zip(chosen, texts, strict=True):
            if len(texts) > 1:  # a lone transcript is not scored against itself
                person.errors.append(error_rate(final, text, clip.language))
        tally.error_sum += error_rate(clip.truth, final, clip.language)
        tally.transcriptions += len(texts)
        tally.clips += 1
    return tally


def simulate(language: str, count: int, seed: int) -> tuple[list[SimClip], list[Person]]:
    """``count`` clips of one language family and a crowd for them, from ``seed``."""
    rng = random.Random(seed)
    if language == "en":
        clips = [english_clip(rng) for _ in range(count)]
    else:
        clips = [chinese_clip(rng, "yue" if i % 2 else "cmn") for i in range(count)]
    return clips, crowd(rng, max(20, count // 40))


def main() -> None:
    """Print the table: one row per language and policy, averaged over the seeds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--review-cost", type=float, default=2.0)
    parser.add_argument("--gold", type=int, default=5, help="gold clips per person")
    parser.add_argument("--languages", nargs="+", default=["en", "zh"], choices=["en", "zh"])
    parser.add_argument(
        "--only", nargs="+", default=[], help="run only policies whose name contains one of these"
    )
    parser.add_argument(
        "--paired",
        metavar="POLICY",
        help="after the table, each policy's error and cost minus this one's, seed by seed",
    )
    args = parser.parse_args()
    print(
        f"{args.clips} clips per language and seed, seeds {args.seeds}, "
        f"a review = {args.review_cost:g} transcriptions"
    )
    print(
        f"| language | policy | final {'WER/CER':7s} | transcriptions/clip | review share | "
        "cost/clip |"
    )
    print("|---|---|---:|---:|---:|---:|")
    policies = [p for p in POLICIES if not args.only or any(o in p.name for o in args.only)]
    by_seed: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    for language in args.languages:
        for policy in policies:
            rows = []
            for seed in args.seeds:
                clips, people = simulate(language, args.clips, seed)
                tally = run_policy(policy, clips, people, seed + 1000, args.gold, args.review_cost)
                rows.append(tally.row(args.review_cost))
            by_seed[(language, policy.name)] = rows
            error, per_clip, share, cost = (statistics.mean(c) for c in zip(*rows, strict=True))
            spread = max(r[0] for r in rows) - min(r[0] for r in rows)
            unit = "WER" if language == "en" else "CER"
            print(
                f"| {language} | {policy.name} | {error:.2%} {unit} (±{spread / 2:.2%}) | "
                f"{per_clip:.2f} | {share:.1%} | {cost:.2f} |"
            )
    if args.paired:
        print_paired(by_seed, args.paired, args.seeds)


def print_paired(
    by_seed: dict[tuple[str, str], list[tuple[float, float, float, float]]],
    reference: str,
    seeds: list[int],
) -> None:
    """Each policy against ``reference`` on the same seeds (and so the same draws): the mean
    difference in error and cost, and on how many seeds each is lower."""
    print(f"\nagainst {reference!r}, seed by seed (seeds {seeds})")
    for (language, name), rows in by_seed.items():
        base = by_seed.get((language, reference))
        if base is None or name == reference:
            continue
        errors = [mine[0] - theirs[0] for mine, theirs in zip(rows, base, strict=True)]
        costs = [mine[3] - theirs[3] for mine, theirs in zip(rows, base, strict=True)]
        print(
            f"{language} {name}: error {statistics.mean(errors):+.3%} "
            f"(lower on {sum(e < 0 for e in errors)}/{len(errors)}, worst {max(errors):+.3%}), "
            f"cost {statistics.mean(costs):+.3f} "
            f"(lower on {sum(c < 0 for c in costs)}/{len(costs)}, worst {max(costs):+.3f})"
        )


if __name__ == "__main__":
    main()
