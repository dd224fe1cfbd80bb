#!/usr/bin/env bash
# Sets up everything crowdscribe and its tests need on a fresh Debian machine:
# system packages (when root), then a virtualenv in .venv with the project installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-noto-cjk: Chinese pages in chromium (browser tests, screenshots) instead of boxes.
apt_packages=(espeak-ng sox libsndfile1 chromium fonts-noto-cjk)
missing=()
for package in "${apt_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: please install with apt: ${missing[*]}" >&2
    fi
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c 'import crowdscribe, audio, transcribe, review, flows' 
