"""Cut a 16 kHz mono signal into clips of speech, in pauses, never inside a word.

Steps (see docs/audio.md): webrtcvad decisions per 30 ms frame -> padded onset/offset
collector -> merge pieces across short gaps -> drop blips and stretches that are not
speech -> split anything too long at the quietest run of frames -> pad clip edges
without overlapping neighbours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from audio.frames import ENERGY_HOP_S, VAD_FRAME_S, SignalFrames, measure_frames, power_db
from audio.speechlike import Samples, SpeechCriteria, speech_evidence

_GRID_S = 0.5  # fallback cut candidates, so a legal split always exists
_CUT_PENALTY_DB = 3.0  # each extra cut costs this much: fewer clips when cuts are equal
_CLEAN_RANGE_DB = 40.0  # speech this far above the floor pays the full cut penalty


@dataclass(frozen=True)
class Span:
    """A stretch of a recording, in seconds from its start."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.end_s - self.start_s

    def to_dict(self) -> dict:
        """Start, end and duration in seconds."""
        return {"start_s": self.start_s, "end_s": self.end_s, "duration_s": self.duration_s}


@dataclass(frozen=True)
class SegmentConfig:
    """How speech is found and cut; defaults suit read and conversational speech."""

    aggressiveness: int = 2
    max_clip_s: float = 15.0
    pad_s: float = 0.2
    ring_s: float = 0.3
    """Length of the collector's ring buffer of recent VAD decisions."""
    onset_ratio: float = 0.6
    """Share of voiced frames in the ring that starts a segment."""
    offset_ratio: float = 0.9
    """Share of unvoiced frames in the ring that ends one."""
    merge_gap_s: float = 0.8
    """Pieces closer than this are one segment (commas, breaths)."""
    min_speech_s: float = 0.3
    """Segments with less voiced time than this are blips (clicks, coughs) and dropped."""
    min_piece_s: float = 1.0
    """A split never leaves a piece shorter than this."""
    pause_s: float = 0.12
    """Length of the quiet run a split is centred in."""
    criteria: SpeechCriteria = field(default_factory=SpeechCriteria)

    def to_dict(self) -> dict:
        """The settings as plain values, to record with a collection run."""
        return asdict(self)


@dataclass(frozen=True)
class SpeechAnalysis:
    """Everything segmentation learned about a signal; quality reuses the frame arrays."""

    spans: list[Span]
    voiced: np.ndarray
    """webrtcvad decision per 30 ms frame."""
    power: np.ndarray
    """Mean square per 10 ms frame."""
    speech_spans: list[Span]
    """Unpadded speech segments (before splitting), for speech ratio and SNR."""


def segment_speech(samples: Samples, sample_rate_hz: int, config: SegmentConfig) -> list[Span]:
    """Clip spans of speech in ``samples``: padded, non-overlapping, none over max_clip_s."""
    return analyse_speech(samples, sample_rate_hz, config).spans


def analyse_speech(
    samples: Samples,
    sample_rate_hz: int,
    config: SegmentConfig,
    frames: SignalFrames | None = None,
) -> SpeechAnalysis:
    """Segment ``samples`` and keep the frame-level arrays the quality report needs.

    ``frames`` are the signal's measures if already made (while decoding); else made here.
    Only the stretches webrtcvad calls voiced are read from ``samples`` again, a batch at a
    time, so a recording spilled to disk is never loaded whole.
    """
    if frames is None:
        frames = measure_frames(np.asarray(samples), sample_rate_hz, config.aggressiveness)
    voiced = frames.voiced
    pieces = collect_voiced(voiced, config)
    pieces = merge_close(pieces, int(round(config.merge_gap_s / VAD_FRAME_S)))
    min_voiced = config.min_speech_s / VAD_FRAME_S
    speech = []
    for a, b in pieces:
        if voiced[a:b].sum() < min_voiced:
            continue
        frame = int(sample_rate_hz * VAD_FRAME_S)
        evidence = speech_evidence(samples, sample_rate_hz, a * frame, b * frame)
        if config.criteria.accepts(evidence):
            # A music bed running on before or after the talk is not sent to transcribers.
            head = int(evidence.steady_head_s / VAD_FRAME_S)
            tail = int(evidence.steady_tail_s / VAD_FRAME_S)
            speech.append((a + head, b - tail))
    speech_spans = [Span(a * VAD_FRAME_S, b * VAD_FRAME_S) for a, b in speech]
    limit_s = config.max_clip_s - 2 * config.pad_s
    clips: list[Span] = []
    for span in speech_spans:
        clips.extend(split_long(span, frames.edge_power, limit_s, config))
    total_s = frames.length / sample_rate_hz
    return SpeechAnalysis(
        spans=pad_spans(clips, config.pad_s, total_s),
        voiced=voiced,
        power=frames.power,
        speech_spans=speech_spans,
    )


