"""Receiving a text: what the inbound webhook does once Twilio's request is verified.

The text is redacted of card numbers before anything else, classified, and recorded in one
transaction with the events that announce it:

=======================  ===========================================================
the text is              what is recorded (all or nothing)
=======================  ===========================================================
an opt-out               the consent change + audit record (before Twilio gets its answer)
an opt-in keyword        the consent change + audit record (if the number was opted out)
an opt-in in words       the message, on the customer; consent unchanged (rule 5: keywords only)
HELP                     the message, on the customer
an auto-reply keyword    the message, in the open conversation; the complaint stays open
a satisfaction score     the score on the resolved conversation (1-2 reopen it)
anything else            a new conversation, or the message added to the open one
=======================  ===========================================================

A keyword Twilio answered itself (:func:`twilio_answered`) is recorded all the same, and its
events say so: the consent function then sends no reply of its own, so the customer gets one.

Every write carries a guard item keyed by the Twilio MessageSid, so a duplicate delivery (a
Twilio retry, even concurrent with the first) fails the transaction as a whole and changes
nothing: one stored message, one event, one acknowledgement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from smsdesk.classification import (
    CARRIER_KEYWORDS,
    Classification,
    Intent,
    classify,
    parse_satisfaction_score,
)
from smsdesk.clock import Clock, from_iso, to_iso
from smsdesk.consent import ConsentEvidence, ConsentSource, opt_in, opt_out
from smsdesk.conversations import (
    KEPT_CONVERSATIONS,
    REOPEN_WINDOW,
    REPEAT_WINDOW,
    Status,
    awaits_a_score,
    close_for_good,
    customer_wrote,
    new_conversation,
    open_for_customer,
    record_satisfaction,
    summary_of,
)
from smsdesk.errors import ConcurrentWrite
from smsdesk.events import DomainEvent, EventType
from smsdesk.media import attachments_on_arrival, media_received
from smsdesk.redaction import redact_card_numbers
from smsdesk.reference_codes import new_reference
from smsdesk.repository import ConversationRepository, UnitOfWork, WriteConflict
from smsdesk.table import (
    PROFILE,
    ConsentHold,
    ConsentState,
    Conversation,
    Customer,
    Item,
    Message,
    MessageSid,
    MessageStatus,
    Priority,
    conversation_pk,
    customer_pk,
    message_sk,
    sid_key,
)
from smsdesk.twilio_webhook import InboundSms


class InboundOutcome(StrEnum):
    NEW_CONVERSATION = "new_conversation"
    ADDED_TO_CONVERSATION = "added_to_conversation"
    KEYWORD = "keyword"
    HELP = "help"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    OPT_IN_REQUESTED = "opt_in_requested"  # in words: recorded, consent unchanged
    SATISFACTION = "satisfaction"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Received:
    outcome: InboundOutcome
    conversation: str | None
    classification: Classification | None
    events: tuple[str, ...] = ()


class Route(StrEnum):
    """What a text is to smsdesk, decided by :func:`route` before anything is written."""

    OPT_OUT = "opt_out"
    OPT_OUT_WITH_COMPLAINT = "opt_out_with_complaint"  # "stop texting me and refund my money"
    OPT_IN = "opt_in"  # the keyword (START, UNSTOP, YES)
    OPT_IN_REQUESTED = "opt_in_requested"  # in words: recorded, consent unchanged
    HELP = "help"
    POSSIBLE_OPT_OUT = "possible_opt_out"  # kept for an agent; nothing is sent meanwhile
    SATISFACTION = "satisfaction"  # a 1-5 answer to the satisfaction check
    CALL_REQUESTED = "call_requested"  # CALL with no case open: a conversation flagged for a call
    KEYWORD = "keyword"  # an auto-reply keyword; the complaint stays as it is
    ADD_TO_CONVERSATION = "add_to_conversation"
    NEW_CONVERSATION = "new_conversation"


@dataclass(frozen=True, slots=True)
class Routing:
    kind: Route
    open_conversation: Conversation | None  # the conversation the text belongs to, if any
    score: int | None = None  # SATISFACTION: the score
    close_first: Conversation | None = None  # NEW_CONVERSATION: a resolution too old to reopen, closed for good


def twilio_answered(sms: InboundSms, default_handling: bool) -> bool:
    """Whether Twilio has already replied to this text itself, so that smsdesk must not.

    Advanced Opt-Out flagged it (``OptOutType`` STOP, START or HELP: the business's own keywords,
    in any language it configured), or Twilio's default handling is on (``default_handling``, the
    deployment's TwilioAnswersOptOutKeywords) and the text is one of Twilio's keywords and nothing
    else, in any case: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT; START,
    UNSTOP, YES; HELP, INFO. Twilio matches the whole text only ("STOP please", "Help!" or a
    signature under the keyword are not its), so those remain smsdesk's to answer."""
    if sms.opt_out_type is not None:
        return True
    return default_handling and sms.text.strip().upper() in CARRIER_KEYWORDS


