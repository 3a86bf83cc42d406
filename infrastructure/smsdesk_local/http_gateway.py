"""API Gateway, locally: the template's HTTP API routes, served on one port.

Each ``HttpApi`` event of a function in template.yaml becomes a route; a request is turned into
the API Gateway HTTP API payload (format 2.0) the function gets when deployed, and its answer
back into HTTP. As deployed:

* there is no catch-all: an unknown route is API Gateway's own ``404 {"message":"Not Found"}``;
* a route of an API whose ``DefaultAuthorizer`` is a JWT authorizer (the agent API) needs a
  bearer token the authorizer accepts (:mod:`smsdesk_local.user_pool`), else API Gateway's
  ``401 {"message":"Unauthorized"}``; its claims appear in ``requestContext.authorizer.jwt``;
* a route of an API whose ``DefaultAuthorizer`` is ``AWS_IAM`` needs a SigV4 signature; it is
  verified here against the local credentials, and the caller appears in
  ``requestContext.authorizer.iam`` as it would;
* bodies that are not text are passed base64-encoded (``isBase64Encoded``), as HTTP APIs do
  with Twilio's ``application/x-www-form-urlencoded``;
* a function that raises is a ``500 {"message":"Internal Server Error"}``.

Paths under ``/_local/`` are the local stack's own controls (the clock, settling, information,
the user pool's endpoints), and ``/console/`` the console's files (CloudFront's part when
deployed): neither is part of the deployed API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from botocore.utils import normalize_url_path

from smsdesk_local.aws_server import refuse_chunked
from smsdesk_local.functions import LocalFunction
from smsdesk_local.template import ACCOUNT, REGION, HttpRoute
from smsdesk_local.user_pool import JwtAuthorizer, Refused

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/problem+json")
# The agent credentials the local stack accepts (printed at start; `smsdesk` uses them locally).
LOCAL_AGENT_ACCESS_KEY = "AKIALOCALAGENT000000"
LOCAL_AGENT_SECRET_KEY = "local-agent-secret-key"
LOCAL_AGENT_ARN = f"arn:aws:iam::{ACCOUNT}:user/local-agent"
_SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)

Report = Callable[[str, str, str, float | None], None]
Control = Callable[[str, str, dict[str, Any]], tuple[int, dict[str, Any]]]
# A path served as is: (method, path, headers, body) -> (status, headers, body).
RawHandler = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


@dataclass(frozen=True)
class Route:
    route: HttpRoute
    function: LocalFunction
    iam: bool
    pattern: re.Pattern[str]
    authorizer: JwtAuthorizer | None = None

    @property
    def key(self) -> str:
        return f"{self.route.method} {self.route.path}"


def compile_path(path: str) -> re.Pattern[str]:
    """``/conversations/{reference}`` -> a regex with a named group per parameter."""
    out = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1].rstrip("+")
            out += f"(?P<{name}>.+)" if part.endswith("+}") else f"(?P<{name}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


class HttpGateway:
    def __init__(self, routes: list[Route], control: Control, report: Report) -> None:
        self.routes = routes
        self._control = control
        self._report = report
        self._server: ThreadingHTTPServer | None = None
        self.listening = False
        self.requests = 0  # API Gateway requests served (the cost benchmark counts them)
        self.raw: dict[str, RawHandler] = {}  # path prefix -> handler (the console, the user pool's endpoints)

    # ------------------------------------------------------------------ server

    def start(self, port: int) -> str:
        """Bind the port (so its URL is known, and a port in use fails now), without listening:
        until :meth:`listen`, a client is refused at once instead of finding half a stack."""
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                gateway._serve(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler, bind_and_activate=False)
        self._server.daemon_threads = True
        try:
            self._server.server_bind()
        except OSError:
            self._server.server_close()
            raise
        return self.base_url

    def listen(self) -> None:
        """Open the port: every route, rule and stand-in is wired by now."""
        assert self._server is not None
        self._server.server_activate()
        threading.Thread(target=self._server.serve_forever, name="http-gateway", daemon=True).start()
        self.listening = True

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            if self.listening:
                self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ requests

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        method = request.command.upper()
        url = urlsplit(request.path)
        if refuse_chunked(request):  # Twilio always sends a Content-Length
            return None
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            request.rfile.read(length)
            return _send(request, 413, {"message": "Request Entity Too Large"})
        body = request.rfile.read(length) if length else b""
        for prefix, handler in self.raw.items():
            if url.path == prefix or url.path.startswith(prefix.rstrip("/") + "/"):
                return _send_raw(request, *handler(method, url.path, _headers(request), body))
        if url.path.startswith("/_local/"):
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return _send(request, 400, {"message": "the body is not JSON"})
            status, answer = self._control(method, url.path, payload if isinstance(payload, dict) else {})
            return _send(request, status, answer)
        found = self._match(method, url.path)
        if found is None:
            return _send(request, 404, {"message": "Not Found"})
        route, parameters = found
        headers = _headers(request)
        authorizer = None
        if route.iam:
            if not verify_sigv4(method, request.path, headers, body):
                return _send(request, 403, {"message": "Forbidden"})
            authorizer = {"iam": _iam_identity()}
        elif route.authorizer is not None:
            try:
                claims = route.authorizer.claims(headers.get("authorization"))
            except Refused:
                return _send(request, 401, {"message": "Unauthorized"})
            authorizer = {"jwt": {"claims": claims, "scopes": None}}
        event = api_gateway_event(route, method, url.path, url.query, headers, body, parameters, authorizer)
        started = time.perf_counter()
        self.requests += 1
        try:
            result = route.function.invoke(event)
        except Exception as error:
            self._report(route.function.logical_id, route.key, f"500 ({type(error).__name__})", None)
            return _send(request, 500, {"message": "Internal Server Error"})
        status, response_headers, payload = _http_response(result)
        self._report(route.function.logical_id, route.key, str(status), (time.perf_counter() - started) * 1000)
        _send_raw(request, status, response_headers, payload)

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.route.method in (method, "ANY"):
                match = route.pattern.match(path)
                if match:
                    return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None


# ---------------------------------------------------------------------- the proxy event


def _headers(request: BaseHTTPRequestHandler) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers


def api_gateway_event(
    route: Route,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    parameters: dict[str, str],
    authorizer: dict[str, Any] | None,
) -> dict[str, Any]:
    """The HTTP API payload format 2.0 event for one request."""
    now = datetime.now(UTC)
    host = headers.get("host", "127.0.0.1")
    headers = {**headers, "x-forwarded-proto": "http", "x-forwarded-port": host.rsplit(":", 1)[-1]}
    content_type = headers.get("content-type", "").lower()
    is_text = not body or content_type.startswith(TEXT_TYPES)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": route.route.api.lower(),
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query:
        grouped: dict[str, list[str]] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            grouped.setdefault(key, []).append(value)
        event["queryStringParameters"] = {k: ",".join(v) for k, v in grouped.items()}
    if parameters:
        event["pathParameters"] = parameters
    if authorizer:
        event["requestContext"]["authorizer"] = authorizer
    if body:
        event["body"] = body.decode("utf-8", errors="replace") if is_text else base64.b64encode(body).decode()
    return event


def _http_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    """A function's answer, read the way HTTP APIs read payload format 2.0."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(str(v) for v in values)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return int(result["statusCode"]), headers, payload
    return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()


