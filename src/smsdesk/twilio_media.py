"""Reading a customer's media from Twilio (``MediaUrlN``), for the media copy function.

Twilio's media URLs (``https://api.twilio.com/2010-04-01/Accounts/AC.../Messages/MM.../Media/ME...``)
need HTTP Basic auth when "Enforce HTTP Auth on Media URLs" is on (Twilio recommends it): the
senders' restricted API key (SID and secret) is accepted. Twilio answers with a redirect to a
short-lived URL on its CDN (mms.twiliocdn.com, valid 4 hours), which carries its own signature:
the credentials go to api.twilio.com only, never to the CDN (the redirect is followed by hand,
without them). Only URLs of this account's messages are read; anything else is refused.

The body is streamed and reading stops one byte past the cap: an oversize file is never read
whole. 404/410 (Twilio has no such media any more) is final; 401 reads the secret again once; 429,
5xx and network failures are :class:`TransientMediaFailure` (the function's retries, then its queue).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from smsdesk.media import Download, MediaGone, TransientMediaFailure
from smsdesk.twilio_messages import TWILIO_API

if TYPE_CHECKING:
    from smsdesk.twilio_credentials import CredentialsSource, TwilioApiKey

MAX_REDIRECTS = 3
CHUNK = 64 * 1024


class TwilioMedia:
    def __init__(
        self,
        credentials: CredentialsSource[TwilioApiKey],
        *,
        api_base_url: str | None = None,  # only locally: the Twilio stand-in
        timeout_seconds: float = 10.0,
    ) -> None:
        self._credentials = credentials
        self._base = api_base_url
        self._timeout = timeout_seconds
        self._session: Any = None

    def download(self, url: str, max_bytes: int) -> Download:
        key = self._credentials.get()  # a TwilioApiKey
        if not url.startswith(f"{TWILIO_API}/2010-04-01/Accounts/{key.account_sid}/Messages/") or "/Media/" not in url:
            raise MediaGone("not a media URL of this Twilio account")
        answer = self._get(url, (key.key_sid, key.secret))
        if answer.status_code == 401 and self._credentials.refresh() is not None:
            key = self._credentials.get()  # the API key was rotated: once more with the new one
            answer = self._get(url, (key.key_sid, key.secret))
        for _ in range(MAX_REDIRECTS):
            if not answer.is_redirect:
                break
            location = urljoin(answer.url, answer.headers.get("location") or "")
            answer.close()
            if not location.startswith("https://") and not self._base:  # only the local stand-in is http
                raise MediaGone("Twilio redirected the media to a URL that is not https")
            answer = self._get(location, None)  # a pre-signed CDN URL: no credentials
        return self._read(answer, max_bytes)

    def _get(self, url: str, auth: tuple[str, str] | None) -> Any:
        import requests

        if self._session is None:
            self._session = requests.Session()
            self._session.trust_env = False  # no .netrc or proxy credentials from the environment
        if self._base and url.startswith(TWILIO_API):
            url = self._base + url[len(TWILIO_API) :]
        try:
            return self._session.get(url, auth=auth, stream=True, allow_redirects=False, timeout=self._timeout)
        except requests.RequestException as error:
            raise TransientMediaFailure(f"could not reach {urlsplit(url).netloc}: {type(error).__name__}") from None

    def _read(self, answer: Any, max_bytes: int) -> Download:
        import requests

        with answer:
            status = answer.status_code
            if status in {404, 410}:
                raise MediaGone(f"Twilio no longer has it ({status})")
            if status == 401 or status == 403:
                raise TransientMediaFailure(f"Twilio refused the API key for media ({status})")
            if status == 429 or status >= 500 or answer.is_redirect:
                raise TransientMediaFailure(f"Twilio answered {status} for the media")
            if status != 200:
                raise MediaGone(f"Twilio answered {status}")
            declared = int(answer.headers.get("content-length") or 0)
            if declared > max_bytes:  # said up front: not read at all
                return Download(b"", answer.headers.get("content-type"), declared)
            body = bytearray()
            try:
                for chunk in answer.iter_content(CHUNK):
                    body += chunk
                    if len(body) > max_bytes:
                        break  # one byte past the cap is enough to refuse it
            except requests.RequestException as error:
                raise TransientMediaFailure(f"the media download broke off: {type(error).__name__}") from None
            return Download(bytes(body), answer.headers.get("content-type"), len(body))
