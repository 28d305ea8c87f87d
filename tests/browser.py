"""Page tests in a real headless browser: Debian's Chromium driven by its own chromedriver.

Use it from a test module::

    from browser import Browser, browser_fixture, browser_output_fixture  # noqa: F401

    def test_page(browser: Browser, live_server: Server, browser_output: Path) -> None:
        browser.load(f"{live_server.url}/", wait_for_js="document.fonts.status === 'loaded'")
        assert browser.console_errors() == []
        assert browser.foreign_hosts(live_server.url) == set()
        assert browser.js_alerts_fired() == []
        browser.screenshot(browser_output / "index.png")

`browser` is one Chromium for the whole session. What it records (console messages, requested
URLs, alert calls) always refers to the page opened by the latest `load()`.

Nothing is downloaded: Selenium gets the driver's path in `Service(...)`, which keeps Selenium
Manager out of the way, and the browser's path in `binary_location`. The paths default to
Debian's packages (`apt-get install chromium chromium-driver`) and can be changed with
`BROWSER_TEST_CHROMIUM` and `BROWSER_TEST_CHROMEDRIVER`. Without them the browser tests are
skipped, unless `BROWSER_TEST_REQUIRED=1` (set by `.ci/run`) turns that into a failure.
Screenshots go to `test-output/` at the top of the repository or to `$DSM_TEST_OUTPUT`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    TimeoutException,
    UnexpectedAlertPresentException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webelement import WebElement

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BROWSER_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--window-size=1280,900",
)

# URLs that never leave the browser; they are not requests to a host.
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome-extension"})

# Runs before any script of every new document (frames included): dialogs are recorded in
# `window.__alerts` instead of being shown, so a test can tell that injected script ran.
# `alert(x)` records `String(x)`, `confirm(x)` and `prompt(x)` record "confirm: x", "prompt: x".
ALERT_HOOK = """
(() => {
  const calls = [];
  const hook = (kind, result) => function (message) {
    const text = message === undefined ? '' : String(message);
    calls.push(kind === 'alert' ? text : kind + ': ' + text);
    return result;
  };
  const fixed = (value) => ({value, writable: false, configurable: false});
  Object.defineProperty(window, '__alerts', fixed(calls));
  Object.defineProperty(window, 'alert', fixed(hook('alert', undefined)));
  Object.defineProperty(window, 'confirm', fixed(hook('confirm', false)));
  Object.defineProperty(window, 'prompt', fixed(hook('prompt', null)));
})();
"""

# The recorded calls of the page and of all its frames that script can reach (same origin).
COLLECT_ALERTS = """
const out = [];
const walk = (w) => {
  try { for (const m of (w.__alerts || [])) out.push(String(m)); } catch (e) { return; }
  for (let i = 0; i < w.frames.length; i++) walk(w.frames[i]);
};
walk(window);
return out;
"""

log = logging.getLogger(__name__)


class BrowserMissing(RuntimeError):
    """Chromium or chromedriver is not installed where the harness looks for it."""


def output_dir() -> Path:
    """The folder for screenshots and other test artefacts, created on demand."""
    path = Path(os.environ.get("DSM_TEST_OUTPUT") or REPO / "test-output")
    path.mkdir(parents=True, exist_ok=True)
    return path


def missing_binaries() -> list[str]:
    return [
        path for path in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(path) and os.access(path, os.X_OK))
    ]


class Browser:
    """One headless Chromium with a fresh profile; start with `Browser.start()`, end with `close()`."""

    def __init__(self, driver: webdriver.Chrome, profile: Path, start_seconds: float) -> None:
        self.driver = driver
        self.alert_hook: str | None = None
        self.profile = profile
        self.start_seconds = start_seconds
        self.load_seconds: dict[str, float] = {}
        self._console: list[dict[str, Any]] = []
        self._performance: list[dict[str, Any]] = []
        self._dialogs: list[str] = []

    # -- life cycle --------------------------------------------------------------------------

    @classmethod
    def start(cls, attempts: int = 2) -> Browser:
        """Start Chromium; a failed start (it happens on loaded machines) is tried again once."""
        missing = missing_binaries()
        if missing:
            raise BrowserMissing(
                f"not found or not executable: {', '.join(missing)} "
                "(Debian: apt-get install chromium chromium-driver)"
            )
        error: Exception | None = None
        for attempt in range(1, attempts + 1):
            began = time.monotonic()
            profile = Path(tempfile.mkdtemp(prefix="mapservice-chromium-"))
            try:
                driver = _new_driver(profile)
            except WebDriverException as exc:
                error = exc
                driver_log = profile / "chromedriver.log"
                tail = driver_log.read_text(errors="replace")[-2000:] if driver_log.exists() else ""
                log.warning("Chromium start %d/%d failed: %s\n%s", attempt, attempts, exc.msg, tail)
                shutil.rmtree(profile, ignore_errors=True)
                continue
            instance = cls(driver, profile, 0.0)
            try:
                instance.install_alert_hook()
            except BaseException:
                instance.close()
                raise
            instance.start_seconds = seconds = time.monotonic() - began
            log.info("Chromium %s started in %.2f s", driver.capabilities.get("browserVersion"), seconds)
            return instance
        raise RuntimeError(f"Chromium did not start after {attempts} attempts") from error

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- navigation --------------------------------------------------------------------------

    def load(self, url: str, wait_for_js: str | None = None, timeout: float = 20) -> float:
        """Open `url`, wait for the load event and, if given, until the JS expression
        `wait_for_js` is truthy (e.g. "window.mapReady === true"). Returns the seconds taken.

        Everything recorded so far is dropped, so the checks below see this page only.
        """
        if self.dialog_open():  # left over from the previous page
            self.driver.switch_to.alert.dismiss()
        self._drain()
        self._console.clear()
        self._performance.clear()
        self._dialogs.clear()
        deadline = time.monotonic() + timeout
        began = time.monotonic()
        self.driver.set_page_load_timeout(timeout)
        try:
            self.driver.get(url)
        except UnexpectedAlertPresentException as exc:
            # A real dialog is open (the alert hook missed it); remember it and stop here.
            self._dialogs.append(exc.alert_text or "")
            return time.monotonic() - began
        except TimeoutException as exc:
            raise TimeoutError(f"{url} did not finish loading within {timeout} s") from exc
        if wait_for_js:
            self._wait_for_js(url, wait_for_js, deadline, timeout)
        seconds = time.monotonic() - began
        self.load_seconds[url] = seconds
        log.info("loaded %s in %.2f s", url, seconds)
        return seconds

    def _wait_for_js(self, url: str, expression: str, deadline: float, timeout: float) -> None:
        script = f"return !!({expression});"
        last_error = ""
        while True:
            try:
                if self.driver.execute_script(script):
                    return
                last_error = ""
            except UnexpectedAlertPresentException:
                raise
            except WebDriverException as exc:  # e.g. a ReferenceError until the page defines it
                last_error = exc.msg or str(exc)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{url}: `{expression}` not true within {timeout} s"
                    + (f" (last error: {last_error})" if last_error else "")
                    + f"; console errors: {self.console_errors()}"
                )
            time.sleep(0.05)

    def settle(self, quiet: float = 0.3, timeout: float = 5) -> None:
        """Wait until no network events have arrived for `quiet` seconds (late requests such as
        images, fetch() after load, the favicon)."""
        deadline = time.monotonic() + timeout
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            if self._drain():
                last_change = time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return
            time.sleep(0.05)

    def install_alert_hook(self) -> None:
        """Record alert()/confirm()/prompt() in every document opened from now on (done by
        `start()`)."""
        if self.alert_hook is None:
            result = self.driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": ALERT_HOOK, "runImmediately": True}
            )
            self.alert_hook = str(result["identifier"])

    def remove_alert_hook(self) -> None:
        """Let dialogs through again (for documents opened from now on); see dialog_open()."""
        if self.alert_hook is not None:
            self.driver.execute_cdp_cmd(
                "Page.removeScriptToEvaluateOnNewDocument", {"identifier": self.alert_hook}
            )
            self.alert_hook = None

    # -- what the page did -------------------------------------------------------------------

    def _drain(self) -> int:
        """Move the driver's buffered logs (each read empties them) into this object."""
        console = self._read_log("browser")
        performance = self._read_log("performance")
        self._console += console
        for entry in performance:
            self._performance.append(json.loads(entry["message"])["message"])
        return len(console) + len(performance)

    def _read_log(self, log_type: str) -> list[dict[str, Any]]:
        # driver.get_log(log_type), which is untyped.
        return list(self.driver.execute(Command.GET_LOG, {"type": log_type})["value"])

    def console_entries(self) -> list[dict[str, Any]]:
        """All console entries of the current page: dicts with level, message, source."""
        self._drain()
        return list(self._console)

    def console_errors(self) -> list[str]:
        """Message texts of the console entries with level SEVERE: uncaught exceptions,
        console.error(), failed resource loads (4xx/5xx), CSP violations. Nothing is filtered."""
        return [str(e["message"]) for e in self.console_entries() if e.get("level") == "SEVERE"]

    def network_events(self, method: str) -> list[dict[str, Any]]:
        """The params of every DevTools event `method` (e.g. "Network.responseReceived")."""
        self._drain()
        return [m.get("params", {}) for m in self._performance if m.get("method") == method]

    def requested_urls(self) -> list[str]:
        """Every URL the page requested (documents, frames, scripts, styles, images, fonts,
        fetch/XHR, beacons, redirects, WebSockets), in order, repeats included."""
        self._drain()
        urls: list[str] = []
        for message in self._performance:
            method, params = message.get("method"), message.get("params", {})
            if method == "Network.requestWillBeSent":
                request = params.get("request", {})
                urls.append(str(request.get("url", "")) + str(request.get("urlFragment", "")))
            elif method == "Network.webSocketCreated":
                urls.append(str(params.get("url", "")))
        return urls

    def foreign_hosts(self, allowed_host: str) -> set[str]:
        """Hosts (host:port as in the URL) other than `allowed_host` that the page requested.

        `allowed_host` is "127.0.0.1:8000" or a URL on that host; data:, blob:, about: and
        chrome-extension: URLs are ignored. Other URLs without a host are returned whole.
        """
        allowed = urlsplit(allowed_host).netloc if "//" in allowed_host else allowed_host
        foreign: set[str] = set()
        for url in self.requested_urls():
            parts = urlsplit(url)
            if parts.scheme.lower() in LOCAL_SCHEMES:
                continue
            host = parts.netloc or url
            if host.lower() != allowed.lower():
                foreign.add(host)
        return foreign

    def js_alerts_fired(self) -> list[str]:
        """Messages of alert()/confirm()/prompt() calls on the current page and its same-origin
        frames (see ALERT_HOOK). A real dialog that got past the hook is included (and dismissed)."""
        fired = list(self._dialogs)
        try:
            alert = self.driver.switch_to.alert
            fired.append(alert.text)
            alert.dismiss()
        except NoAlertPresentException:
            pass
        try:
            recorded = self.driver.execute_script(COLLECT_ALERTS)
        except WebDriverException:
            recorded = []
        return fired + [str(r) for r in recorded]

    def dialog_open(self) -> bool:
        """Whether a native JavaScript dialog (alert, confirm, prompt, beforeunload) is open."""
        try:
            self.driver.switch_to.alert  # noqa: B018 - the lookup is the check
        except NoAlertPresentException:
            return False
        return True

    # -- looking at the page -----------------------------------------------------------------

    def screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the viewport to `path` (folders are created); returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not self.driver.save_screenshot(str(target)):
            raise RuntimeError(f"screenshot {target} failed")
        return target

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def js(self, script: str, *args: Any) -> Any:
        """Run `script` (a function body: use `return`) in the page."""
        return self.driver.execute_script(script, *args)

    def focused(self) -> WebElement:
        return self.driver.switch_to.active_element

    def press_tab(self, times: int = 1, shift: bool = False) -> WebElement:
        """Press TAB (or SHIFT+TAB) `times` times; returns the focused element."""
        key = Keys.SHIFT + Keys.TAB if shift else Keys.TAB
        actions = webdriver.ActionChains(self.driver)
        for _ in range(times):
            actions.send_keys(key)
        actions.perform()
        return self.focused()

    def reset_focus(self) -> None:
        """Put the keyboard focus back to the start of the document, as after a fresh load."""
        self.js(
            "if (document.activeElement) document.activeElement.blur();"
            "window.getSelection().removeAllRanges();"
        )


def _new_driver(profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # Leave dialogs open instead of dismissing them silently, so that dialog_open() sees them.
    options.unhandled_prompt_behavior = "ignore"
    service = Service(CHROMEDRIVER, log_output=str(profile / "chromedriver.log"))
    return webdriver.Chrome(service=service, options=options)


# -- pytest fixtures ---------------------------------------------------------------------------
# A test module gets them by importing the functions (see the module docstring) or with
# `pytest_plugins = ["browser"]`. The fixtures are called `browser` and `browser_output`; the
# functions have other names because a test argument that shadows an import is ruff's F811.


@pytest.fixture(scope="session", name="browser")
def browser_fixture() -> Iterator[Browser]:
    """One headless Chromium for the session; skipped when it is not installed, unless
    BROWSER_TEST_REQUIRED=1."""
    try:
        instance = Browser.start()
    except BrowserMissing as exc:
        if os.environ.get("BROWSER_TEST_REQUIRED") == "1":
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture(scope="session", name="browser_output")
def browser_output_fixture() -> Path:
    """`test-output/` at the top of the repository, or $DSM_TEST_OUTPUT."""
    return output_dir()


def wait_until(condition: Callable[[], Any], timeout: float = 5, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; raises TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)