def route(
    c: Classification,
    text: str,
    customer: Customer,
    current: Conversation | None,
    now: datetime,
    reopen_window: timedelta = REOPEN_WINDOW,
) -> Routing:
    """Where a classified text goes, from the customer and their current conversation as read:
    consent first (opt-out, opt-in, HELP, a possible opt-out), then a score, a keyword, the
    conversation. Pure: the service writes what it decides."""
    open_conversation = current if open_for_customer(current, now, reopen_window) else None
    if c.intent is Intent.OPT_OUT:
        return Routing(Route.OPT_OUT_WITH_COMPLAINT if c.complaint_too else Route.OPT_OUT, open_conversation)
    if c.intent is Intent.OPT_IN and (customer.consent == ConsentState.OPTED_OUT or open_conversation is None):
        return Routing(Route.OPT_IN_REQUESTED if c.natural_language else Route.OPT_IN, open_conversation)
    if c.intent is Intent.HELP:
        return Routing(Route.HELP, open_conversation)
    if c.possible_opt_out:
        return Routing(Route.POSSIBLE_OPT_OUT, open_conversation)
    score = parse_satisfaction_score(text) if awaits_a_score(open_conversation, now, reopen_window) else None
    if score is not None and open_conversation is not None:
        return Routing(Route.SATISFACTION, open_conversation, score=score)
    if c.auto_reply_keyword == "CALL" and open_conversation is None:
        return Routing(Route.CALL_REQUESTED, None)
    if c.auto_reply_keyword:
        return Routing(Route.KEYWORD, open_conversation)
    if open_conversation is not None:
        return Routing(Route.ADD_TO_CONVERSATION, open_conversation)
    resolved_long_ago = current if current is not None and current.status == Status.RESOLVED else None
    return Routing(Route.NEW_CONVERSATION, None, close_first=resolved_long_ago)


