"""The demo's gold clips: the sample texts pair with clips one to one, and each is a valid
reference in its language."""

from __future__ import annotations

import tomllib

from app.cli.demo_cmds import SAMPLES_DIR, pair_clips_with_sentences
from transcribe.conventions import check_transcript


def test_sentences_pair_with_clips_only_one_to_one() -> None:
    assert pair_clips_with_sentences(["a", "b"], ["one.", "two."]) == [("a", "one."), ("b", "two.")]
    assert pair_clips_with_sentences(["a"], ["one.", "two."]) == []


def test_every_sample_text_is_a_valid_reference() -> None:
    folders = tomllib.loads((SAMPLES_DIR / "samples.toml").read_text())
    sentences = 0
    for folder, meta in folders.items():
        for name, texts in meta.get("texts", {}).items():
            assert (SAMPLES_DIR / folder / name).is_file()
            for text in texts:
                check_transcript(text, meta["language"])
                sentences += 1
    # Enough for the default five-clip exam in Cantonese and Mandarin.
    assert sentences >= 13
