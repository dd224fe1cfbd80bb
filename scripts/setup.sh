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
    # Without a pip of its own (installing that takes ~10 s): uv manages it, `.venv/bin/uv pip`.
    "$python" -m venv --without-pip .venv
fi
# uv installs the same pins several times faster than pip, and from its cache in seconds.
uv_version=0.13.9
step "3/4 installing crowdscribe and its test tools into .venv with uv $uv_version (minutes the first time)"
if [[ $(.venv/bin/uv --version 2>/dev/null) != "uv $uv_version"* ]]; then
    pip_into_venv=("$python" -m pip --python .venv/bin/python)  # the system's pip (22.3 and later)
    if ! "${pip_into_venv[@]}" --version >/dev/null 2>&1; then
        .venv/bin/python -m ensurepip >/dev/null
        pip_into_venv=(.venv/bin/python -m pip)
    fi
    "${pip_into_venv[@]}" install -q --disable-pip-version-check "uv==$uv_version" 2>&1 | grep -v '^WARNING: Location' || true
fi
# Wheels kept on this machine (pip's find-links): among them torch's CPU build, which uv then
# prefers to PyPI's CUDA one of gigabytes.
links=()
for folder in ${PIP_FIND_LINKS:-/opt/wheels}; do
    [[ -d $folder ]] && links+=(--find-links "$folder")
done
.venv/bin/uv pip install --quiet --python .venv/bin/python "${links[@]}" -e '.[test]'
step "4/4 checking the packages import (and compiling them once: uv installs no bytecode)"
# Written even where PYTHONDONTWRITEBYTECODE is set, so no later command compiles Prefect again.
# The flows, the web app, the CLI and Prefect's server are what the commands and tests load.
env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -c 'import crowdscribe, audio, transcribe, review
import flows.agreement, flows.collect, flows.dispatch, flows.export, flows.settle
import app.web.app, app.cli.commands, prefect.server.api.server'
step "done: try .venv/bin/crowdscribe demo"
