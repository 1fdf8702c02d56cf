"""Real-browser fixtures: Debian's Chromium through pytest-playwright, a live server of the session
app, and a `tab` that watches everything a page does (docs/architecture.md#testing).

Every browser test asks for `trust` (or another fixture that uses `app`), so the autouse `clean`
fixture in tests/conftest.py empties the tables before it, even though the server lives for the
whole session."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response, expect

from tests.conftest import ARTIFACTS, CHROMIUM, live_server
from tests.e2e.axe import assert_accessible
from tests.e2e.journeys import SCREENS, UNPLACED

# Chromium makes no DNS lookups except for loopback: anything from a CDN fails at once.
HERMETIC = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"

SCREENSHOTS = ARTIFACTS / "screenshots"

LOCAL_HOST = "127.0.0.1"
# Chromium logs a main document that answers 4xx as a console error. Those statuses are meant
# (404 unknown ward, 410 retired ward, 400 form with errors); any other console error is not.
FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Extend the plugin's options (so --headed and --slowmo still work) with Debian's Chromium."""
    args = [*browser_type_launch_args.get("args", []), HERMETIC]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture(scope="session")
def base_url(app):
    """The session app, served on a free loopback port for the whole run."""
    with live_server(app) as url:
        yield url


@pytest.fixture(params=UNPLACED)
def viewport(request) -> str:
    """The name of the screen to test at (tests/e2e/journeys.py): each screen of the journey the
    test names with `@at(...)`."""
    return request.param


@dataclass
class Tab:
    """One browser context and its page, with a record of every request, document response and
    console error, and `check(name)`: axe-core, the emergency banner, no meta refresh and a
    full-page screenshot."""

    context: BrowserContext
    page: Page
    viewport: str
    requests: list[str] = field(default_factory=list)
    documents: list[Response] = field(default_factory=list)
    console_errors: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on("response", self._on_response)
        self.context.on("console", lambda message: message.type == "error" and self.console_errors.append(message))
        self.context.on("weberror", lambda error: self.page_errors.append(str(error.error)))

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            self.documents.append(response)

    # --- checks on the page shown now ---------------------------------------------------------

    def check(self, name: str, *, axe: bool = True, emergency: bool = True) -> None:
        """Assert what every family page must pass, then save its screenshot as
        test-artifacts/screenshots/<name>-<viewport>.png.

        Staff pages have no emergency instruction (staff know the emergency number): pass
        emergency=False for them. axe-core needs the page's timers: pass axe=False with
        JavaScript off, and never call this while the page's fake clock is paused (either way
        axe.run would wait forever)."""
        page = self.page
        self.screenshot(name)
        if emergency:
            expect(page.locator(".tracker-emergency")).to_be_visible()
            expect(page.locator(".tracker-emergency__instruction")).not_to_be_empty()
        assert page.locator('meta[http-equiv="refresh" i]').count() == 0, f"{name}: a meta refresh"
        if axe:
            assert_accessible(page, f"{name} at {self.viewport}")

    def screenshot(self, name: str, *, full_page: bool = True) -> None:
        """Save test-artifacts/screenshots/<name>-<viewport>.png for people to review. A full-page
        capture draws a fixed overlay over one screen's height only: take full_page=False to see
        what is on the screen."""
        path = SCREENSHOTS / f"{name}-{self.viewport}.png"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        self.screenshots.append(str(path))

    def typed_values(self) -> list[str]:
        """The value of every text box, text area and ticked box on the page."""
        return self.page.eval_on_selector_all(
            "input, textarea, select",
            """els => els.filter(el => el.type !== 'hidden')
                        .map(el => (el.type === 'checkbox' || el.type === 'radio') ? (el.checked ? el.value : '') : el.value)
                        .filter(v => v !== '')""",
        )

    # --- checks on everything the tab did ------------------------------------------------------

    def assert_only_local_requests(self) -> None:
        elsewhere = [url for url in self.requests if urlsplit(url).hostname != LOCAL_HOST]
        assert elsewhere == [], f"requests left 127.0.0.1: {elsewhere}"
        assert self.requests, "no requests were recorded"

    def assert_no_console_errors(self) -> None:
        statuses = {(r.url, r.status) for r in self.documents}
        unexpected = []
        for message in self.console_errors:
            failed = FAILED_LOAD.match(message.text)
            if failed and (message.location.get("url"), int(failed.group(1))) in statuses:
                continue
            unexpected.append(f"{message.text} ({message.location.get('url')})")
        assert unexpected == [], f"console errors: {unexpected}"
        assert self.page_errors == [], f"uncaught script errors: {self.page_errors}"

    def assert_pages_not_stored(self) -> None:
        """Pages may carry what a family typed: none may be kept in any cache, and none may
        refresh itself (a Refresh header is a meta refresh by another name)."""
        assert self.documents, "no pages were loaded"
        for response in self.documents:
            if urlsplit(response.url).hostname != LOCAL_HOST:
                continue
            headers = response.headers
            assert headers.get("cache-control") == "no-store", (
                f"{response.url}: Cache-Control {headers.get('cache-control')!r}"
            )
            assert "refresh" not in headers, f"{response.url}: a Refresh header"

    def assert_clean(self) -> None:
        """Call at the end of every browser test."""
        self.assert_only_local_requests()
        self.assert_no_console_errors()
        self.assert_pages_not_stored()


@pytest.fixture
def open_tab(new_context, viewport):
    """Open a watched browser context at the test's viewport, with extra context options (for
    example java_script_enabled=False). The plugin closes it after the test."""

    def _open(**context_args) -> Tab:
        context = new_context(viewport=SCREENS[viewport].size, **context_args)
        return Tab(context=context, page=context.new_page(), viewport=viewport)

    return _open


@pytest.fixture
def tab(open_tab, trust) -> Tab:
    """A watched page at the test's viewport, with the small trust in the database."""
    return open_tab()
