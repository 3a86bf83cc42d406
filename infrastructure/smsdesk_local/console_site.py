"""The console's files, locally: what CloudFront serves from the console bucket when deployed.

``/console/`` is ``console/index.html``; ``/console/config.json`` is made by the stack (the
API's URL, the user pool's endpoint and client), as ``smsdesk console publish`` writes it to the
bucket. Only files inside ``console/`` are served.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from typing import Any

from smsdesk_local.template import ROOT

CONSOLE = ROOT / "console"


class ConsoleSite:
    def __init__(self, config: Callable[[], dict[str, Any]]) -> None:
        self._config = config

    def serve(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method not in {"GET", "HEAD"}:
            return 405, {"Content-Type": "text/plain"}, b"Method Not Allowed"
        if path == "/console":
            return 301, {"Location": "/console/"}, b""
        name = path.removeprefix("/console/") or "index.html"
        if name == "config.json":
            return (
                200,
                {"Content-Type": "application/json", "Cache-Control": "no-store"},
                json.dumps(self._config()).encode(),
            )
        file = (CONSOLE / name).resolve()
        if not file.is_relative_to(CONSOLE.resolve()) or not file.is_file():
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": kind, "Cache-Control": "no-cache"}, file.read_bytes()
