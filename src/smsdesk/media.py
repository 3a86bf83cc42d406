"""Photos and documents customers text (MMS): what is kept, what is refused, and why.

The webhook only records what arrived (Twilio's ``MediaUrlN`` and ``MediaContentTypeN``) on the
inbound message, each attachment ``pending``, and announces it (``MediaReceived``). The media copy
function then copies each one from Twilio into the private media bucket, or refuses it with the
reason in words, which agents see in the thread. The decision is :func:`decide`, a pure
function of the declared type, the first bytes and the size; the effects (Twilio, S3, the table)
come after it in :class:`MediaCopier`.

A copy is idempotent: an attachment already ``stored`` or ``refused`` is not fetched again, and
the object's key is derived from the message and the attachment's index (:func:`media_key`), so
a redelivered event, even concurrent with the first, writes the same bytes under the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from smsdesk.clock import Clock, to_iso
from smsdesk.events import DomainEvent, EventType
from smsdesk.repository import ConversationRepository, UnitOfWork
from smsdesk.table import Item, MediaAttachment, Message, thread_pk

MAX_MEDIA = 10  # Twilio delivers at most 10 media per message
# Twilio accepts at most 5 MB of media per message; anything larger is not a customer's photo.
MAX_MEDIA_BYTES = 5 * 1024 * 1024
LINK_SECONDS = 300  # how long a link an agent is given stays valid

# The allow-list: declared content type -> the kind its bytes must be.
ALLOWED_TYPES: Mapping[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/heic": "HEIC",
    "image/heif": "HEIC",
    "application/pdf": "PDF",
}
# What each kind is stored as (the object's Content-Type, what the browser is told).
STORED_TYPE = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "HEIC": "image/heic",
    "PDF": "application/pdf",
}
# ISO base media file brands of HEIC/HEIF images (ISO/IEC 23008-12).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
SNIFF_BYTES = 32  # enough for every signature below


class MediaStatus(StrEnum):
    PENDING = "pending"  # recorded by the webhook, not copied yet
    STORED = "stored"  # in the media bucket
    REFUSED = "refused"  # not copied, for the reason given


@dataclass(frozen=True, slots=True)
class ArrivedMedia:
    """One attachment as Twilio announced it on the webhook."""

    url: str
    declared_type: str


@dataclass(frozen=True, slots=True)
class Decision:
    accepted: bool
    content_type: str | None = None  # what it is stored as, when accepted
    reason: str | None = None  # why not, in words an agent reads


def arrived_media(params: Mapping[str, str], num_media: int) -> tuple[ArrivedMedia, ...]:
    """The attachments of a webhook's form (``MediaUrlN``/``MediaContentTypeN``, N < NumMedia).
    Nothing is refused here: an odd URL or type is recorded, and refused by the copy with its reason."""
    return tuple(
        ArrivedMedia(
            (params.get(f"MediaUrl{n}") or "").strip(),
            (params.get(f"MediaContentType{n}") or "").strip().lower(),
        )
        for n in range(min(num_media, MAX_MEDIA))
    )


def sniff(head: bytes) -> str | None:
    """The kind the bytes are, by their signature (magic number), or None if none allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIC"
    return None


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _declared(declared_type: str) -> str:
    return declared_type.split(";", 1)[0].strip().lower()


def declared_refusal(declared_type: str) -> Decision | None:
    """The refusal of a declared type off the allow-list (decided before downloading), or None."""
    declared = _declared(declared_type)
    if declared in ALLOWED_TYPES:
        return None
    allowed = ", ".join(dict.fromkeys(ALLOWED_TYPES.values()))
    return Decision(False, reason=f"{declared or 'no type'} is not accepted (only {allowed})")


def decide(declared_type: str, head: bytes, size: int, *, max_bytes: int = MAX_MEDIA_BYTES) -> Decision:
    """Keep an attachment or refuse it: its declared type must be on the allow-list, its bytes
    must be what it says, and it must not be larger than ``max_bytes`` (``size`` is how much was
    read: more than ``max_bytes`` means the download was stopped there)."""
    if (refused := declared_refusal(declared_type)) is not None:
        return refused
    declared = _declared(declared_type)
    kind = ALLOWED_TYPES[declared]
    if size > max_bytes:
        return Decision(False, reason=f"larger than the {_megabytes(max_bytes)} limit")
    if size == 0:
        return Decision(False, reason="the file is empty")
    found = sniff(head[:SNIFF_BYTES])
    if found != kind:
        what = f"a {found} file" if found else "not a file of an accepted type"
        return Decision(False, reason=f"declared {declared} but it is {what}")
    return Decision(True, content_type=STORED_TYPE[kind])


def media_key(message_key: str, index: int) -> str:
    """Where an attachment is kept in the bucket: one key per message and index (idempotent)."""
    return f"media/{message_key}/{index}"


# ---------------------------------------------------------------------------------- the webhook


def attachments_on_arrival(media: tuple[ArrivedMedia, ...]) -> list[MediaAttachment]:
    """What the inbound message records of its media: every attachment, pending."""
    return [
        MediaAttachment(url=m.url, declared_type=m.declared_type or None, status=str(MediaStatus.PENDING))
        for m in media
    ]