class InboundService:
    def __init__(
        self,
        repository: ConversationRepository,
        clock: Clock,
        *,
        auto_reply_keywords: frozenset[str],
        twilio_answers_opt_out_keywords: bool = True,
        classifier: Callable[..., Classification] = classify,
        reopen_window: timedelta = REOPEN_WINDOW,
    ) -> None:
        self._classify = classifier
        self._repository = repository
        self._clock = clock
        self._keywords = auto_reply_keywords
        self._twilio_answers = twilio_answers_opt_out_keywords
        self._reopen_window = reopen_window

    def receive(self, sms: InboundSms) -> Received:
        collisions = 0
        for _ in range(5):
            try:
                return self._receive_once(sms, collisions)
            except WriteConflict as conflict:
                if conflict.on(Item.SID):
                    return Received(InboundOutcome.DUPLICATE, None, None)
                if conflict.on(Item.CONVERSATION):
                    collisions += 1  # the reference was taken: draw another
                # "customer": another text from this number committed first; decide again.
            except ConcurrentWrite:
                continue  # another text from this number was being written at that moment: decide again
        raise RuntimeError("could not record the message after 5 attempts")

    # ------------------------------------------------------------------ one attempt

    def _receive_once(self, sms: InboundSms, collisions: int) -> Received:
        now = self._clock.now()
        text = redact_card_numbers(sms.text)
        customer = self._repository.customer(sms.sender, consistent=True)
        work = UnitOfWork()
        if customer is None:
            customer = Customer(customer_pk(sms.sender), PROFILE, number=sms.sender, created_at=now)
            customer.from_state = sms.from_state
            customer.last_inbound_at = now
            work.put_new(Item.CUSTOMER, customer)
            is_new_customer = True
        else:
            actions = [Customer.last_inbound_at.set(now)]
            if sms.from_state:
                actions.append(Customer.from_state.set(sms.from_state))
            work.update(Item.CUSTOMER, customer, actions, Customer.consent_version == customer.consent_version)
            is_new_customer = False

        classification = self._classify(text, opt_out_type=sms.opt_out_type, auto_reply_keywords=self._keywords)
        if (
            classification.language
            and classification.language != customer.language
            and not customer.language_chosen_by
            and not (classification.keyword in CARRIER_KEYWORDS and not classification.natural_language)
        ):
            # Replies go out in the language the customer writes in; an unclear text or a carrier
            # keyword (STOP, START, HELP) keeps the last, and a language an agent chose for them stays.
            if is_new_customer:
                customer.language = classification.language
            else:
                work.update(Item.CUSTOMER, customer, [Customer.language.set(classification.language)])
        current = self._current_conversation(customer)
        routing = route(classification, text, customer, current, now, self._reopen_window)
        open_conversation, kind = routing.open_conversation, routing.kind

        if kind in {Route.OPT_OUT, Route.OPT_OUT_WITH_COMPLAINT}:
            result = self._opt_out(work, customer, sms, text, classification, now)
            if kind is Route.OPT_OUT_WITH_COMPLAINT:
                # "Stop texting me and refund my money": opted out, and the complaint is kept.
                note = "The customer opted out in this text: no automatic replies. The complaint is kept for an agent."
                return self._keep_for_agent(
                    work,
                    customer,
                    open_conversation,
                    sms,
                    text,
                    classification,
                    now,
                    collisions,
                    is_new_customer,
                    note=note,
                    opted_out=True,
                )
            self._store(work, customer_pk(sms.sender), sms, text, now, purpose="opt_out")
            return self._commit(work, InboundOutcome.OPTED_OUT, customer.open_conversation, result)
        if kind is Route.OPT_IN_REQUESTED:
            # Re-subscription only by an explicit keyword (START, UNSTOP, YES): a request in
            # words is kept on record, changes nothing, and is answered with how to confirm.
            self._store(work, customer_pk(sms.sender), sms, text, now, purpose="opt_in_request")
            self._announce_request(work, EventType.OPT_IN_REQUESTED, customer, sms, now)
            return self._commit(work, InboundOutcome.OPT_IN_REQUESTED, None, classification)
        if kind is Route.OPT_IN:
            return self._opt_in(work, customer, sms, text, classification, now)
        if kind is Route.HELP:
            self._store(work, customer_pk(sms.sender), sms, text, now, purpose="help")
            answered = twilio_answered(sms, self._twilio_answers)
            self._announce_request(work, EventType.HELP_REQUESTED, customer, sms, now, twilio_answered=answered)
            return self._commit(work, InboundOutcome.HELP, None, classification)

        if kind is Route.POSSIBLE_OPT_OUT:
            # Maybe an opt-out, maybe not: no automatic reply, the conversation is flagged, and
            # nothing is sent to the number until an agent confirms the opt-out or clears it.
            hold = [Customer.consent_hold.set(ConsentHold.POSSIBLE_OPT_OUT), Customer.consent_version.add(1)]
            if not customer.consent_hold:  # a second such text while one waits raises nothing new
                work.publish(
                    DomainEvent(
                        EventType.POSSIBLE_OPT_OUT_RAISED,
                        now,
                        sms.sender,
                        open_conversation.reference if open_conversation else None,
                        {"message_sid": sms.message_sid},
                    )
                )
            if is_new_customer:
                customer.consent_hold, customer.consent_version = (
                    ConsentHold.POSSIBLE_OPT_OUT,
                    (customer.consent_version or 0) + 1,
                )
            else:
                work.update(Item.CUSTOMER, customer, hold)
            note = (
                "Possible opt-out: no automatic reply; "
                "nothing is sent until an agent confirms the opt-out or clears it."
            )
            return self._keep_for_agent(
                work,
                customer,
                open_conversation,
                sms,
                text,
                classification,
                now,
                collisions,
                is_new_customer,
                note=note,
                possible_opt_out=True,
            )

        if kind is Route.SATISFACTION and open_conversation is not None and routing.score is not None:
            return self._satisfaction(work, customer, open_conversation, sms, text, routing.score, classification, now)
        if kind is Route.CALL_REQUESTED:
            return self._open(
                work,
                customer,
                sms,
                text,
                classification,
                now,
                collisions,
                is_new_customer,
                callback=True,
                note="The customer asked for a call (CALL).",
            )
        if kind is Route.KEYWORD and classification.auto_reply_keyword:
            thread = conversation_pk(open_conversation.reference) if open_conversation else customer_pk(sms.sender)
            reference = open_conversation.reference if open_conversation else None
            self._store(work, thread, sms, text, now, purpose="keyword", conversation=reference)
            work.publish(
                DomainEvent(
                    EventType.KEYWORD_RECEIVED,
                    now,
                    sms.sender,
                    reference,
                    {"keyword": classification.auto_reply_keyword, "message_sid": sms.message_sid},
                )
            )
            if classification.auto_reply_keyword == "CALL" and open_conversation is not None:
                work.update(Item.CONVERSATION, open_conversation, [Conversation.callback_requested.set(True)])
            return self._commit(work, InboundOutcome.KEYWORD, reference, classification)

        if kind is Route.ADD_TO_CONVERSATION and open_conversation is not None:
            return self._add_to_conversation(work, customer, open_conversation, sms, text, classification, now)
        if routing.close_first is not None:
            close_for_good(work, routing.close_first, now)  # resolved too long ago: this text is a new case
        return self._open(work, customer, sms, text, classification, now, collisions, is_new_customer)

    def _current_conversation(self, customer: Customer) -> Conversation | None:
        if not customer.open_conversation:
            return None
        conversation = self._repository.conversation(customer.open_conversation, consistent=True)
        if conversation is None or conversation.status == Status.CLOSED:
            return None
        return conversation

    # ------------------------------------------------------------------ outcomes

    def _opt_out(
        self, work: UnitOfWork, customer: Customer, sms: InboundSms, text: str, c: Classification, now: datetime
    ) -> Classification:
        """Record the opt-out in ``work`` (the caller stores the text where it belongs)."""
        if sms.opt_out_type == "STOP":
            source = ConsentSource.TWILIO_OPT_OUT_TYPE
        elif c.natural_language:
            source = ConsentSource.NATURAL_LANGUAGE
        else:
            source = ConsentSource.KEYWORD
        # When Twilio answered the keyword itself, smsdesk sends no confirmation of its own.
        evidence = ConsentEvidence(source, c.reason, text, sms.message_sid, c.keyword)
        opt_out(work, customer, evidence, now, confirmation_needed=not twilio_answered(sms, self._twilio_answers))
        return c

    def _opt_in(
        self, work: UnitOfWork, customer: Customer, sms: InboundSms, text: str, c: Classification, now: datetime
    ) -> Received:
        source = ConsentSource.TWILIO_OPT_OUT_TYPE if sms.opt_out_type == "START" else ConsentSource.KEYWORD
        self._store(work, customer_pk(sms.sender), sms, text, now, purpose="opt_in")
        evidence = ConsentEvidence(source, None, text, sms.message_sid, c.keyword)
        opt_in(work, customer, evidence, now, twilio_answered=twilio_answered(sms, self._twilio_answers))
        return self._commit(work, InboundOutcome.OPTED_IN, customer.open_conversation, c)

    def _satisfaction(
        self,
        work: UnitOfWork,
        customer: Customer,
        conversation: Conversation,
        sms: InboundSms,
        text: str,
        score: int,
        c: Classification,
        now: datetime,
    ) -> Received:
        self._store(
            work, conversation_pk(conversation.reference), sms, text, now, "satisfaction", conversation.reference
        )
        record_satisfaction(work, customer, conversation, score, now, sms.message_sid)
        return self._commit(work, InboundOutcome.SATISFACTION, conversation.reference, c)

    def _keep_for_agent(
        self,
        work: UnitOfWork,
        customer: Customer,
        open_conversation: Conversation | None,
        sms: InboundSms,
        text: str,
        c: Classification,
        now: datetime,
        collisions: int,
        is_new_customer: bool,
        *,
        note: str,
        opted_out: bool = False,
        possible_opt_out: bool = False,
    ) -> Received:
        """A text no automatic reply may answer, kept for an agent with its note: added to the open
        conversation, or opening one."""
        if open_conversation is not None:
            return self._add_to_conversation(
                work,
                customer,
                open_conversation,
                sms,
                text,
                c,
                now,
                note=note,
                opted_out=opted_out,
                possible_opt_out=possible_opt_out,
            )
        return self._open(
            work,
            customer,
            sms,
            text,
            c,
            now,
            collisions,
            is_new_customer,
            note=note,
            opted_out=opted_out,
            possible_opt_out=possible_opt_out,
        )

    def _add_to_conversation(
        self,
        work: UnitOfWork,
        customer: Customer,
        conversation: Conversation,
        sms: InboundSms,
        text: str,
        c: Classification,
        now: datetime,
        *,
        note: str | None = None,
        opted_out: bool = False,
        possible_opt_out: bool = False,
    ) -> Received:
        reference = conversation.reference
        self._store(work, conversation_pk(reference), sms, text, now, "complaint", reference)
        customer_wrote(
            work,
            conversation,
            c,
            now,
            opted_out=opted_out or customer.consent == ConsentState.OPTED_OUT,
            note=note,
            possible_opt_out=possible_opt_out,
        )
        work.update(Item.CUSTOMER, customer, [], Customer.open_conversation == reference)
        work.publish(
            DomainEvent(
                EventType.CUSTOMER_MESSAGE_RECEIVED,
                now,
                sms.sender,
                reference,
                {"text": text, "message_sid": sms.message_sid, "escalate": c.escalate},
            )
        )
        return self._commit(work, InboundOutcome.ADDED_TO_CONVERSATION, reference, c)

    def _open(
        self,
        work: UnitOfWork,
        customer: Customer,
        sms: InboundSms,
        text: str,
        c: Classification,
        now: datetime,
        collisions: int,
        is_new_customer: bool,
        *,
        note: str | None = None,
        opted_out: bool = False,
        possible_opt_out: bool = False,
        callback: bool = False,
    ) -> Received:
        reference = new_reference(collisions)
        last_opened = customer.last_conversation_opened_at
        repeat = last_opened is not None and now - last_opened <= REPEAT_WINDOW
        # The customer's history: the third complaint within 30 days is urgent.
        recent = [at for at in customer.recent_complaints or [] if now - from_iso(at) <= REPEAT_WINDOW]
        conversation = new_conversation(
            reference,
            customer=sms.sender,
            classification=c,
            summary=summary_of(text, sms.num_media),
            now=now,
            repeat=repeat,
            repeat_urgent=len(recent) >= 2,
            opted_out=opted_out or customer.consent == ConsentState.OPTED_OUT,
            note=note,
            possible_opt_out=possible_opt_out,
        )
        conversation.callback_requested = callback
        work.put_new(Item.CONVERSATION, conversation)
        self._store(work, conversation_pk(reference), sms, text, now, "keyword" if callback else "complaint", reference)
        if is_new_customer:
            customer.open_conversation = reference
            customer.conversation_count = 1
            customer.last_conversation_opened_at = now
            customer.recent_complaints = [to_iso(now)]
            customer.conversations = [reference]
        else:
            previous = customer.open_conversation
            work.update(
                Item.CUSTOMER,
                customer,
                [
                    Customer.open_conversation.set(reference),
                    Customer.conversation_count.add(1),
                    Customer.last_conversation_opened_at.set(now),
                    *([Customer.previous_conversation_opened_at.set(last_opened)] if last_opened else []),
                    Customer.recent_complaints.set([*recent, to_iso(now)]),
                    Customer.conversations.set(
                        [*(customer.conversations or [])[-(KEPT_CONVERSATIONS - 1) :], reference]
                    ),
                ],
                Customer.open_conversation == previous if previous else Customer.open_conversation.does_not_exist(),
            )
        data = {
            "reference": reference,
            "text": text,
            "category": conversation.category,
            "priority": conversation.priority,
            "escalation_reasons": list(conversation.escalation_reasons),
            "repeat_complaint": repeat,
            "message_sid": sms.message_sid,
            "num_media": sms.num_media,
            # The customer's two complaints before this one (repeat complainants, docs/metrics.md).
            "previous_opened_at": to_iso(last_opened) if last_opened else None,
            "earlier_opened_at": (
                to_iso(customer.previous_conversation_opened_at)
                if last_opened and customer.previous_conversation_opened_at
                else None
            ),
        }
        if callback:  # answered by the CALL reply, not an acknowledgement
            keyword = {"keyword": "CALL", "message_sid": sms.message_sid}
            work.publish(DomainEvent(EventType.KEYWORD_RECEIVED, now, sms.sender, reference, keyword))
            return self._commit(work, InboundOutcome.KEYWORD, reference, c)
        work.publish(DomainEvent(EventType.COMPLAINT_RECEIVED, now, sms.sender, reference, data))
        if conversation.priority == Priority.URGENT:
            work.publish(
                DomainEvent(
                    EventType.CONVERSATION_ESCALATED,
                    now,
                    sms.sender,
                    reference,
                    {"reasons": list(conversation.escalation_reasons), "category": conversation.category},
                )
            )
        return self._commit(work, InboundOutcome.NEW_CONVERSATION, reference, c)

    # ------------------------------------------------------------------ helpers

    def _store(
        self,
        work: UnitOfWork,
        thread: str,
        sms: InboundSms,
        text: str,
        now: datetime,
        purpose: str,
        conversation: str | None = None,
    ) -> None:
        key = f"in-{sms.message_sid}"
        message = Message(
            thread,
            message_sk(key),
            key=key,
            direction="inbound",
            customer=sms.sender,
            conversation=conversation,
            body=text,
            purpose=purpose,
            author="customer",
            created_at=now,
            updated_at=now,
            status=MessageStatus.RECEIVED,
            twilio_sid=sms.message_sid,
            num_media=sms.num_media,
        )
        if sms.media:  # recorded as they arrived; the media copy function fetches them
            message.media = attachments_on_arrival(sms.media)
            work.publish(media_received(sms.sender, conversation, key, len(sms.media), now))
        work.put_new(Item.MESSAGE, message)
        work.put_new(Item.SID, MessageSid(*sid_key(sms.message_sid), message_pk=thread, message_sk=message.sk))

    def _announce_request(
        self,
        work: UnitOfWork,
        kind: EventType,
        customer: Customer,
        sms: InboundSms,
        now: datetime,
        *,
        twilio_answered: bool = False,
    ) -> None:
        """HelpRequested / OptInRequested: the consent function answers it (one answer per text),
        unless Twilio already did."""
        data = {"message_sid": sms.message_sid, "twilio_answered": twilio_answered}
        work.publish(DomainEvent(kind, now, sms.sender, customer.open_conversation, data))

    def _commit(self, work: UnitOfWork, outcome: InboundOutcome, reference: str | None, c: Classification) -> Received:
        self._repository.commit(work)
        return Received(outcome, reference, c, tuple(work.events))
