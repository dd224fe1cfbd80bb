#!/usr/bin/env bash
# Makes the demo recordings in samples/{en,yue,cmn}/ with espeak-ng and sox.
# English at a child-like pitch; Cantonese and Mandarin with the default adult voices.
# Several sentences with pauses, in varied formats, rates and channel counts; < 2 MB in all.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# say VOICE OUT.wav PAUSE_S SENTENCE... : each sentence, then PAUSE_S of silence.
say() {
    local voice=$1 out=$2 pause=$3 n=0
    shift 3
    local parts=()
    for sentence in "$@"; do
        n=$((n + 1))
        if [[ $voice == en-us ]]; then
            espeak-ng -v en-us -p 80 -s 140 -w "$tmp/s$n.wav" "$sentence"
        else
            espeak-ng -v "$voice" -w "$tmp/s$n.wav" "$sentence"
        fi
        sox "$tmp/s$n.wav" "$tmp/p$n.wav" pad 0 "$pause"
        parts+=("$tmp/p$n.wav")
    done
    sox "${parts[@]}" "$out"
}

mkdir -p en yue cmn

say en-us "$tmp/en1.wav" 0.6 "I had cereal for breakfast." "Then I brushed my teeth."
sox "$tmp/en1.wav" -r 44100 -c 2 -b 16 en/breakfast_44k_stereo.wav
say en-us "$tmp/en2.wav" 0.25 \
    "On Monday we went to the zoo with my class." \
    "We saw a giraffe eating leaves from a very tall tree." \
    "The monkeys were jumping and swinging and making funny noises." \
    "My friend Sam dropped his sandwich and a goose took it away." \
    "Then it started to rain, so we all ran back to the bus."
sox "$tmp/en2.wav" -C 64 en/zoo_trip.mp3

say yue "$tmp/yue1.wav" 0.8 "今日天氣好好。" "我哋一齊去街市買餸。" "阿媽話要買魚同埋菜。"
sox "$tmp/yue1.wav" -b 16 yue/market.flac
say yue "$tmp/yue2.wav" 1.0 "你食咗飯未呀？" "我啱啱食完，好飽呀。"
sox "$tmp/yue2.wav" -r 48000 -c 2 yue/lunch_48k_stereo.ogg

say cmn "$tmp/cmn1.wav" 0.7 "今天天气很好。" "我们去公园玩吧。" "公园里有很多花和小鸟。"
sox "$tmp/cmn1.wav" -r 8000 -b 16 cmn/park_8k.wav
say cmn "$tmp/cmn2.wav" 0.9 "我想去看电影。" "你明天有空吗？" "我们早上九点见面吧。"
sox "$tmp/cmn2.wav" cmn/cinema.ogg

du -ch en yue cmn | tail -1
