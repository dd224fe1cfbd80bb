"""pyproject.toml declares what the code imports: every third-party import of the house is a
declared runtime dependency, every test import a declared one, and a declared package nobody
imports is one of the few pyproject says why it needs."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOUSE = ("crowdscribe", "audio", "transcribe", "review", "flows", "app")
LOCAL = {*HOUSE, "tests", "bench"}
# Declared, never imported: each has its reason beside it in pyproject.toml.
NOT_IMPORTED = {
    "uvloop",
    "httptools",
    "python-multipart",
    "itsdangerous",
    "swagger-ui-py",
    "distributed",
    "s3fs",
    "torch",
    "librosa",
    "ruff",
    "import-linter",
    "pytest-randomly",
    "pytest-xdist",
}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]).lower()


@cache
def _owners() -> dict[str, list[str]]:
    return packages_distributions()


@cache
def _declared() -> tuple[frozenset[str], frozenset[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = frozenset(_name(r) for r in project["dependencies"])
    test = frozenset(_name(r) for r in project["optional-dependencies"]["test"])
    return runtime, test


@cache
def imported_distributions(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Each third-party distribution the code under ``folders`` imports, with where."""
    owners = _owners()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    # A bench script imports the script beside it.
                    beside = (path.parent / f"{top}.py").exists()
                    if top in LOCAL or top in sys.stdlib_module_names or beside:
                        continue
                    names = [_name(d) for d in owners.get(top, [])] or [f"(no package has {top})"]
                    for name in names:
                        found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_house_imports_only_declared_runtime_dependencies() -> None:
    runtime, _test = _declared()
    undeclared = {
        name: sorted(paths)[:3]
        for name, paths in imported_distributions(HOUSE).items()
        if name not in runtime
    }
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"


def test_tests_and_benches_import_only_declared_dependencies() -> None:
    runtime, test = _declared()
    undeclared = {
        name: sorted(paths)[:3]
        for name, paths in imported_distributions(("tests", "bench")).items()
        if name not in runtime | test
    }
    assert not undeclared, f"imported but not declared (test extra?): {undeclared}"


def test_every_declared_dependency_is_imported_or_says_why() -> None:
    runtime, test = _declared()
    house = set(imported_distributions(HOUSE))
    anywhere = house | set(imported_distributions(("tests", "bench")))
    assert sorted(runtime - house - NOT_IMPORTED) == []
    assert sorted(test - anywhere - NOT_IMPORTED) == []
    # A runtime dependency only tests import (distributed: the Dask runner needs it, the cluster
    # tests import it) still needs its reason.
    imported_after_all = (NOT_IMPORTED & runtime & house) | (
        NOT_IMPORTED & (test - runtime) & anywhere
    )
    assert sorted(imported_after_all) == [], "imported after all: drop it from NOT_IMPORTED"
