"""The portal in a real browser: the server as ``make demo`` starts it, driven by Debian's headless Chromium.

The server runs as a subprocess in a temporary folder, set up with the same
commands a user types (``jiceng config init``, ``db upgrade``, ``demo``,
``serve``). Screenshots land in ``tests/artifacts/`` (git-ignored) for a
person to look at. Without ``/usr/bin/chromium`` the tests skip, except in CI
(``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI") == "true"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
USERNAME = "grid_worker"
PASSWORD = "jiceng-demo-2026"  # jiceng.core.demo.DEMO_PASSWORD, typed as a user reads it from `jiceng demo`
DISPLAY_NAME = "网格员王芳"
START_TIMEOUT = 30.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not IN_CI,
        reason=f"{CHROMIUM} is missing: `apt-get install chromium fonts-wqy-microhei` (required when CI=true)",
    ),
]


# -- the server, started as a user would -------------------------------------------------------------------------


def jiceng_command() -> str:
    """The ``jiceng`` script next to this interpreter (``.venv/bin/jiceng``), else the one on PATH."""
    script = Path(sys.executable).with_name("jiceng")
    found = str(script) if script.exists() else shutil.which("jiceng")
    if not found:
        pytest.fail("the `jiceng` command is not installed; run `make install` first")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``jiceng config init && jiceng db upgrade && jiceng demo && jiceng serve --port N``; yields the base URL."""
    home = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JICENG_")}  # env vars win over the file
    env |= {"JICENG_CONFIG": str(home / "jiceng.toml"), "PYTHONUNBUFFERED": "1"}
    jiceng = jiceng_command()
    for step in (["config", "init"], ["db", "upgrade"], ["demo"]):
        done = subprocess.run([jiceng, *step], cwd=home, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"jiceng {' '.join(step)} failed:\n{done.stdout}\n{done.stderr}"
    assert (home / "jiceng.db").exists(), "the SQLite file should be created in the working folder"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [jiceng, "serve", "--port", str(port)], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not health_ok(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`jiceng serve` did not come up on {url}:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- the browser ---------------------------------------------------------------------------------------------------


@dataclass
class Chromium:
    """Launched on first use, inside the test, so that a missing browser in CI fails the test itself."""

    playwright: Playwright | None = None
    browser: Browser | None = None
    pages: list[Page] = field(default_factory=list)

    def page(self, base_url: str, viewport: dict[str, int], *, phone: bool = False) -> Page:
        if self.browser is None:
            if not CHROMIUM.exists():
                pytest.fail(f"{CHROMIUM} is missing and CI=true: the browser tests must run in CI")
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = self.browser.new_context(
            base_url=base_url,
            viewport=viewport,  # type: ignore[arg-type]
            locale="zh-CN",  # Accept-Language: what a browser in China sends
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        self.pages.append(page)
        return page

    def close(self) -> None:
        for page in self.pages:
            page.context.close()
        if self.browser is not None:
            self.browser.close()
        if self.playwright is not None:
            self.playwright.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    try:
        yield browser
    finally:
        browser.close()


def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits(page: Page) -> None:
    """Nothing sticks out sideways: the page never scrolls horizontally."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the viewport"


def assert_tappable(page: Page, *selectors: str) -> None:
    """Tap targets of at least 44 CSS pixels high, as phone guidelines ask."""
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["height"] >= 44, f"{selector} is too small to tap: {box}"


def log_in(page: Page, username: str, password: str, *, english: bool = False) -> None:
    page.get_by_label("Username" if english else "用户名", exact=True).fill(username)
    page.get_by_label("Password" if english else "密码", exact=True).fill(password)
    page.get_by_role("button", name="Log in" if english else "登录", exact=True).click()


def path_of(page: Page) -> str:
    return urllib.parse.urlsplit(page.url).path


# -- the scenarios -------------------------------------------------------------------------------------------------


def test_phone_user_logs_in_and_sees_home(server: str, chromium: Chromium) -> None:
    page = chromium.page(server, PHONE, phone=True)
    page.goto("/")
    expect(page).to_have_url(f"{server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    assert_fits(page)
    assert_tappable(page, "#username", "#password", "button[type=submit]", ".topnav a")
    shoot(page, "phone-login.png")

    log_in(page, USERNAME, PASSWORD)
    expect(page).to_have_url(f"{server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{DISPLAY_NAME}")
    expect(page.get_by_role("link", name="矛盾纠纷与安全隐患", exact=True)).to_be_visible()  # switched on by the demo
    expect(page.locator(".roles")).to_contain_text("网格员")
    expect(page.locator(".roles")).to_contain_text("第1网格")  # the grant's area, by name
    assert_fits(page)
    assert_tappable(page, ".topnav a", ".topnav button")
    shoot(page, "phone-home.png")

    page.get_by_role("button", name="退出", exact=True).click()
    expect(page).to_have_url(f"{server}/login")
    page.goto("/")
    expect(page).to_have_url(f"{server}/login")  # the session is really gone


def test_wrong_password_stays_on_login_page(server: str, chromium: Chromium) -> None:
    page = chromium.page(server, DESKTOP)
    page.goto("/login")
    log_in(page, USERNAME, "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    assert path_of(page) == "/login"
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.get_by_label("用户名", exact=True)).to_have_value(USERNAME)
    expect(page.get_by_label("密码", exact=True)).to_have_value("")
    assert_fits(page)
    shoot(page, "desktop-login-error.png")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_switching_to_english_and_back(server: str, chromium: Chromium, width: str) -> None:
    page = chromium.page(server, PHONE if width == "phone" else DESKTOP, phone=width == "phone")
    page.goto("/login?next=/")
    page.get_by_role("link", name="English", exact=True).click()
    expect(page).to_have_url(f"{server}/login?next=/")  # the switch keeps the query string
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert_fits(page)
    shoot(page, f"{width}-login-en.png")

    log_in(page, USERNAME, PASSWORD, english=True)
    expect(page).to_have_url(f"{server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {DISPLAY_NAME}")
    expect(page.get_by_role("link", name="Disputes and hazards", exact=True)).to_be_visible()
    expect(page.locator(".roles")).to_contain_text("Grid worker")
    assert_fits(page)
    shoot(page, f"{width}-home-en.png")

    page.get_by_role("link", name="中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{DISPLAY_NAME}")
    expect(page.get_by_role("link", name="矛盾纠纷与安全隐患", exact=True)).to_be_visible()
    shoot(page, f"{width}-home-zh.png")
