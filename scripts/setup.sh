#!/usr/bin/env bash
# Sets up everything crowdscribe and its tests need on a fresh Debian machine:
# system packages (when root), then a virtualenv in .venv with the project installed.
# Each step says what it does first: the install takes minutes on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "setup: $*"; }

# fonts-noto-cjk: Chinese pages in chromium (browser tests, screenshots) instead of boxes.
apt_packages=(espeak-ng sox libsndfile1 chromium fonts-noto-cjk)
missing=()
step "1/4 checking system packages (${apt_packages[*]})"
for package in "${apt_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then
        step "installing with apt: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: please install with apt: ${missing[*]}" >&2
    fi
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [[ -x .venv/bin/python ]]; then
    step "2/4 virtualenv .venv already there"
else
    step "2/4 creating virtualenv .venv with $python"
    "$python" -m venv .venv
fi
step "3/4 installing crowdscribe and its test tools into .venv (a few minutes the first time)"
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
step "4/4 checking the packages import"
.venv/bin/python -c 'import crowdscribe, audio, transcribe, review, flows'
step "done: try .venv/bin/crowdscribe demo"
