"""Verbatim transcription conventions: one tokenizer for the tag grammar, a validator that
reports problems with their positions, and a checker used on submit.

Grammar (see docs/conventions.md): events ``[noise] [laugh] [cough] [breath] [music]
[no-speech]``, ``[unintelligible]``, guesses ``((words))``, cut-off words ``wor-``, filled
pauses ``uh um er ah mm hmm 嗯 呃 啊 哦``. Chinese characters are one token each.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass

from crowdscribe.errors import ConventionError
from transcribe.limits import MAX_PROBLEMS_SHOWN
from transcribe.spoken_numbers import NUMBER_RE, spoken_number
from transcribe.tag_input import fold_tag_input

EVENT_TAGS: frozenset[str] = frozenset(
    {"noise", "laugh", "cough", "breath", "music", "no-speech", "unintelligible"}
)
NON_SPEECH_TAGS: frozenset[str] = EVENT_TAGS - {"unintelligible"}
FILLED_PAUSES: frozenset[str] = frozenset(
    {"uh", "um", "er", "ah", "mm", "hmm", "嗯", "呃", "啊", "哦"}
)
CHINESE_LANGUAGES: frozenset[str] = frozenset(
    {"zh", "yue", "cmn", "wuu", "nan", "hak", "gan", "hsn", "cjy", "cdo", "cpx", "czh", "mnp"}
)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff〇"
# Letters of any script except CJK ideographs, which are tokens on their own.
_LETTER = rf"[^\W_{_CJK}]"
_PUNCTUATION = r"""[.,!?;:"'…·\-—–，。！？、；：「」『』“”‘’《》〈〉【】～]"""
_SCANNER = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<tag>\[(?P<tag_name>[^\[\]()\n]*)\])
  | (?P<guess_open>\(\()
  | (?P<guess_close>\)\))
  | (?P<bracket>[\[\]])
  | (?P<paren>[()（）［］])
  | (?P<word>{_LETTER}(?:{_LETTER}|['’]{_LETTER}|-(?={_LETTER}))*-?)
  | (?P<han>[{_CJK}]-?)
  | (?P<hyphen>-+)
  | (?P<punct>{_PUNCTUATION})
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_DIGIT_RUN = re.compile(r"\d")
# Found wherever it is, a problem of these kinds lies at its match: past the problems shown it
# is only counted (docs/conventions.md#bounded-checks).
_ALWAYS_WRONG = frozenset({"paren", "hyphen", "other"})
HAN_CHARACTER = re.compile(rf"[{_CJK}]")
_SPEECH_KINDS = frozenset({"word", "guess", "cutoff", "filled_pause"})
_SKIPPED = frozenset({"space", "punct"})
_WORDS = frozenset({"word", "han"})
_HANDLED = (
    "tag",
    "guess_open",
    "guess_close",
    "bracket",
    "paren",
    "word",
    "han",
    "hyphen",
    "other",
)


@dataclass(frozen=True)
class Problem:
    """One place where a transcript breaks the conventions; ``start``/``end`` are char offsets."""

    start: int
    end: int
    code: str
    message: str

    def to_dict(self) -> dict:
        """JSON-able form for the API's 422 body."""
        return asdict(self)


@dataclass(frozen=True)
class Token:
    """One unit of a transcript. ``text`` is exactly what was written (``[noise]``,
    ``((big dog))``, ``wor-``); ``content`` is the tag name or guessed words."""

    kind: str  # word | event | guess | cutoff | filled_pause
    text: str
    start: int
    end: int

    @property
    def content(self) -> str:
        """Tag name for events, the guessed words for guesses, the text otherwise."""
        if self.kind == "event":
            return self.text[1:-1]
        if self.kind == "guess":
            return self.text[2:-2].strip()
        return self.text


def is_chinese(language: str) -> bool:
    """True for Chinese languages (yue, cmn, zh, wuu, ...) and codes under them (cmn-shaanxi),
    which are compared by characters rather than words."""
    return language.lower().replace("_", "-").split("-", 1)[0] in CHINESE_LANGUAGES


def _word_kind(text: str) -> str:
    if text.endswith("-"):
        return "cutoff"
    return "filled_pause" if text.lower() in FILLED_PAUSES else "word"


@dataclass(frozen=True)
class Validation:
    """The first problems of a text in order of position, and how many it has in all."""

    problems: tuple[Problem, ...]
    count: int


class _Scan:
    """Single pass over the text collecting tokens and problems together.

    Only the first ``shown`` problems by position are built (all of them when None); the rest
    are counted, so a text made of mistakes costs about what a clean one does."""

    def __init__(self, text: str, chinese: bool, shown: int | None) -> None:
        self.text = text
        self.chinese = chinese
        self.shown = shown
        self.tokens: list[Token] = []
        self.problems: list[Problem] = []
        self.last_start = -1  # the latest start among the problems built
        self.unbuilt = 0
        self.open_bracket: int | None = None
        self.guess_start: int | None = None
        self.guess_has_words = False

    @property
    def count(self) -> int:
        return len(self.problems) + self.unbuilt

    def counted_only(self, start: int) -> bool:
        """True, having counted it, when a problem at ``start`` cannot be among those shown."""
        if self.shown is None or len(self.problems) < self.shown or start <= self.last_start:
            return False
        self.unbuilt += 1
        return True

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)
        self.last_start = max(self.last_start, problem.start)
        if self.shown is not None and len(self.problems) > 2 * self.shown:
            self._keep_shown()

    def _keep_shown(self) -> None:
        self.problems.sort(key=lambda p: (p.start, p.end))
        if self.shown is not None and len(self.problems) > self.shown:
            self.unbuilt += len(self.problems) - self.shown
            del self.problems[self.shown :]
            self.last_start = max((p.start for p in self.problems), default=-1)

    def problem(self, start: int, end: int, code: str, message: str) -> None:
        if not self.counted_only(start):
            self.add(Problem(start, end, code, message))

    def run(self) -> None:
        handlers = {name: getattr(self, f"_on_{name}") for name in _HANDLED}
        append = self.tokens.append
        for match in _SCANNER.finditer(self.text):
            kind = match.lastgroup
            if kind in _SKIPPED:
                continue
            if kind in _ALWAYS_WRONG and self.counted_only(match.start()):
                continue
            if (
                kind in _WORDS
                and self.open_bracket is None
                and self.guess_start is None
                and _DIGIT_RUN.search(word := match.group()) is None
            ):
                # The common case, kept inline: most of a transcript is plain words.
                append(Token(_word_kind(word), word, match.start(), match.end()))
                continue
            handlers[kind](match)
        self._finish()

    def _on_tag(self, match: re.Match) -> None:
        start, end = match.span()
        name = match.group("tag_name")
        if self.open_bracket is not None or self.guess_start is not None:
            self.problem(
                start,
                end,
                "nested_brackets",
                "A tag cannot sit inside another "
                "bracket or a ((guess)); close the outer one first.",
            )
        if not name.strip():
            self.problem(
                start,
                end,
                "empty_tag",
                "Empty []: write a tag such as [noise], or remove the brackets.",
            )
        elif name not in EVENT_TAGS:
            if not self.counted_only(start):
                self._unknown_tag(start, end, name)
        else:
            self.tokens.append(Token("event", match.group(), start, end))

    def _unknown_tag(self, start: int, end: int, name: str) -> None:
        known = sorted(EVENT_TAGS)
        folded = name.strip().lower().replace(" ", "-").replace("_", "-")
        nearest = folded if folded in EVENT_TAGS else None
        if nearest is None:
            close = difflib.get_close_matches(folded, known, n=1, cutoff=0.5)
            nearest = close[0] if close else None
        hint = (
            f"did you mean [{nearest}]?"
            if nearest
            else ("known tags: " + " ".join(f"[{tag}]" for tag in known))
        )
        self.add(Problem(start, end, "unknown_tag", f"Unknown tag [{name}]; {hint}"))

    def _on_guess_open(self, match: re.Match) -> None:
        if self.guess_start is not None or self.open_bracket is not None:
            self.problem(
                *match.span(),
                "nested_brackets",
                "A ((guess)) cannot contain another "
                "bracket; close the first one before opening a new one.",
            )
            return
        self.guess_start = match.start()
        self.guess_has_words = False

    def _on_guess_close(self, match: re.Match) -> None:
        if self.guess_start is None:
            self.problem(
                *match.span(),
                "unopened_guess",
                "'))' closes a guess that was never opened; write the guess as ((words)).",
            )
            return
        start, end = self.guess_start, match.end()
        if not self.guess_has_words:
            self.problem(
                start,
                end,
                "empty_guess",
                "Empty (( )): write your best guess inside, "
                "or [unintelligible] if you cannot guess.",
            )
        else:
            self.tokens.append(Token("guess", self.text[start:end], start, end))
        self.guess_start = None

    def _on_bracket(self, match: re.Match) -> None:
        start, end = match.span()
        if match.group() == "[":
            if self.open_bracket is not None:
                self.problem(
                    start,
                    end,
                    "nested_brackets",
                    "'[' inside another '['; a tag is one word in brackets, like [noise].",
                )
            else:
                self.open_bracket = start
        elif self.open_bracket is not None:
            self.open_bracket = None  # the pair held something invalid, already reported
        else:
            self.problem(
                start,
                end,
                "unopened_bracket",
                "']' without a matching '['; tags look like [noise].",
            )

    def _on_paren(self, match: re.Match) -> None:
        char = match.group()
        if char in "（）［］":
            self.problem(
                *match.span(),
                "disallowed_character",
                f"Full-width '{char}': use half-width (( )) for guesses and [ ] for tags.",
            )
            return
        self.problem(
            *match.span(),
            "single_parenthesis",
            f"Single '{char}': a guess is written with double parentheses, ((like this)).",
        )

    def _on_word(self, match: re.Match) -> None:
        text = match.group()
        if self.open_bracket is not None:
            return  # content of an invalid [...] is reported once, at the bracket
        self._digits(match)
        if self.guess_start is not None:
            self.guess_has_words = True
            return
        self.tokens.append(Token(_word_kind(text), text, match.start(), match.end()))

    _on_han = _on_word

    def _digits(self, match: re.Match) -> None:
        for digit in _DIGIT_RUN.finditer(match.group()):
            if digit.start() and match.group()[digit.start() - 1].isdigit():
                continue
            if self.counted_only(match.start() + digit.start()):
                continue
            number = NUMBER_RE.match(self.text, match.start() + digit.start())
            assert number is not None
            following = self.text[number.end() : number.end() + 1]
            spoken = spoken_number(number.group(), self.chinese, following)
            message = (
                f"数字要写成汉字：{number.group()} 写成 {spoken}"
                if self.chinese
                else f"Write numbers as spoken: write {number.group()} as {spoken}"
            )
            self.add(Problem(number.start(), number.end(), "digit", message))

    def _on_hyphen(self, match: re.Match) -> None:
        self.problem(
            *match.span(),
            "stray_hyphen",
            "A hyphen marks a cut-off word and goes straight after it (wor-); remove this one.",
        )

    def _on_other(self, match: re.Match) -> None:
        char = match.group()
        self.problem(
            *match.span(),
            "disallowed_character",
            f"'{char}' is not used in "
            "transcripts; write only what was said, with the tags in the guide.",
        )

    def _finish(self) -> None:
        if self.open_bracket is not None:
            start = self.open_bracket
            self.problem(
                start, start + 1, "unclosed_bracket", "'[' is never closed; tags look like [noise]."
            )
        if self.guess_start is not None:
            start = self.guess_start
            self.problem(
                start,
                start + 2,
                "unclosed_guess",
                "'((' is never closed; a guess looks like ((words)).",
            )
        if not self.tokens and not self.count:
            self.problem(
                0,
                len(self.text),
                "empty_transcript",
                "The transcript is empty; write [no-speech] if nothing was said.",
            )
        no_speech = [t for t in self.tokens if t.text == "[no-speech]"]
        if no_speech and any(
            t.kind in _SPEECH_KINDS or t.text == "[unintelligible]" for t in self.tokens
        ):
            first = no_speech[0]
            self.problem(
                first.start,
                first.end,
                "no_speech_mixed",
                "[no-speech] means nothing was said; remove it, or remove the words.",
            )
        self._keep_shown()


def tokenize(text: str) -> list[Token]:
    """Split a transcript into words, events, guesses, cut-offs and filled pauses with their
    positions; the parser shared by validation and comparison. Invalid parts are skipped."""
    scan = _Scan(text, chinese=False, shown=0)
    scan.run()
    return scan.tokens


def find_problems(
    text: str, language: str, *, shown: int | None = MAX_PROBLEMS_SHOWN
) -> Validation:
    """The first ``shown`` places the text breaks the conventions (every one when None), in
    order of position, and how many there are; linear in the text's length. Tags typed with a
    Chinese input method are folded first; positions are in ``text``."""
    folded = fold_tag_input(text)
    scan = _Scan(folded.text, chinese=is_chinese(language), shown=shown)
    scan.run()
    problems = tuple(
        scan.problems
        if folded.text == text
        else (
            Problem(*folded.original_span(p.start, p.end), p.code, p.message) for p in scan.problems
        )
    )
    return Validation(problems, scan.count)


def validate_transcript(text: str, language: str) -> list[Problem]:
    """Every place the text breaks the conventions, in order of position (empty if none); for
    text of bounded length (a request's goes through ``find_problems``)."""
    return list(find_problems(text, language, shown=None).problems)


def normalize_whitespace(text: str) -> str:
    """Collapse runs of whitespace to one space and trim the ends."""
    return " ".join(text.split())


def check_transcript(text: str, language: str) -> str:
    """The text with tags folded to canonical form and whitespace normalised, or
    ConventionError listing the first problems and their count."""
    found = find_problems(text, language)
    if found.count:
        count = "1 problem" if found.count == 1 else f"{found.count} problems"
        raise ConventionError(
            f"The transcript breaks the conventions ({count}); first: {found.problems[0].message}",
            list(found.problems),
            found.count,
        )
    return normalize_whitespace(fold_tag_input(text).text)
