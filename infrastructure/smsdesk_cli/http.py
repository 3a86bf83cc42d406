"""Talking to a smsdesk stack over HTTP: the local one (``make local``) or a deployed one.

The agent API is IAM-authorised, so every call to it is SigV4-signed (service
``execute-api``): with the local agent credentials the local stack announces on
``/_local/info``, or, for a deployed stack, with the caller's own AWS credentials (the usual
chain: environment, profile, SSO...).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_API = "http://127.0.0.1:3000"
# How long a command waits for a local stack that is still starting (`make local` takes a few
# seconds before it opens its port).
LOCAL_START_WAIT_SECONDS = 30.0


class StackError(Exception):
    """The stack answered with an error, or could not be reached; the message says which."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # parsed JSON, or text

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 90.0,
) -> Answer:
    call = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 — http(s) only
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, _parse(response.read(), response.headers.get("Content-Type", "")))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _parse(error.read(), error.headers.get("Content-Type", "")))
    except (urllib.error.URLError, OSError) as error:
        raise StackError(f"cannot reach {urlsplit(url).netloc}: {getattr(error, 'reason', error)}") from None


def _parse(payload: bytes, content_type: str) -> Any:  # noqa: ANN401
    if "json" in content_type and payload:
        try:
            return json.loads(payload)
        except ValueError:
            pass
    return payload.decode("utf-8", errors="replace")


class Stack:
    """One smsdesk stack: its agent API, and (locally) the stand-in's controls."""

    def __init__(self, api: str, region: str | None = None) -> None:
        self.api = api.rstrip("/")
        parts = urlsplit(self.api)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise StackError(f"{api!r} is not an http(s) URL")
        self.is_local = parts.hostname in LOCAL_HOSTS
        self._region = region
        self._info: dict[str, Any] | None = None

    # ------------------------------------------------------------------ the local stack

    def local_info(self) -> dict[str, Any]:
        if not self.is_local:
            raise StackError(f"{self.api} is not a local stack: this command only works with `make local`")
        if self._info is None:
            answer = self._wait_for_local_stack()
            if not answer.ok or not isinstance(answer.body, dict):
                raise StackError(f"{self.api} does not look like `make local` (GET /_local/info: {answer.status})")
            self._info = answer.body
        return self._info

    def _wait_for_local_stack(self) -> Answer:
        """GET /_local/info, waiting (with one line on stderr) while the stack is starting: its
        port refuses connections, or it answers 503, until it is whole (SMSDESK_WAIT_SECONDS,
        default 30)."""
        import os
        import sys
        import time

        try:
            wait = float(os.environ.get("SMSDESK_WAIT_SECONDS") or LOCAL_START_WAIT_SECONDS)
        except ValueError:
            raise StackError("SMSDESK_WAIT_SECONDS must be a number of seconds") from None
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                answer = request("GET", f"{self.api}/_local/info", timeout=10.0)
                if answer.status != 503:
                    return answer
                problem_now = "it is starting"
            except StackError as error:
                problem_now = str(error)
            if time.monotonic() >= deadline:
                raise StackError(
                    f"no smsdesk stack answered on {self.api} within {wait:.0f} s ({problem_now}): start one with "
                    "`make local` (another port: `make local PORT=4000`, then --api http://127.0.0.1:4000 "
                    "or SMSDESK_API)"
                )
            if not told:
                print(f"smsdesk: waiting for the local stack on {self.api} to start ...", file=sys.stderr, flush=True)
                told = True
            time.sleep(0.25)

    def control(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        self.local_info()
        body = json.dumps(payload).encode() if payload is not None else None
        answer = request(method, f"{self.api}/_local/{path}", body=body, headers={"Content-Type": "application/json"})
        if not answer.ok:
            raise StackError(problem(answer))
        return answer.body

    def settle(self) -> None:
        self.control("POST", "settle")

    # ------------------------------------------------------------------ the agent API

    def agent(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = self.api + path + (f"?{urlencode(query)}" if query else "")
        body = json.dumps(payload).encode() if payload is not None else b""
        signing = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
        credentials, region = self._credentials()
        SigV4Auth(credentials, "execute-api", region).add_auth(signing)
        prepared = dict(signing.headers.items()) | (headers or {})
        return request(method, url, body=body or None, headers=prepared)

    def _credentials(self) -> tuple[Any, str]:  # noqa: ANN401
        from botocore.credentials import Credentials

        if self.is_local:
            local = self.local_info()["agent_credentials"]
            return Credentials(local["access_key_id"], local["secret_access_key"]), local["region"]
        from botocore.session import get_session

        session = get_session()
        credentials = session.get_credentials()
        if credentials is None:
            raise StackError("no AWS credentials found for signing (set AWS_PROFILE or run `aws sso login`)")
        # https://<api-id>.execute-api.<region>.amazonaws.com
        host = urlsplit(self.api).hostname or ""
        region = self._region or (host.split(".")[2] if ".execute-api." in host else session.get_config_variable("region"))
        if not region:
            raise StackError("cannot tell the API's region: pass --region")
        return credentials, region


def problem(answer: Answer) -> str:
    """What went wrong, as the API said it (problem+json title, or API Gateway's message)."""
    body = answer.body
    if isinstance(body, dict):
        return str(body.get("title") or body.get("message") or body)
    return f"HTTP {answer.status}: {str(body)[:200]}"