def collect_voiced(voiced: np.ndarray, config: SegmentConfig) -> list[tuple[int, int]]:
    """Frame ranges [start, end) of speech by a ring-buffer collector with hysteresis.

    Like py-webrtcvad's example, a segment starts when enough of the last ``ring_s`` is
    voiced and ends when enough of it is unvoiced; unlike it, the edges are the first and
    last voiced frames rather than the ring's ends (padding is added later, once).
    """
    ring = max(1, int(round(config.ring_s / VAD_FRAME_S)))
    counts = np.convolve(voiced.astype(np.int32), np.ones(ring, dtype=np.int32))[: len(voiced)]
    onsets = np.flatnonzero(counts >= config.onset_ratio * ring)
    offsets = np.flatnonzero(ring - counts >= config.offset_ratio * ring)
    voiced_at = np.flatnonzero(voiced)
    pieces: list[tuple[int, int]] = []
    position = 0
    while True:
        i = np.searchsorted(onsets, position)
        if i == len(onsets):
            break
        trigger = int(onsets[i])
        j = np.searchsorted(offsets, trigger + 1)
        release = int(offsets[j]) if j < len(offsets) else len(voiced)
        first = voiced_at[np.searchsorted(voiced_at, max(trigger - ring + 1, 0))]
        last = voiced_at[np.searchsorted(voiced_at, release, side="right") - 1]
        pieces.append((int(first), int(last) + 1))
        position = release + 1
    return pieces


