"""Debian's WebKitGTK: MiniBrowser driven by WebKitWebDriver over W3C WebDriver
(Selenium), in a virtual X display, every request through the proxy.

Each visitor is a WebDriver session of its own: a fresh MiniBrowser, whose automation
session keeps its cookies and storage in memory only, so no visitor inherits another's.
WebKit sends no Global Privacy Control (Safari has no such setting).
"""

from __future__ import annotations

import glob
import os
import select
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cookie_audit.engines import WAIT_SECONDS, EngineMissing, JarCookie
from cookie_audit.engines.processes import Started
from cookie_audit.sandbox import ObservingProxy, SeenRequest, SiteServer

MINIBROWSER_GLOB = "/usr/lib/*/webkit2gtk-4.*/MiniBrowser"
# The page's value, or what it threw, handed back to WebDriver's asynchronous script.
ASYNC_VALUE = """const done = arguments[arguments.length - 1];
Promise.resolve().then(() => (%s)).then(
  (value) => done({value}), (error) => done({error: String(error)}));"""


def find_programs() -> tuple[str, str, str]:
    """WebKitWebDriver, MiniBrowser and Xvfb; WEBKIT_MINIBROWSER overrides the browser."""
    driver = shutil.which("WebKitWebDriver")
    browser = os.environ.get("WEBKIT_MINIBROWSER") or next(
        iter(sorted(glob.glob(MINIBROWSER_GLOB))), None
    )
    xvfb = shutil.which("Xvfb")
    if not (driver and browser and os.path.exists(browser)):
        raise EngineMissing("no WebKitGTK: install Debian's 'webkit2gtk-driver'")
    if not xvfb:
        raise EngineMissing("no Xvfb for WebKitGTK's window: install Debian's 'xvfb'")
    return driver, browser, xvfb


class VirtualDisplay:
    """An X server of our own on a free display number; MiniBrowser needs a window."""

    def __init__(self, xvfb: str) -> None:
        read, write = os.pipe()
        try:
            command = [xvfb, "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0"]
            self.process = Started([*command, "1280x1024x24"], pass_fds=(write,))
        finally:
            os.close(write)
        with os.fdopen(read) as said:
            # Written once the server accepts clients; nothing by then is a failed start.
            ready, _, _ = select.select([said], [], [], WAIT_SECONDS)
            number = said.readline().strip() if ready else ""
        if not number:
            self.process.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def close(self) -> None:
        self.process.stop()


class WebKitVisitor:
    """A visitor in a MiniBrowser of its own."""

    sends_gpc = False

    def __init__(self, driver: Any, name: str, proxy: ObservingProxy) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.driver = driver
        self.name = name
        self.server = proxy.site
        self.proxy = proxy
        self._by, self._keys, self._chain = By, Keys, ActionChains
        driver.set_script_timeout(WAIT_SECONDS)
        driver.set_page_load_timeout(WAIT_SECONDS)

    def goto(self, path: str) -> None:
        self.driver.get(self.server.url(path))  # returns once the page has loaded

    def click(self, selector: str) -> None:
        found = self.driver.find_elements(self._by.CSS_SELECTOR, selector)
        shown = next((element for element in found if element.is_displayed()), None)
        if shown is None:
            raise AssertionError(f"{self.name}: nothing visible matches {selector!r}")
        shown.click()

    def press(self, key: str) -> None:
        code = {"Tab": self._keys.TAB, "Enter": self._keys.ENTER, "Escape": self._keys.ESCAPE}
        self._chain(self.driver).send_keys(code.get(key, " ")).perform()

    def evaluate(self, expression: str) -> Any:
        answer = self.driver.execute_async_script(ASYNC_VALUE % expression)
        if "error" in answer:
            raise AssertionError(f"{self.name}: {answer['error']}")
        return answer.get("value")

    def jar(self) -> list[JarCookie]:
        # WebDriver gives the cookies that the current page's address would be sent.
        return [
            JarCookie(
                name=c["name"],
                domain=c["domain"],
                path=c["path"],
                expires=c.get("expiry"),
                secure=c["secure"],
                same_site=c.get("sameSite", "None"),
            )
            for c in self.driver.get_cookies()
        ]

    def requests(self) -> list[SeenRequest]:
        return self.proxy.requests()


class WebKit:
    """WebKitGTK for one site: an X display shared by its visitors, each of whom has a
    MiniBrowser and a proxy of their own."""

    def __init__(self, server: SiteServer) -> None:
        self.driver_path, self.browser_path, xvfb = find_programs()
        self.server = server
        self.display = VirtualDisplay(xvfb)
        self.name = "WebKitGTK"
        try:
            with self.visitor() as first:
                version = first.driver.capabilities.get("browserVersion", "")
            self.name = f"WebKitGTK {version}" if version else self.name
        except Exception:
            self.close()
            raise

    def _session(self, proxy: ObservingProxy) -> Any:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        options = Options()
        options.binary_location = self.browser_path
        for argument in ("--automation", f"--proxy={proxy.url}", "--ignore-tls-errors"):
            options.add_argument(argument)
        options.accept_insecure_certs = True
        environment = {**os.environ, "DISPLAY": self.display.display}
        # Given its driver, Selenium needs no download; SE_OFFLINE makes sure of it.
        os.environ.setdefault("SE_OFFLINE", "true")
        service = Service(executable_path=self.driver_path, env=environment)
        return webdriver.WebKitGTK(options=options, service=service)

    @contextmanager
    def visitor(self, gpc: bool = False) -> Iterator[WebKitVisitor]:
        if gpc:
            raise ValueError("WebKit sends no Global Privacy Control")
        with ObservingProxy(self.server) as proxy:
            driver = self._session(proxy)
            try:
                yield WebKitVisitor(driver, self.name, proxy)
            finally:
                driver.quit()

    def close(self) -> None:
        self.display.close()


def launch(server: SiteServer) -> WebKit:
    return WebKit(server)
