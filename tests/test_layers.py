"""The one-way house holds: import-linter's layers contract passes here and fails on a copy of the
code in which a domain module imports the shell."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crowdscribe", "audio", "transcribe", "review", "flows", "app")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_code(target: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            target / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
        )


def test_the_code_keeps_the_layers_contract(tmp_path: Path) -> None:
    _copy_code(tmp_path)
    result = _lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_domain_module_importing_the_shell_breaks_the_contract(tmp_path: Path) -> None:
    _copy_code(tmp_path)
    pricing = tmp_path / "transcribe" / "pricing.py"
    pricing.write_text(pricing.read_text() + "\nfrom app.web.templating import templates  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "transcribe is not allowed to import app" in result.stdout
    assert "transcribe.pricing -> app.web.templating" in result.stdout


def test_audio_importing_people_breaks_the_contract(tmp_path: Path) -> None:
    _copy_code(tmp_path)
    segment = tmp_path / "audio" / "segment.py"
    segment.write_text(segment.read_text() + "\nimport transcribe.users  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "audio is not allowed to import transcribe" in result.stdout