def merge_close(pieces: list[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    """Join frame ranges separated by fewer than ``max_gap`` frames."""
    merged: list[tuple[int, int]] = []
    for start, end in pieces:
        if merged and start - merged[-1][1] < max_gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def split_long(
    span: Span, edge_power: np.ndarray, limit_s: float, config: SegmentConfig
) -> list[Span]:
    """Split ``span`` into pieces of at most ``limit_s``, cutting only in the quietest runs.

    Candidate cuts are the centres of locally quietest ``pause_s`` runs (plus a coarse grid
    so a cut always exists). A shortest-path search over candidates picks the set of cuts
    whose total loudness above the span's quietest run is least: one cut in a word costs
    more than any number of cuts in pauses. Pieces meet at the cut, so each keeps half
    the pause and padding cannot push either past the limit.
    """
    if span.duration_s <= limit_s:
        return [span]
    positions_s, costs_db, range_db = _cut_candidates(span, edge_power, config)
    min_piece_s = min(config.min_piece_s, limit_s / 2)
    # A cut's price is in proportion to how far speech stands above the floor: in 5 dB
    # SNR noise or under hum a word's quietest run is only ~1 dB above a pause, and a
    # fixed 3 dB per cut would buy fewer clips with a cut inside a word.
    penalty_db = _CUT_PENALTY_DB * min(1.0, range_db / _CLEAN_RANGE_DB)
    cuts = _cheapest_cuts(span, positions_s, costs_db, limit_s, min_piece_s, penalty_db)
    edges = [span.start_s, *cuts, span.end_s]
    return [Span(a, b) for a, b in zip(edges, edges[1:], strict=False)]


def _cut_candidates(
    span: Span, edge_power: np.ndarray, config: SegmentConfig
) -> tuple[np.ndarray, np.ndarray, float]:
    """Times (s) of quiet-run centres inside ``span``, their level above the quietest (dB),
    and the span's range: its loud runs (90th percentile) above its quietest (dB)."""
    run = max(2, int(round(config.pause_s / ENERGY_HOP_S)))
    first = int(np.ceil(span.start_s / ENERGY_HOP_S))
    # Levels of the first difference (pre-emphasis, +6 dB/octave): hum and rumble drop
    # out and a word's quiet consonants rise above the pause between words.
    levels = power_db(edge_power[first : int(span.end_s / ENERGY_HOP_S)])
    run_db = np.convolve(levels, np.ones(run) / run, mode="valid")
    quiet = _local_minimum(run_db, run) == run_db
    grid = np.zeros_like(quiet)
    grid[:: int(round(_GRID_S / ENERGY_HOP_S))] = True
    # Runs of digital silence tie; keep the middle of each tied stretch, the pause's centre.
    index = _centres_of_stretches(np.flatnonzero(quiet)) | set(np.flatnonzero(grid).tolist())
    index_array = np.array(sorted(index))
    positions_s = (first + index_array + run / 2) * ENERGY_HOP_S
    # In noise a word's quietest run can sit near the floor too; what it lacks is length.
    # So a cut also pays for the level of the three runs around it: a pause between
    # utterances is quiet throughout, a gap inside a word is flanked by speech.
    padded = np.pad(levels, run, mode="edge")
    wide_db = np.convolve(padded, np.ones(3 * run) / (3 * run), mode="valid")[: len(run_db)]
    floor_db, wide_floor_db = run_db.min(), wide_db.min()
    costs_db = (run_db[index_array] - floor_db + wide_db[index_array] - wide_floor_db) / 2
    range_db = float(np.percentile(run_db, 90) - floor_db)
    return positions_s, costs_db, range_db


def _local_minimum(values: np.ndarray, reach: int) -> np.ndarray:
    """Minimum of each value's neighbourhood of ``reach`` either side (edges repeated)."""
    padded = np.pad(values, reach, mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).min(axis=1)


def _centres_of_stretches(indices: np.ndarray) -> set[int]:
    breaks = np.flatnonzero(np.diff(indices) > 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks + 1, [len(indices)]))
    return {int(indices[(a + b - 1) // 2]) for a, b in zip(starts, ends, strict=True)}


def _cheapest_cuts(
    span: Span,
    positions_s: np.ndarray,
    costs_db: np.ndarray,
    limit_s: float,
    min_piece_s: float,
    penalty_db: float,
) -> list[float]:
    """Cut times minimising total cost such that every piece lasts min_piece_s..limit_s."""
    nodes = np.concatenate(([span.start_s], positions_s, [span.end_s]))
    node_cost = np.concatenate(([0.0], costs_db + penalty_db, [0.0]))
    best = np.full(len(nodes), np.inf)
    previous = np.full(len(nodes), -1)
    best[0] = 0.0
    for j in range(1, len(nodes)):
        length = nodes[j] - nodes[:j]
        allowed = (length <= limit_s) & ((length >= min_piece_s) | (j == len(nodes) - 1))
        total = np.where(allowed, best[:j], np.inf)
        i = int(np.argmin(total))
        if np.isfinite(total[i]):
            best[j], previous[j] = total[i] + node_cost[j], i
    cuts, j = [], previous[-1]
    while j > 0:
        cuts.append(float(nodes[j]))
        j = previous[j]
    return sorted(cuts)


def pad_spans(spans: list[Span], pad_s: float, total_s: float) -> list[Span]:
    """Widen each span by ``pad_s`` each side, stopping halfway to a neighbour and at the ends."""
    padded: list[Span] = []
    for i, span in enumerate(spans):
        lo = 0.0 if i == 0 else (spans[i - 1].end_s + span.start_s) / 2
        hi = total_s if i == len(spans) - 1 else (span.end_s + spans[i + 1].start_s) / 2
        start = max(span.start_s - pad_s, lo, 0.0)
        end = min(span.end_s + pad_s, hi, total_s)
        padded.append(Span(round(float(start), 4), round(float(end), 4)))
    return padded
