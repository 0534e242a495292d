"""The package as it ships: every folder in the wheel, imports pointing one way, no stray files."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"core": "jiceng/core", "plugins": "jiceng/plugins", "scenarios": "jiceng/scenarios", "sdk": "jiceng/sdk"}
# Who may import whom: scenarios → sdk → core → plugins.
ALLOWED = {
    "plugins": set(),
    "core": {"plugins"},
    "sdk": {"core", "plugins"},
    "scenarios": {"sdk"},
}


def test_top_level_is_the_design_card():
    names = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")} - {"__pycache__", "build", "jiceng.egg-info"}
    names -= {p for p in names if p.endswith((".db", ".db-wal", ".db-shm", ".toml")) and p != "pyproject.toml"}
    assert names == {
        "core",
        "plugins",
        "scenarios",
        "sdk",
        "docs",
        "tests",
        "bench",
        "pyproject.toml",
        "setup.py",
        "README.md",
        "Makefile",
    }


@pytest.mark.slow
def test_wheel_holds_every_package_folder_and_its_data(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("jiceng-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, target in PACKAGES.items():
        for source in (ROOT / folder).rglob("*"):
            if source.is_file() and "__pycache__" not in source.parts and source.suffix != ".pyc":
                assert f"{target}/{source.relative_to(ROOT / folder).as_posix()}" in names, source
    assert "jiceng/core/locale/zh_CN/LC_MESSAGES/messages.po" in names
    assert "jiceng/core/demo_data/areas-chongqing.csv" in names


def imported_layers(path: Path) -> set[str]:
    layers = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        for name in names:
            parts = name.split(".")
            if parts[0] == "jiceng" and len(parts) > 1:
                layers.add(parts[1])
    return layers


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_one_way(layer):
    wrong = {}
    for path in (ROOT / layer).rglob("*.py"):
        bad = imported_layers(path) - ALLOWED[layer] - {layer}
        if bad:
            wrong[str(path.relative_to(ROOT))] = bad
    assert wrong == {}
