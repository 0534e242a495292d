"""A vendor's first hour: scaffold a scenario, pip install it, and the platform finds and serves it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def test_new_scenario_installs_is_discovered_and_passes_its_own_tests(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JICENG_")} | {"JICENG_LANG": "en"}
    package = tmp_path / "jiceng-hello"
    run(sys.executable, "-m", "jiceng.core.cli", "new-scenario", "hello", "--dir", package, "--title", "问候", env=env)
    assert (package / "jiceng_hello" / "templates" / "index.html").exists()

    # A fresh virtualenv that sees this checkout's jiceng and its dependencies, but not the new package.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", venv)
    python = venv / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    Path(site, "jiceng-dev.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n", encoding="utf-8"
    )
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", package, env=env)

    found = run(
        python,
        "-c",
        "from jiceng.core.config import Settings; from jiceng.core.plugin_host import PluginHost;"
        "h = PluginHost.load(Settings(environment='development')); s = h.scenarios['hello'];"
        "print(s.source, s.manifest.name_zh)",
        env=env,
    )
    assert found.stdout.strip() == "jiceng-hello 0.1.0 问候"

    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package, env=env)
    assert "4 passed" in tests.stdout

    checked = run(python, "-m", "jiceng.core.cli", "plugin", "check", "hello", env=env)
    assert "Tenant isolation" in checked.stdout and "✗" not in checked.stdout + checked.stderr


def test_new_scenario_refuses_bad_names_and_occupied_folders(tmp_path, cli):
    bad = cli("new-scenario", "Hello-World")
    assert bad.exit_code == 1 and "Hello-World" in bad.output
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    taken = cli("new-scenario", "ok_name", "--dir", str(tmp_path / "taken"))
    assert taken.exit_code == 1
