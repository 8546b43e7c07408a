"""End-to-end fixtures: the real app on a loopback port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_FUNCTION = re.compile(r"\s*(async\s+)?(function\b|\([^)]*\)\s*=>|\w+\s*=>)")


def _call_expressions_as_functions(page_class) -> None:
    """Playwright polls a bare wait_for_function expression with eval() inside the page, which the app's
    Content-Security-Policy refuses (no 'unsafe-eval'); a function is called without eval, so wrap expressions."""
    original = page_class.wait_for_function
    if getattr(original, "wraps_expressions", False):
        return

    def wait_for_function(self, expression: str, **options):
        if not _FUNCTION.match(expression):
            expression = f"() => ({expression})"
        return original(self, expression, **options)

    wait_for_function.wraps_expressions = True
    page_class.wait_for_function = wait_for_function


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    from playwright.sync_api import Page, sync_playwright

    _call_expressions_as_functions(Page)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class ConsoleErrors(list):
    def attach(self, page) -> None:
        page.on("console", lambda msg: self.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: self.append(str(error)))


def _watched_page(browser, **context_options):
    """A page in a fresh browser context whose console errors are collected in `page.console_errors`."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.console_errors = ConsoleErrors()
    page.console_errors.attach(page)
    return context, page


@pytest.fixture
def page(browser):
    context, page = _watched_page(browser, viewport={"width": 1280, "height": 860})
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context, page = _watched_page(browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    yield page
    context.close()
