"""Imports run one way: the import-linter contracts in pyproject.toml hold, and no module hides an
import of an ember module inside a function (except the one the CLI keeps for its start-up time)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SOURCE = ROOT / "src" / "ember"
# `ember --help` must not load torch: the commands are imported after the arguments are parsed.
ALLOWED_FUNCTION_IMPORTS = {
    ("ember.cli", "ember.cli.commands"),
    ("ember.cli", "ember.cli.delivery"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = SOURCE.parent / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def function_level_imports() -> set[tuple[str, str]]:
    found = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ember"):
                    names = [f"{node.module}.{a.name}" for a in node.names]
                    submodules = [n for n in names if is_module(n)]
                    found.update(
                        (module_name(path), target) for target in submodules or [node.module]
                    )
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.startswith("ember"):
                            found.add((module_name(path), alias.name))
    return found


def test_no_ember_module_is_imported_inside_a_function():
    assert function_level_imports() <= ALLOWED_FUNCTION_IMPORTS


def test_the_import_linter_contracts_hold():
    command = shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports is missing. Fix: pip install -e '.[test]' (import-linter).")
    result = subprocess.run(
        [command, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SOURCE.parent), "PATH": str(Path(sys.executable).parent)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout
