#!/usr/bin/env bash
# Regenerates the audio fixtures under tests/data/audio/ (needs espeak-ng and sox).
# Speech is espeak-ng; broken files are cut or faked from it. Kept small: a few seconds each.
set -euo pipefail
cd "$(dirname "$0")/audio"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

espeak-ng -v en-us -p 80 -s 140 -w "$tmp/en.wav" \
    "My dog likes to run in the park. Then we go home for lunch."
espeak-ng -v yue -w "$tmp/yue.wav" "今日天氣好好。我哋去公園玩啦。"
espeak-ng -v cmn -w "$tmp/cmn.wav" "今天天气很好。我们去公园玩吧。"
# 16-bit FLAC at espeak's own 22.05 kHz: tests convert these to every other format and rate.
for lang in en yue cmn; do
    sox "$tmp/$lang.wav" -b 16 "speech_$lang.flac"
done

# Broken inputs, each with the reason a coordinator should read.
: > empty.wav
head -c 20000 "$tmp/en.wav" > truncated.wav
sox "$tmp/en.wav" "$tmp/en.flac"
head -c 9000 "$tmp/en.flac" > truncated.flac
printf 'speaker: ana\nthis is a transcript, not a recording\n' > text_renamed.wav
head -c 44 "$tmp/en.wav" > header_only.wav
# WavPack: real audio in a codec libsndfile does not read.
sox "$tmp/en.wav" -r 8000 unsupported.wv
ls -l
