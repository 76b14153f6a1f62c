"""Chromium, our app beside the sandboxes, and a clock the tests control.

Chromium is launched by its path (/usr/bin/chromium, or $CHROMIUM_PATH); Playwright never
downloads a browser of its own. Screenshots of every step go to test-artifacts/browser/.

The clock: our app reads a FixedClock the tests set. The payment sandboxes read the wall clock
(``tests/timeline.py``: they check that an order has not expired), so the tests' instant is the
next 23:40 UTC after it: never in the sandboxes' past, and just before midnight UTC, where a
time shown in UTC instead of Beijing time would show the wrong day. The served app gets the
policy tables around that day from ``tests/timeline.py``.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from app.adapters.clock import FixedClock
from tests.conftest import reset_state
from tests.served import served_world
from tests.timeline import wall_now

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=zh-CN"]


def next_2340_utc(after: datetime) -> datetime:
    """The first 23:40 UTC at or after ``after`` (07:40 the next day in Beijing)."""
    at = after.astimezone(timezone.utc).replace(hour=23, minute=40, second=0, microsecond=0)
    return at if at >= after else at + timedelta(days=1)


@pytest.fixture(scope="module")
def browser_clock():
    return FixedClock(next_2340_utc(wall_now()))


@pytest.fixture(scope="module")
def world(settings, database, redis_client, tmp_path_factory, browser_clock):
    with served_world(settings, tmp_path_factory.mktemp("sandbox-keys"), clock=browser_clock,
                      TREASURY_DELAY_WORKING_DAYS=0) as world:
        yield world


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(world, browser, redis_client, request, browser_clock):
    browser_clock.set(next_2340_utc(wall_now()))
    reset_state(world["app"], redis_client)
    assert world["app"].test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.shots = ARTIFACTS / request.node.name
    page.shots.mkdir(parents=True, exist_ok=True)
    page.step = 0
    page.clock_now = browser_clock.now()
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    page.step += 1
    page.screenshot(path=str(page.shots / f"{page.step:02d}-{name}.png"), full_page=True)
