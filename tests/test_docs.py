"""Docs that cannot drift: the hook reference is generated, and every hook is exercised by a test."""

from __future__ import annotations

from pathlib import Path

from jiceng.plugins import reference

ROOT = Path(__file__).resolve().parent.parent


def test_hook_reference_is_up_to_date():
    committed = (ROOT / "docs" / "vendors" / "hooks.md").read_text(encoding="utf-8")
    assert committed == reference.render(), "run: python -m jiceng.plugins.reference > docs/vendors/hooks.md"


def test_every_hook_has_a_test():
    tests = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_docs.py"
    )
    untested = [name for name, *_ in reference.specs() if f'"{name}"' not in tests and f"def {name}(" not in tests]
    assert untested == []


def test_vendor_docs_exist_and_link_the_reference():
    quickstart = (ROOT / "docs" / "vendors" / "quickstart.md").read_text(encoding="utf-8")
    assert "jiceng new-scenario" in quickstart and "hooks.md" in quickstart
    assert (ROOT / "docs" / "admins" / "enable-scenarios.md").exists()
