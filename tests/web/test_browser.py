"""The web demo end to end, in a real browser: headless Chromium driven by Playwright.

Debian's Chromium at /usr/bin/chromium is used as it is (``playwright install`` is never run); the
test is skipped only when it is absent. The server and its two worker processes run on loopback.
A screenshot is saved to test-artifacts/web-app.png.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from ._server import WebServer, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT = 2.0  # seconds without progress before the server re-dispatches a job

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
)

RUNNING_WITH_PROGRESS = """id => {
    const card = document.querySelector(`.job[data-job-id="${id}"]`);
    const pct = Number(card.querySelector(".bar").getAttribute("aria-valuenow"));
    return card.dataset.state === "running" && pct >= 10 && pct < 100;
}"""


def submit(page: Page, form: str) -> tuple[dict, float]:
    """Submit a form of the page; the POST's JSON answer and how long it took."""
    start = time.monotonic()
    with page.expect_response(
        lambda r: r.url.endswith("/jobs") and r.request.method == "POST"
    ) as info:
        page.click(f"{form} button[type=submit]")
    response = info.value
    assert response.status == 202, response.text()
    return response.json(), time.monotonic() - start


@pytest.mark.timeout(90)
def test_jobs_run_off_the_request_with_live_progress_and_survive_a_killed_worker(
    tmp_path: Path,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with WebServer(tmp_path, 2, TIMEOUT) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            page.goto(server.url)
            expect(page.locator("#conn")).to_have_text("live")
            expect(page.locator("#stat-workers")).to_have_text("2")

            # 1. A heavy job: the POST is answered (202) while the work has not finished...
            page.fill("#form-matrix input[name=n]", "300")
            page.fill("#form-matrix input[name=seed]", "1")
            first, seconds = submit(page, "#form-matrix")
            assert first["state"] == "queued" and first["cached"] is None
            card = page.locator(f'.job[data-job-id="{first["id"]}"]')
            expect(card).to_be_visible()
            assert card.get_attribute("data-state") in ("queued", "running")
            expect(card.locator(".bar")).to_be_visible()
            assert card.locator(".result").inner_text() == ""
            expect(card.locator(".accepted")).to_contain_text("accepted (202) in")
            # ...then progress shows up live, and the result when it is done.
            page.wait_for_function(RUNNING_WITH_PROGRESS, arg=first["id"])
            expect(card).to_have_attribute("data-state", "done", timeout=40_000)
            done = server.job(first["id"])
            assert done["run_time"] > seconds  # the work took longer than the POST's answer
            trace = f"{done['result']['trace']:,}"
            expect(card.locator(".result")).to_contain_text(f"trace {trace}")
            expect(card.locator(".bar")).to_have_attribute("aria-valuenow", "100")

            # 2. Kill the worker running a job (SIGKILL, mid-job): the job is re-dispatched after
            #    the timeout, completes on another worker, and the page says so.
            page.fill("#form-matrix input[name=seed]", "2")
            second, _ = submit(page, "#form-matrix")
            card = page.locator(f'.job[data-job-id="{second["id"]}"]')
            page.wait_for_function(RUNNING_WITH_PROGRESS, arg=second["id"])
            victim = server.job(second["id"])["worker"]
            pid = server.worker_pid(victim)
            assert pid in server.stats()["local_processes"].values()  # one of the server's own
            os.kill(pid, signal.SIGKILL)
            expect(card.locator(".redispatched")).to_contain_text("re-dispatched", timeout=20_000)
            expect(card.locator(".meta")).to_contain_text(f"no progress for {TIMEOUT:g} s")
            expect(card).to_have_attribute("data-state", "done", timeout=40_000)
            job = server.job(second["id"])
            assert job["redispatched"] == 1 and job["attempt"] == 2 and job["worker"] != victim
            expect(card.locator(".result")).to_contain_text("trace")
            expect(page.locator("#stat-redispatched")).to_have_text("1")
            expect(page.locator("#stat-done")).to_have_text("2")
            # The server replaced the dead worker.
            wait_for(lambda: server.stats()["restarts"] == 1, 10, "the killed worker's replacement")
            expect(page.locator("#stat-workers")).to_have_text("2")

            # 3. The same input again: the cached result is on the card at once. And a words job
            #    from the form, while the matrix runs: the screenshot shows both.
            page.fill("#form-matrix input[name=seed]", "1")
            third, _ = submit(page, "#form-matrix")
            assert third["cached"]["trace"] == done["result"]["trace"]
            card = page.locator(f'.job[data-job-id="{third["id"]}"]')
            expect(card.locator(".cached")).to_contain_text(f"(cached): trace {trace}")
            words, _ = submit(page, "#form-words")
            words_card = page.locator(f'.job[data-job-id="{words["id"]}"]')
            expect(words_card.locator(".result")).to_contain_text("Most frequent: it (4), of (4)")
            page.wait_for_function(RUNNING_WITH_PROGRESS, arg=third["id"])
            page.screenshot(path=str(ARTIFACTS / "web-app.png"), full_page=True)

            # Bad input from the page: the error is shown, nothing is queued.
            page.fill("#form-primes input[name=below]", "999999999")
            with page.expect_response(lambda r: r.url.endswith("/jobs")) as info:
                page.click("#form-primes button[type=submit]")
            assert info.value.status == 413
            expect(page.locator("#error")).to_contain_text("413: job too large")
            assert server.stats()["submitted"] == 4
        finally:
            browser.close()
    assert (ARTIFACTS / "web-app.png").stat().st_size > 10_000


@pytest.mark.timeout(90)
def test_the_page_has_a_zeromq_sub_socket_of_its_own(tmp_path: Path) -> None:
    """zws.js: the page subscribes to the server's PUB on ws:// (ZWS 2.0) straight from the
    browser; the dashboard's numbers arrive as ZeroMQ messages, and follow a finished job."""
    with WebServer(tmp_path, 1, TIMEOUT) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(server.url)
            page.wait_for_function(
                "() => Number(document.getElementById('zmq-feed').dataset.messages || 0) >= 2"
            )
            expect(page.locator("#zmq-feed-done")).to_have_text("0")
            page.fill("#form-primes input[name=below]", "5000")
            submit(page, "#form-primes")
            expect(page.locator("#stat-done")).to_have_text("1")
            expect(page.locator("#zmq-feed-done")).to_have_text("1")
        finally:
            browser.close()
