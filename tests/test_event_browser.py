"""The event loop in a real browser at phone width: a grid worker reports a safety hazard with a photo, and the
command centre accepts and dispatches it from its dashboard.

The server is the demo of ``tests/test_browser.py`` (``config init``, ``db upgrade``, ``demo``, ``serve``), whose
town has departments, the safety scenario and events in every state. Screenshots land in ``/tmp/event_*.png`` for
a person to look at.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from playwright.sync_api import Page, expect

from jiceng.core.i18n import translate
from tests.test_browser import (
    PASSWORD,
    PHONE,
    Chromium,
    assert_fits,
    assert_tappable,
    log_in,
    pytestmark,  # noqa: F401 (browser, slow; skipped without Chromium)
)
from tests.test_browser import chromium as phones  # noqa: F401 (a fixture, named by its alias)
from tests.test_browser import server as demo  # noqa: F401 (a fixture, named by its alias)

SHOTS = Path("/tmp")


def zh(msgid: str, **params: object) -> str:
    return translate(msgid, "zh_CN", **params)


def png(width: int = 48, height: int = 32) -> bytes:
    """A small, valid red PNG, standing in for a phone camera's photo."""
    rows = b"".join(b"\x00" + b"\xc8\x10\x2e" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"event_{name}.png"), full_page=True)


def test_grid_worker_reports_with_a_photo_and_the_command_centre_dispatches_it(
    demo: str,  # noqa: F811 (the fixtures imported above)
    phones: Chromium,  # noqa: F811
    tmp_path: Path,
) -> None:
    photo = tmp_path / "hazard.png"
    photo.write_bytes(png())
    title = "人民路12号楼道堆放纸箱"

    worker = phones.page(demo, PHONE, phone=True)
    worker.goto("/login")
    log_in(worker, "grid_worker", PASSWORD)
    worker.locator('a[href="/events/new"]').click()
    expect(worker.get_by_role("heading", level=1)).to_have_text(zh("Report an event"))
    expect(worker.locator("#area")).to_have_value("500103003001001")  # the grid worker's only grid
    worker.locator("#type").select_option("safety.hazard")
    expect(worker.get_by_label("隐患类型")).to_be_visible()  # the chosen type's own field, and no other's
    expect(worker.get_by_label("纠纷类型")).to_be_hidden()
    worker.locator("#title").fill(title)
    worker.locator("#description").fill("三楼楼道堆满纸箱，堵住消防通道。")
    worker.get_by_label("隐患类型").select_option("fire")
    worker.locator("#address").fill("人民路12号3楼")
    worker.locator("#photos").set_input_files(str(photo))
    assert_fits(worker)
    assert_tappable(worker, "#type", "#title", "#area", "button.primary")
    shoot(worker, "report_form")
    worker.locator("button.primary").click()

    expect(worker).to_have_url(re.compile(r"/events/\d+\?done=report$"))
    event_path = worker.url.split("?")[0].removeprefix(demo)
    expect(worker.get_by_role("status")).to_have_text(zh("Reported."))
    expect(worker.locator(".ev-head .ev-state")).to_have_text(zh("Waiting for acceptance"))
    thumbnail = worker.locator(".ev-photos img")
    expect(thumbnail).to_have_count(1)
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 48  # the photo really loads
    assert_fits(worker)
    shoot(worker, "reported")

    centre = phones.page(demo, PHONE, phone=True)
    centre.goto("/login")
    log_in(centre, "dispatcher", PASSWORD)
    centre.locator('a[href="/events/dashboard"]').click()
    expect(centre.locator("#queue-reported .ev-rows a").first).to_be_visible()  # the demo's waiting cases
    assert_fits(centre)
    shoot(centre, "dashboard")
    centre.locator("#queue-reported a", has_text=zh("See all")).click()  # the oldest wait first; ours is newest
    centre.locator(f'a.rec-item[href="{event_path}"]').click()
    expect(centre.get_by_role("heading", level=1)).to_have_text(title)
    centre.locator('form[action$="/steps/accept"] button').click()
    expect(centre.get_by_role("status")).to_have_text(zh("Done: {step}", step=zh("Accept")))

    dispatch = centre.locator("details.ev-step", has=centre.locator('form[action$="/steps/dispatch"]'))
    dispatch.locator("summary").click()
    expect(dispatch.locator('select[name="department"]')).to_have_value("safety")  # the type's department, proposed
    expect(dispatch.locator('select[name="assignee"]')).to_have_value("")  # anyone in it, unless one is chosen
    assert_tappable(centre, "details.ev-step summary", "#dispatch-assignee", 'form[action$="/steps/dispatch"] button')
    shoot(centre, "dispatch_form")
    dispatch.locator("button").click()
    expect(centre.get_by_role("status")).to_have_text(zh("Done: {step}", step=zh("Dispatch")))
    expect(centre.locator(".ev-head .ev-state")).to_have_text(zh("Dispatched"))
    expect(centre.locator(".rec-fields")).to_contain_text("应急办")
    expect(centre.locator(".ev-timeline li")).to_have_count(3)
    assert_fits(centre)
    shoot(centre, "dispatched")
