"""The conversation table: one DynamoDB table, designed from its access patterns.

=====================  ==========================  ===============================  ==========
item                   pk                          sk                               ttl
=====================  ==========================  ===============================  ==========
Customer               CUSTOMER#<e164>             PROFILE
ConsentRecord          CUSTOMER#<e164>             CONSENT#<at>#<id>   (append-only)
Message (no conv.)     CUSTOMER#<e164>             MESSAGE#<key>
Conversation           CONVERSATION#<ref>          CONVERSATION
Message                CONVERSATION#<ref>          MESSAGE#<key>
MessageSid             SID#<inbound MessageSid>    SID
OutboxEvent            EVENT#<id>                  EVENT                            + 1 d
Analytics counters     ANALYTICS#<group>           DAY#<yyyy-mm-dd>
Analytics batch ledger ANALYTICS#APPLIED#<record>  APPLIED                          + 2 d
=====================  ==========================  ===============================  ==========

Access patterns: a customer's profile and consent (one strongly consistent GetItem, the send
gateway's read); a customer's consent history (Query CUSTOMER#, begins_with CONSENT#); a
conversation with its messages (one Query on CONVERSATION#<ref>); an agent's queue (active,
resolved, closed), urgent first, oldest first (GSI ``by-queue``: QUEUE#<queue> /
<rank>#<opened_at>#<ref>; a status within a queue is a filter). A status callback finds its
message from the callback URL smsdesk gave Twilio (conversation and key, signed by Twilio), with
no lookup.

Messages have deterministic keys (``MESSAGE#in-<MessageSid>``, ``MESSAGE#out-<purpose>-...``):
putting one with ``attribute_not_exists`` is how a duplicate delivery or a retried send is
detected. Outbox events are written in the same transaction as the change they announce; the
table's stream carries them to EventBridge (see functions/outbox_relay). They and the analytics'
batch ledger are the only items with a TTL: everything else is a record. Analytics counters are
plain numbers added to as the stream goes by (smsdesk.analytics); they are derived, and
``smsdesk analytics rebuild`` can write them again from the conversations.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import NUMBER
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class IntegerAttribute(Attribute[int]):
    """A whole number (stored as DynamoDB's N, exactly as NumberAttribute stores it)."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return json.dumps(value)

    def deserialize(self, value: str) -> int:
        return int(json.loads(value))


class TextListAttribute(ListAttribute[str]):
    """A list of strings (pynamodb's ListAttribute(of=UnicodeAttribute), typed as what it holds)."""

    def __init__(self, *, null: bool | None = None, default: Any = None) -> None:
        super().__init__(null=null, default=default, of=UnicodeAttribute)  # type: ignore[arg-type]


class TableItem(Model):
    """Every item of the table; ``kind`` says which model it is."""

    class Meta:
        table_name = "smsdesk-conversations"  # replaced by bind_table() at cold start
        region = "us-east-1"
        # A webhook must answer Twilio within 15 s: fail fast and let Twilio (or Lambda) retry.
        connect_timeout_seconds = 2
        read_timeout_seconds = 4
        max_retry_attempts = 3

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()


def bind_table(table_name: str, region: str | None = None) -> None:
    """Point every model at the deployed table (called once, at cold start)."""
    TableItem.Meta.table_name = table_name
    if region:
        TableItem.Meta.region = region
    models: list[type[TableItem]] = [TableItem, *_all_subclasses(TableItem)]
    for model in models:
        model._connection = None
    # One connection (one botocore session and DynamoDB client) for every model and the
    # repository's transactions: pynamodb would create one per model class, each loading
    # botocore's service data again on a cold start's first request.
    shared = TableItem._get_connection()
    for model in _all_subclasses(TableItem):
        model._connection = shared
    # ... and the session smsdesk's own clients use (pynamodb keeps one per thread; this is the
    # cold start's thread, the one a Lambda invocation runs in).
    from smsdesk.aws.clients import new_session

    shared.connection._local.session = new_session()


def table_connection() -> Connection:
    """The connection every model uses (for TransactWrite/TransactGet)."""
    return TableItem._get_connection().connection


def _all_subclasses(cls: type[TableItem]) -> list[type[TableItem]]:
    found: list[type[TableItem]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


# ---------------------------------------------------------------------- the stored vocabulary
# StrEnums: each member is stored, published and compared as the plain string it always was.


class ConsentState(StrEnum):
    SUBSCRIBED = "subscribed"
    OPTED_OUT = "opted_out"


class OptOutConfirmation(StrEnum):
    """After an opt-out, at most one confirmation: pending -> sent, or not needed (Twilio answered)."""

    PENDING = "pending"
    SENT = "sent"
    NOT_NEEDED = "not_needed"


class ConsentHold(StrEnum):
    POSSIBLE_OPT_OUT = "possible_opt_out"  # a text that may be an opt-out awaits an agent


class Priority(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


class MessageStatus(StrEnum):
    """Where a text is: smsdesk's own states, then Twilio's (which only move forward)."""

    RECEIVED = "received"  # a customer's text
    CLAIMED = "claimed"  # a send in progress (taken over after STALE_CLAIM)
    RETRYING = "retrying"  # a send let go (transient failure, consent changed): the next attempt takes it
    HELD = "held"  # quiet hours or the daily cap: released at send_after
    REFUSED = "refused"  # never sent (opted out, no longer wanted...), with the reason in ``note``
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"


class Item(StrEnum):
    """The labels of a unit of work's operations: a :class:`~smsdesk.repository.WriteConflict`
    names the ones whose condition failed."""

    CUSTOMER = "customer"
    CONVERSATION = "conversation"
    MESSAGE = "message"
    SID = "sid"  # the inbound MessageSid guard: a duplicate delivery
    CONSENT_RECORD = "consent_record"
    NOTE = "note"
    ACTIVITY = "activity"
    LEDGER = "ledger"


# ---------------------------------------------------------------------- keys (built here only)

PROFILE = "PROFILE"  # the customer's sort key
CONVERSATION_SK = "CONVERSATION"
MESSAGE_PREFIX = "MESSAGE#"
CONSENT_PREFIX = "CONSENT#"
_CUSTOMER_PREFIX = "CUSTOMER#"
_CONVERSATION_PREFIX = "CONVERSATION#"


def customer_pk(number: str) -> str:
    return f"{_CUSTOMER_PREFIX}{number}"


def conversation_pk(reference: str) -> str:
    return f"{_CONVERSATION_PREFIX}{reference}"


def thread_pk(conversation: str | None, number: str) -> str:
    """Where a message is kept: its conversation, or (no conversation) its customer."""
    return conversation_pk(conversation) if conversation else customer_pk(number)


def thread_owner(thread: str) -> tuple[str | None, str | None]:
    """The (conversation reference, customer number) a thread key names; one of them is None."""
    if thread.startswith(_CONVERSATION_PREFIX):
        return thread.removeprefix(_CONVERSATION_PREFIX), None
    return None, thread.removeprefix(_CUSTOMER_PREFIX)


def message_sk(key: str) -> str:
    return f"{MESSAGE_PREFIX}{key}"


def consent_sk(at: str, record_id: str) -> str:
    return f"{CONSENT_PREFIX}{at}#{record_id}"


def sid_key(message_sid: str) -> tuple[str, str]:
    return f"SID#{message_sid}", "SID"


def event_key(event_id: str) -> tuple[str, str]:
    return f"EVENT#{event_id}", "EVENT"


def queue_pk(queue: str) -> str:
    """The by-queue index's partition: one queue (active, resolved, closed)."""
    return f"QUEUE#{queue}"


def analytics_key(group: str, day: str) -> tuple[str, str]:
    """The counters of one group of figures on one business-local day (ISO date): a period of
    a group is one Query (sk between two days)."""
    return f"ANALYTICS#{group}", f"DAY#{day}"


def analytics_ledger_key(first_record: str) -> tuple[str, str]:
    """What the analytics applied of a stream batch that began with ``first_record``."""
    return f"ANALYTICS#APPLIED#{first_record}", "APPLIED"


class Customer(TableItem, discriminator="customer"):
    number = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    from_state = UnicodeAttribute(null=True)  # Twilio's FromState, a time-zone hint
    created_at = UTCDateTimeAttribute()
    last_inbound_at = UTCDateTimeAttribute(null=True)
    # Consent: the state the send gateway reads, strongly consistent, before every send.
    consent = UnicodeAttribute(default=ConsentState.SUBSCRIBED)  # subscribed | opted_out
    consent_version = IntegerAttribute(default=0)  # bumped by every consent change
    consent_changed_at = UTCDateTimeAttribute(null=True)
    consent_source = UnicodeAttribute(null=True)
    # After an opt-out, at most one confirmation: pending -> sent, or not_needed (Twilio answered).
    opt_out_confirmation = UnicodeAttribute(null=True)
    # "possible_opt_out": a text that may be an opt-out awaits an agent; nothing is sent meanwhile
    # but answers to HELP. Cleared by any consent change or by an agent.
    consent_hold = UnicodeAttribute(null=True)
    # The language the customer writes in (detected per text, kept when a text is unclear).
    language = UnicodeAttribute(null=True)
    # What an agent set in the console's customer panel wins over what smsdesk guessed: a chosen
    # language is no longer replaced by detection; a chosen IANA zone replaces the number's zones.
    language_chosen_by = UnicodeAttribute(null=True)
    time_zone = UnicodeAttribute(null=True)
    profile_changed_by = UnicodeAttribute(null=True)  # agent:<e-mail> of the last panel edit
    profile_changed_at = UTCDateTimeAttribute(null=True)
    # Conversations
    open_conversation = UnicodeAttribute(null=True)
    conversation_count = IntegerAttribute(default=0)
    last_conversation_opened_at = UTCDateTimeAttribute(null=True)
    # The one before it: with the last, ComplaintReceived tells the analytics how many complaints
    # the customer made in any period (repeat complainants) without reading anything.
    previous_conversation_opened_at = UTCDateTimeAttribute(null=True)
    # When their recent complaints opened (ISO instants, the last 30 days): the third is urgent.
    recent_complaints = TextListAttribute(default=list)
    # The references of their conversations, oldest first (the last 50): the panel's history.
    conversations = TextListAttribute(default=list)
    # Proactive messages sent in the last 24 h (ISO instants), for the per-number cap.
    proactive_sent = TextListAttribute(default=list)


class ConsentRecord(TableItem, discriminator="consent"):
    """One consent change, append-only: who, when, how, why, and the evidence."""

    number = UnicodeAttribute()
    action = UnicodeAttribute()  # opt_out | opt_in
    source = UnicodeAttribute()  # keyword | natural_language | twilio_opt_out_type | carrier_21610 | agent
    reason = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)  # the customer's words, card numbers redacted
    message_sid = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute()
    previous = UnicodeAttribute()


class ByQueue(GlobalSecondaryIndex["Conversation"]):  # type: ignore[no-untyped-call]
    """Conversations by queue (active / resolved / closed): urgent first, then oldest first."""

    class Meta:
        index_name = "by-queue"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Conversation(TableItem, discriminator="conversation"):
    reference = UnicodeAttribute()
    customer = UnicodeAttribute()
    status = UnicodeAttribute()  # open | acknowledged | waiting_on_agent | waiting_on_customer | resolved | closed
    priority = UnicodeAttribute(default=Priority.NORMAL)  # urgent | normal
    category = UnicodeAttribute(default="other")
    escalation_reasons = TextListAttribute(default=list)
    summary = UnicodeAttribute()  # the opening message, redacted, at most 160 characters
    opened_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    last_customer_message_at = UTCDateTimeAttribute()
    acknowledged_at = UTCDateTimeAttribute(null=True)
    reply_by = UTCDateTimeAttribute(null=True)  # what the acknowledgement promised
    first_response_at = UTCDateTimeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    resolution_note = UnicodeAttribute(null=True)
    reopened_count = IntegerAttribute(default=0)
    reopened_at = UTCDateTimeAttribute(null=True)  # the last reopening: the wait for an agent restarts
    last_agent_reply_at = UTCDateTimeAttribute(null=True)  # whether the current wait was answered
    repeat_complaint = BooleanAttribute(default=False)
    sla_breached = BooleanAttribute(default=False)
    csat_score = IntegerAttribute(null=True)
    survey_sent_at = UTCDateTimeAttribute(null=True)  # when Twilio took the satisfaction check
    survey_answered_at = UTCDateTimeAttribute(null=True)  # when its 1-5 answer was recorded
    callback_requested = BooleanAttribute(default=False)
    # Why smsdesk did not answer automatically (e.g. the customer had opted out): agents see it.
    auto_reply_note = UnicodeAttribute(null=True)
    assignee = UnicodeAttribute(null=True)  # the agent's e-mail address
    # The text may be an opt-out: an agent confirms it or clears it (see Customer.consent_hold).
    possible_opt_out = BooleanAttribute(default=False)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_queue = ByQueue()


class Message(TableItem, discriminator="message"):
    """One text, in or out, in a conversation or (consent keywords, HELP) on the customer."""

    key = UnicodeAttribute()
    direction = UnicodeAttribute()  # inbound | outbound | note | activity (the last two: agents only)
    customer = UnicodeAttribute()
    conversation = UnicodeAttribute(null=True)
    body = UnicodeAttribute()  # card numbers redacted
    purpose = UnicodeAttribute()  # complaint, acknowledgement, agent_reply, keyword_reply, help, ...
    author = UnicodeAttribute()  # customer | smsdesk | agent:<id>
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)  # when Twilio took it (later than created_at when held)
    # Delivery: received | claimed | held | queued | sent | delivered | undelivered | failed
    #           | refused (also: held, then no longer wanted) | retrying | unknown
    status = UnicodeAttribute()
    status_rank = IntegerAttribute(default=0)  # callbacks only ever move it forward
    twilio_sid = UnicodeAttribute(null=True)
    error_code = IntegerAttribute(null=True)
    note = UnicodeAttribute(null=True)  # why refused / held / failed, in words
    proactive = BooleanAttribute(default=False)
    send_after = UTCDateTimeAttribute(null=True)  # held for quiet hours or the daily cap
    segments = IntegerAttribute(null=True)
    attempts = IntegerAttribute(default=0)
    num_media = IntegerAttribute(default=0)


class MessageSid(TableItem, discriminator="sid"):
    """The SID of a text a customer sent -> where it is stored. Written in the same transaction
    as the text: a duplicate delivery of the webhook (even concurrent) fails on it."""

    message_pk = UnicodeAttribute()
    message_sk = UnicodeAttribute()


class OutboxEvent(TableItem, discriminator="event"):
    """A domain event, written with the change it announces; the stream publishes it."""

    detail_type = UnicodeAttribute()
    detail = UnicodeAttribute()  # JSON
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
