"""A small WebDriver BiDi client: commands sent over one WebSocket, answered in order.

Firefox speaks WebDriver BiDi itself, so it needs no geckodriver (which no Debian package
ships). Playwright's BiDi channel asks for commands Firefox ESR lacks (see docs/engines.md).
No events are subscribed to: requests are seen by the proxy, loads are awaited by
`browsingContext.navigate`.
"""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import connect


class BiDiError(Exception):
    """The browser refused a command; the message is its own."""


class BiDi:
    def __init__(self, url: str, seconds: float = 30) -> None:
        self.seconds = seconds
        self.socket = connect(url, max_size=None, open_timeout=seconds)
        self.next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.socket.recv(timeout=self.seconds))
            if message.get("id") != self.next_id:
                continue  # an event: none is asked for, but the browser may send some
            if message.get("type") == "error":
                raise BiDiError(f"{method}: {message.get('error')}: {message.get('message')}")
            return message["result"]

    def close(self) -> None:
        self.socket.close()


def value(remote: dict[str, Any]) -> Any:
    """A BiDi remote value as Python: primitives, arrays and plain objects."""
    kind = remote["type"]
    if kind in ("undefined", "null"):
        return None
    if kind in ("string", "boolean"):
        return remote["value"]
    if kind == "number":
        number = remote["value"]
        return float("nan") if isinstance(number, str) else number
    if kind in ("array", "set"):
        return [value(item) for item in remote.get("value", [])]
    if kind == "object":
        return {key: value(item) for key, item in remote.get("value", [])}
    return remote  # a node, a function: the journeys do not read these as values