def media_received(customer: str, conversation: str | None, message_key: str, count: int, now: datetime) -> DomainEvent:
    """The event the media copy function reacts to, written with the message."""
    return DomainEvent(
        EventType.MEDIA_RECEIVED, now, customer, conversation, {"message_key": message_key, "num_media": count}
    )


# ---------------------------------------------------------------------------------- the copy


@dataclass(frozen=True, slots=True)
class Download:
    """What a media URL gave: its bytes (reading stopped past the cap), the type it said, and its
    size (what was read, or more when the size was announced above the cap and nothing read)."""

    body: bytes
    content_type: str | None
    size: int


class MediaGone(Exception):
    """Twilio will never give this media (404, 410, not a Twilio media URL...): refused, not retried."""


class TransientMediaFailure(Exception):
    """Twilio or S3 failed in a way that may pass (5xx, 429, a timeout): retry later."""


class MediaSource(Protocol):
    def download(self, url: str, max_bytes: int) -> Download: ...


class MediaStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...


@dataclass(frozen=True, slots=True)
class CopyResult:
    stored: int
    refused: int
    pending: int  # left for a retry (Twilio failed for now); the caller raises
    problems: tuple[str, ...] = ()  # why they are pending


class MediaCopier:
    def __init__(
        self,
        repository: ConversationRepository,
        source: MediaSource,
        store: MediaStore,
        clock: Clock,
        *,
        max_bytes: int = MAX_MEDIA_BYTES,
    ) -> None:
        self._repository = repository
        self._source = source
        self._store = store
        self._clock = clock
        self._max_bytes = max_bytes

    def copy(self, customer: str, conversation: str | None, message_key: str) -> CopyResult:
        """Copy the message's pending attachments; record each outcome on the message. An
        attachment Twilio could not serve now stays pending (``CopyResult.pending``)."""
        message = self._repository.message(thread_pk(conversation, customer), message_key, consistent=True)
        if message is None:
            raise LookupError(f"no message {message_key} of {conversation or customer}")
        attachments = list(message.media or [])
        outcomes: list[MediaAttachment] = []
        decided = 0
        problems: list[str] = []
        for index, attachment in enumerate(attachments):
            if attachment.status != MediaStatus.PENDING:
                outcomes.append(attachment)  # a redelivery: decided already, not fetched again
                continue
            try:
                outcomes.append(self._copy_one(message, index, attachment))
                decided += 1
            except TransientMediaFailure as failure:
                problems.append(str(failure))
                outcomes.append(attachment)
        if decided:
            work = UnitOfWork().update(Item.MESSAGE, message, [Message.media.set(outcomes)])
            self._repository.commit(work)
        stored = sum(1 for a in outcomes if a.status == MediaStatus.STORED)
        refused = sum(1 for a in outcomes if a.status == MediaStatus.REFUSED)
        return CopyResult(stored, refused, len(problems), tuple(problems))

    def _copy_one(self, message: Message, index: int, attachment: MediaAttachment) -> MediaAttachment:
        now = self._clock.now()
        declared = attachment.declared_type or ""
        if (refused := declared_refusal(declared)) is not None:
            return _refused(attachment, refused.reason, now)  # off the allow-list: not even downloaded
        try:
            download = self._source.download(attachment.url, self._max_bytes)
        except MediaGone as gone:
            return _refused(attachment, str(gone), now)
        decision = decide(declared, download.body, download.size, max_bytes=self._max_bytes)
        if not decision.accepted:
            return _refused(attachment, decision.reason, now)
        assert decision.content_type is not None
        key = media_key(message.key, index)
        self._store.put(key, download.body, decision.content_type)
        return MediaAttachment(
            url=attachment.url,
            declared_type=attachment.declared_type,
            status=str(MediaStatus.STORED),
            content_type=decision.content_type,
            size=len(download.body),
            object_key=key,
            decided_at=now,
        )


def _refused(attachment: MediaAttachment, reason: str | None, now: datetime) -> MediaAttachment:
    return MediaAttachment(
        url=attachment.url,
        declared_type=attachment.declared_type,
        status=str(MediaStatus.REFUSED),
        reason=reason,
        decided_at=now,
    )


# ---------------------------------------------------------------------------------- agents


class MediaLinks(Protocol):
    def link(self, key: str, seconds: int) -> str: ...


class MediaAccess:
    """What agents may open: a short-lived link for each stored attachment the bucket still keeps
    (its lifecycle rule deletes media ``retention`` after they were stored)."""

    def __init__(self, links: MediaLinks, clock: Clock, retention: timedelta) -> None:
        self._links = links
        self._clock = clock
        self._retention = retention

    def view(self, attachments: list[MediaAttachment] | None) -> list[dict[str, object]]:
        now = self._clock.now()
        views = []
        for index, a in enumerate(attachments or []):
            view: dict[str, object] = {
                "index": index,
                "status": a.status,
                "content_type": a.content_type or a.declared_type,
                "size": a.size,
                "reason": a.reason,
                "url": None,
            }
            if a.status == MediaStatus.STORED and a.object_key and a.decided_at is not None:
                kept_until = a.decided_at + self._retention
                view["kept_until"] = to_iso(kept_until)
                if now >= kept_until:
                    view["status"] = "expired"
                else:
                    view["url"] = self._links.link(a.object_key, LINK_SECONDS)
                    view["url_expires_at"] = to_iso(now + timedelta(seconds=LINK_SECONDS))
            views.append(view)
        return views
