"""Debian's Firefox ESR, driven over WebDriver BiDi, every request through the proxy.

Global Privacy Control is Firefox's own preference, so a visitor who sends it gets a
Firefox of their own with it switched on: the signal, header and property alike, as a
visitor's Firefox sends it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cookie_audit.engines import EngineMissing, JarCookie
from cookie_audit.engines.bidi import BiDi, value
from cookie_audit.engines.processes import Started
from cookie_audit.sandbox import ObservingProxy, SeenRequest, SiteServer

NAMES = ("firefox-esr", "firefox")
KEYS = {"Tab": "\ue004", "Enter": "\ue007", "Escape": "\ue00c", "Space": " "}
# Every request through a proxy, the site's too; nothing bypasses it, not even loopback.
# The remote agent switches off most of Firefox's own background traffic itself.
PROXY_PREFS = {
    "network.proxy.type": 1,
    "network.proxy.no_proxies_on": "",
    "network.proxy.allow_hijacking_localhost": True,
    "network.proxy.share_proxy_settings": True,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    "browser.startup.homepage": "about:blank",
    "browser.newtabpage.enabled": False,
}
GPC_PREF = "privacy.globalprivacycontrol.enabled"


def find_programs() -> str:
    """Firefox's executable: FIREFOX_PATH when set, else Debian's firefox-esr."""
    if override := os.environ.get("FIREFOX_PATH"):
        if not os.path.exists(override):
            raise EngineMissing(f"FIREFOX_PATH={override} does not exist")
        return override
    for name in NAMES:
        if found := shutil.which(name):
            return found
    raise EngineMissing("no Firefox: install Debian's 'firefox-esr' or set FIREFOX_PATH")


class FirefoxProcess:
    """One Firefox with a throwaway profile, and the BiDi session that drives it."""

    def __init__(self, proxy: ObservingProxy, gpc: bool) -> None:
        self.profile = tempfile.mkdtemp(prefix="cookie-audit-firefox-")
        prefs = {
            **PROXY_PREFS,
            "network.proxy.http": "127.0.0.1",
            "network.proxy.http_port": proxy.port,
            "network.proxy.ssl": "127.0.0.1",
            "network.proxy.ssl_port": proxy.port,
            GPC_PREF: gpc,
        }
        with open(os.path.join(self.profile, "user.js"), "w") as user_js:
            for name, setting in prefs.items():
                user_js.write(f"user_pref({json.dumps(name)}, {json.dumps(setting)});\n")
        command = [find_programs(), "--headless", "--no-remote", "--profile", self.profile]
        self.process = Started([*command, "--remote-debugging-port=0"])
        try:
            found = self.process.wait_for_line(r"WebDriver BiDi listening on (ws://\S+)")
            self.bidi = BiDi(found[1] + "/session")
            session = self.bidi.send(
                "session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}}
            )
        except Exception:
            self.close()
            raise
        capabilities = session["capabilities"]
        self.version = capabilities["browserVersion"]

    def close(self) -> None:
        if bidi := getattr(self, "bidi", None):
            # It may be gone already; the process is stopped below either way.
            with contextlib.suppress(Exception):
                bidi.send("browser.close")
            bidi.close()
        self.process.stop()
        shutil.rmtree(self.profile, ignore_errors=True)


class FirefoxVisitor:
    """A visitor in a user context of its own: its own cookies, storage and tab."""

    def __init__(self, firefox: FirefoxProcess, server: SiteServer, gpc: bool) -> None:
        self.bidi = firefox.bidi
        self.name = f"Firefox {firefox.version}"
        self.server = server
        self.proxy = ObservingProxy(server)
        self.sends_gpc = gpc
        address = f"127.0.0.1:{self.proxy.port}"
        proxy = {"proxyType": "manual", "httpProxy": address, "sslProxy": address}
        try:
            found = self.bidi.send("browser.createUserContext", {"proxy": proxy})
            self.user_context = found["userContext"]
            created = self.bidi.send(
                "browsingContext.create", {"type": "tab", "userContext": self.user_context}
            )
        except Exception:
            self.proxy.close()
            raise
        self.context = created["context"]

    def goto(self, path: str) -> None:
        params = {"context": self.context, "url": self.server.url(path), "wait": "complete"}
        self.bidi.send("browsingContext.navigate", params)

    def click(self, selector: str) -> None:
        element = self._call(
            "(selector) => { const el = [...document.querySelectorAll(selector)]"
            ".find((e) => e.checkVisibility({visibilityProperty: true}));"
            " el?.scrollIntoView({block: 'center'}); return el; }",
            selector,
        )
        if element.get("type") != "node":
            raise AssertionError(f"{self.name}: nothing visible matches {selector!r}")
        origin = {"type": "element", "element": {"sharedId": element["sharedId"]}}
        self._act(
            "pointer",
            [
                {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerUp", "button": 0},
            ],
            parameters={"pointerType": "mouse"},
        )

    def press(self, key: str) -> None:
        code = KEYS[key]
        self._act("key", [{"type": "keyDown", "value": code}, {"type": "keyUp", "value": code}])

    def evaluate(self, expression: str) -> Any:
        result = self.bidi.send(
            "script.evaluate",
            {
                "expression": expression,
                "target": {"context": self.context},
                "awaitPromise": True,
                "serializationOptions": {"maxObjectDepth": 4},
            },
        )
        if result["type"] == "exception":
            raise AssertionError(f"{self.name}: {result['exceptionDetails']['text']}")
        return value(result["result"])

    def jar(self) -> list[JarCookie]:
        partition = {"type": "storageKey", "userContext": self.user_context}
        found = self.bidi.send("storage.getCookies", {"partition": partition})["cookies"]
        return [
            JarCookie(
                name=c["name"],
                domain=c["domain"],
                path=c["path"],
                expires=c.get("expiry"),
                secure=c["secure"],
                same_site=c["sameSite"].capitalize(),
            )
            for c in found
        ]

    def requests(self) -> list[SeenRequest]:
        return self.proxy.requests()

    def close(self) -> None:
        try:
            self.bidi.send("browser.removeUserContext", {"userContext": self.user_context})
        finally:
            self.proxy.close()

    def _call(self, function: str, *arguments: str) -> dict[str, Any]:
        result = self.bidi.send(
            "script.callFunction",
            {
                "functionDeclaration": function,
                "arguments": [{"type": "string", "value": a} for a in arguments],
                "target": {"context": self.context},
                "awaitPromise": False,
            },
        )
        if result["type"] == "exception":
            raise AssertionError(f"{self.name}: {result['exceptionDetails']['text']}")
        return result["result"]

    def _act(self, source: str, actions: list[dict], parameters: dict | None = None) -> None:
        chain = {"type": source, "id": source, "actions": actions}
        if parameters:
            chain["parameters"] = parameters
        self.bidi.send("input.performActions", {"context": self.context, "actions": [chain]})


class Firefox:
    """Firefox for one site: one browser, and one more for visitors who send GPC.

    Each visitor's user context has a proxy of its own; the browser's own (the
    profile's) takes what Firefox fetches for itself, which no visitor asked for.
    """

    def __init__(self, server: SiteServer) -> None:
        self.server = server
        self.proxy = ObservingProxy(server)
        self.browsers: dict[bool, FirefoxProcess] = {}
        try:
            self.name = f"Firefox {self._browser(False).version}"
        except Exception:
            self.close()
            raise

    def _browser(self, gpc: bool) -> FirefoxProcess:
        if gpc not in self.browsers:
            self.browsers[gpc] = FirefoxProcess(self.proxy, gpc)
        return self.browsers[gpc]

    @contextmanager
    def visitor(self, gpc: bool = False) -> Iterator[FirefoxVisitor]:
        visitor = FirefoxVisitor(self._browser(gpc), self.server, gpc)
        try:
            yield visitor
        finally:
            visitor.close()

    def close(self) -> None:
        for browser in self.browsers.values():
            browser.close()
        self.proxy.close()


def launch(server: SiteServer) -> Firefox:
    return Firefox(server)
