"""Talking to a smsdesk stack over HTTP: the local one (``make local``) or a deployed one.

The agent API takes tokens of the agent user pool. By default the CLI is a system: the machine
client's client credentials grant (locally, the stand-in's token endpoint and client announced
on ``/_local/info``; deployed, ``SMSDESK_CLIENT_ID``, ``SMSDESK_CLIENT_SECRET`` and
``SMSDESK_TOKEN_URL`` from the stack's outputs). With ``--user EMAIL`` (password from
``SMSDESK_PASSWORD`` or asked) it signs in as that person through the console's client, and
acts with their groups (supervisor-only actions need a supervisor).
"""

from __future__ import annotations

import base64
import json
import os
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
    call = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return Answer(response.status, _parse(response.read(), response.headers.get("Content-Type", "")))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _parse(error.read(), error.headers.get("Content-Type", "")))
    except (urllib.error.URLError, OSError) as error:
        raise StackError(f"cannot reach {urlsplit(url).netloc}: {getattr(error, 'reason', error)}") from None


def _parse(payload: bytes, content_type: str) -> Any:
    if "json" in content_type and payload:
        try:
            return json.loads(payload)
        except ValueError:
            pass
    return payload.decode("utf-8", errors="replace")


class Stack:
    """One smsdesk stack: its agent API, and (locally) the stand-in's controls."""

    def __init__(self, api: str, region: str | None = None, user: str | None = None) -> None:
        self.api = api.rstrip("/")
        self.user = user.strip().lower() if user else None
        self._token: str | None = None
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
        control: dict[str, Any] = answer.body
        return control

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
        url = self.api + path + (f"?{urlencode(query)}" if query else "")
        body = json.dumps(payload).encode() if payload is not None else None
        sent = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token()}"} | (headers or {})
        return request(method, url, body=body, headers=sent)

    def token(self) -> str:
        if self._token is None:
            self._token = self._sign_in_as_user() if self.user else self._client_credentials()
        return self._token

    def _client_credentials(self) -> str:
        if self.is_local:
            client = self.local_info()["machine_client"]
            client_id, secret, url = client["client_id"], client["client_secret"], client["token_url"]
        else:
            client_id, secret, url = (
                os.environ.get(k, "") for k in ("SMSDESK_CLIENT_ID", "SMSDESK_CLIENT_SECRET", "SMSDESK_TOKEN_URL")
            )
            if not (client_id and secret and url):
                raise StackError(
                    "set SMSDESK_CLIENT_ID, SMSDESK_CLIENT_SECRET and SMSDESK_TOKEN_URL "
                    "(the stack's AutomationClientId and AutomationTokenUrl; README), or use --user"
                )
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        answer = request(
            "POST",
            url,
            body=b"grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"},
        )
        if not answer.ok or not isinstance(answer.body, dict):
            raise StackError(f"the token endpoint refused the machine client: {answer.body}")
        return str(answer.body["access_token"])

    def _sign_in_as_user(self) -> str:
        import getpass

        if self.is_local:
            console = self.local_info()["console"]
            endpoint, client_id = console["cognito_endpoint"], console["client_id"]
        else:
            endpoint = f"https://cognito-idp.{self._region or os.environ.get('AWS_REGION', 'us-east-1')}.amazonaws.com/"
            client_id = os.environ.get("SMSDESK_CONSOLE_CLIENT_ID", "")
            if not client_id:
                raise StackError("set SMSDESK_CONSOLE_CLIENT_ID (the stack's ConsoleClientId) to sign in as a person")
        password = os.environ.get("SMSDESK_PASSWORD") or getpass.getpass(f"password for {self.user}: ")
        payload = {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": self.user, "PASSWORD": password},
        }
        answer = request(
            "POST",
            endpoint,
            body=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            },
        )
        result = answer.body.get("AuthenticationResult") if isinstance(answer.body, dict) else None
        if not answer.ok or not result:
            reason = answer.body.get("message") if isinstance(answer.body, dict) else answer.body
            raise StackError(
                f"could not sign in as {self.user}: {reason or 'a new password is needed (use the console)'}"
            )
        return str(result["AccessToken"])


def problem(answer: Answer) -> str:
    """What went wrong, as the API said it (problem+json title, or API Gateway's message)."""
    body = answer.body
    if isinstance(body, dict):
        return str(body.get("title") or body.get("message") or body)
    return f"HTTP {answer.status}: {str(body)[:200]}"