def _send(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    _send_raw(request, status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def _send_raw(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
    request.send_response(status)
    for name, value in headers.items():
        if name.lower() not in {"content-length", "connection"}:
            request.send_header(name, value)
    request.send_header("Content-Length", str(len(payload)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(payload)


# ---------------------------------------------------------------------- SigV4


def _iam_identity() -> dict[str, Any]:
    return {
        "accessKey": LOCAL_AGENT_ACCESS_KEY,
        "accountId": ACCOUNT,
        "callerId": "AIDALOCALAGENT",
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": LOCAL_AGENT_ARN,
        "userId": "AIDALOCALAGENT",
    }


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def verify_sigv4(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> bool:
    """Check an AWS Signature Version 4 for ``execute-api`` against the local agent key.

    The canonical request is rebuilt from what arrived (the signed headers, the path, the
    sorted query, the body's SHA-256), so any client that signs correctly (botocore, curl
    --aws-sigv4) is accepted, and a changed byte is not. The date must be within 15 minutes of
    the real time, as AWS requires (the local clock's time travel does not apply to SigV4).
    """
    match = _SIGV4.fullmatch(headers.get("authorization", "").strip())
    if match is None or match["key"] != LOCAL_AGENT_ACCESS_KEY or match["service"] != "execute-api":
        return False
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return False
    if abs(datetime.now(UTC) - signed_at) > timedelta(minutes=15) or stamp[:8] != match["date"]:
        return False
    names = match["headers"].split(";")
    if "host" not in names or any(name not in headers for name in names):
        return False
    url = urlsplit(raw_path)
    # As the signer built them: the path as sent, URI-encoded once more; the query's pairs as
    # sent, sorted.
    pairs = sorted(pair.partition("=")[::2] for pair in url.query.split("&")) if url.query else []
    query = "&".join(f"{key}={value}" for key, value in pairs)
    canonical = "\n".join(
        [
            method,
            quote(normalize_url_path(url.path), safe="/~"),
            query,
            "".join(f"{name}:{' '.join(headers[name].strip().split())}\n" for name in names),
            match["headers"],
            headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{match['date']}/{match['region']}/execute-api/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + LOCAL_AGENT_SECRET_KEY).encode(), match["date"])
    for part in (match["region"], "execute-api", "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match["signature"]) and match["region"] == REGION
