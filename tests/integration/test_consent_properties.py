"""Compliance rule 2, as a property: nothing but the single confirmation ever reaches an opted-out
number (HELP answers apart, which CTIA requires), and START brings back exactly one confirmation.

Hypothesis drives a few customers through random interleavings of what happens in production:
texts (complaints, STOP and its cousins, natural-language opt-outs, START, HELP, REFUND/STATUS...,
survey scores, webhook retries), the domain events those texts write to the outbox delivered to
the functions that subscribe to them (in any order, late, and twice), follow-up schedules firing
(late, and again after they were cancelled), agents replying, resolving, reopening and recording
opt-outs, and the clock moving on. Everything runs on the real services, wired as the handlers
wire them, against moto, with Twilio intercepted at the HTTP layer.

Twilio is the real API's behaviour, including its default opt-out handling: after one of its own
STOP keywords it refuses (21610) every message to the number until START, and a STOP whose webhook
never reached smsdesk is learnt from that 21610.

Then every request Twilio received is compared with the consent history the table keeps (the
audit trail, not a model of it): between an opt-out and the next opt-in a number may be sent the
opt-out confirmation (once, within 5 minutes, and only if Twilio did not answer the keyword itself:
exactly one if the consent function handled the opt-out in time) and answers to HELP texts it sent,
nothing else; each START is confirmed once if handled while the number was in (unless Twilio still
blocks the number: then its 21610 fails the confirmation and opts the number out), and neither a
START nor a HELP that Twilio answered itself gets an answer from smsdesk; a message refused while
opted out stays refused, START or not.

Each example runs on its own moto and Twilio interceptor (about 0.2 s to set up; one moto for all
examples would keep every table copy its transactions make, gigabytes over a long run). The
property is checked once, at the end of each example.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import boto3
import responses
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from moto import mock_aws

from smsdesk import templates
from smsdesk.agent_desk import AgentDesk
from smsdesk.agents import Actor, Group
from smsdesk.auto_replies import AutoResponder, auto_reply_keywords
from smsdesk.clock import ManualClock, to_iso
from smsdesk.config import BusinessSettings
from smsdesk.consent_processing import ConsentProcessor
from smsdesk.errors import ConversationNotFound, InvalidTransition
from smsdesk.events import EventType, ReceivedEvent
from smsdesk.follow_up_runner import FollowUpRunner
from smsdesk.follow_ups import ReplyPromises, ScheduledFollowUp
from smsdesk.inbound import InboundService
from smsdesk.send_gateway import CONFIRMATION_WINDOW
from smsdesk.table import bind_table, conversation_pk, customer_pk
from smsdesk.twilio_webhook import InboundSms
from tests.integration.conftest import (
    ACCOUNT_SID,
    API_KEY,
    AUTH_TOKEN,
    BUSINESS_NUMBER,
    ENVIRON,
    MONDAY_10AM_NEW_YORK,
    build_runtime,
)
from tests.support.template import table_definition, template
from tests.support.twilio_http import MESSAGES, FakeTwilioApi

NUMBERS = ("+12125550140", "+13105550141")  # New York, Los Angeles

# What customers text, by what it is (our labels, not the classifier's).
COMPLAINTS = (
    "My order 4432 arrived broken",
    "stop charging my card twice",
    "the app won't stop freezing",
    "I'm calling my attorney",
    "Please cancel order 5521, I was charged twice",
    "REFUND",
    "STATUS",
    "HOURS",
    "CALL",
    "1",
    "4",
    "5",
)
OPT_OUTS = (
    "STOP",
    "stop",
    "Unsubscribe",
    "CANCEL",
    "quit",
    "BAJA",
    "arret",
    "please stop texting me",
    "take me off your list",
    "wrong number, remove me",
    "no more texts",
    "Stop - not interested",
)
OPT_INS = ("START", "unstop", "YES", "opt me back in")
HELPS = ("HELP", "info", "ayuda")
TEXTS = (
    [("complaint", t) for t in COMPLAINTS]
    + [("opt_out", t) for t in OPT_OUTS]
    + [("opt_in", t) for t in OPT_INS]
    + [("help", t) for t in HELPS]
)
# Twilio's default opt-out handling: its own keywords, matched on the whole (trimmed) text.
TWILIO_STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
TWILIO_START_WORDS = {"START", "UNSTOP", "YES"}
TWILIO_HELP_WORDS = {"HELP", "INFO"}

SUPERVISOR = Actor("sam@acme.example", frozenset({Group.AGENTS, Group.SUPERVISORS}))


def subscribed(function: str) -> set[str]:
    """The detail-types template.yaml's EventBridge rules deliver to ``function``."""
    events = template()["Resources"][function]["Properties"]["Events"]
    return {
        detail_type
        for source in events.values()
        if source["Type"] == "EventBridgeRule"
        for detail_type in source["Properties"]["Pattern"]["detail-type"]
    }


# The events smsdesk's own functions react to, as deployed (the others are for other systems).
DELIVERED = subscribed("AcknowledgementFunction") | subscribed("ConsentFunction")

# Kept small for `make test`; SMSDESK_CONSENT_EXAMPLES=500 explores far more interleavings.
EXAMPLES = int(os.environ.get("SMSDESK_CONSENT_EXAMPLES", "10"))
# Shrinking a failure takes minutes here (each step is several moto calls): by default a failure
# is reported as found (the assertion says what reached whom, when) and saved in the Hypothesis
# database; SMSDESK_CONSENT_SHRINK=1 replays it and shrinks it to a minimal sequence.
PHASES = tuple(Phase) if os.environ.get("SMSDESK_CONSENT_SHRINK") else (Phase.explicit, Phase.reuse, Phase.generate)

DELAYS = [timedelta(minutes=m) for m in (1, 4, 6, 45)] + [timedelta(hours=h) for h in (3, 11, 24)]


@dataclass
class TwilioWithOptOutHandling(FakeTwilioApi):
    """Twilio's Messages API as the property sees it, with Twilio's default opt-out handling:
    once a customer texts one of Twilio's own STOP keywords, every message to that number is
    refused with 21610 until the customer texts START/UNSTOP/YES (its own keywords only: an opt-in
    in words does not lift the block, for Twilio as for smsdesk). Every request is kept, refused or
    not: the property is over what smsdesk *tried* to send, a stricter thing than what arrived."""

    blocked: set[str] = field(default_factory=set)
    requests: list[dict[str, str]] = field(default_factory=list)
    refused: list[bool] = field(default_factory=list)  # per request: answered 21610

    def _create(self, request):
        form = dict(parse_qsl(request.body if isinstance(request.body, str) else request.body.decode()))
        self.requests.append(form)
        self.refused.append(form["To"] in self.blocked)
        if form["To"] in self.blocked:
            self.attempts += 1
            error = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
            return 400, {}, json.dumps({**error, "more_info": ""})
        return super()._create(request)


@dataclass(frozen=True)
class Sent:
    """A request Twilio received: when (the instant of the step that made it), to whom, what, and
    whether Twilio refused it (21610: the number is blocked at Twilio or the carrier)."""

    at: datetime
    to: str
    body: str
    refused: bool = False


@dataclass(frozen=True)
class Texted:
    at: datetime
    sms: InboundSms
    kind: str


@dataclass
class Schedule:
    at: datetime
    payload: dict
    live: bool = True  # still in Scheduler: neither fired nor cancelled


class ConsentUnderLoad(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(MONDAY_10AM_NEW_YORK)
        self.environ = dict(ENVIRON)
        self.texts: list[Texted] = []
        self.pending: list[tuple[str, dict]] = []  # written to the outbox, not delivered yet
        self.delivered: list[tuple[str, dict]] = []
        self.first_delivery: dict[str, datetime] = {}  # event_id -> when it was first handled
        self.blocked_when_handled: dict[str, bool] = {}  # event_id -> Twilio blocked its customer then
        self.events: list[tuple[str, dict]] = []
        self.schedules: dict[str, Schedule] = {}
        self.recorded: list[Sent] = []
        self.agent_opt_outs: list[tuple[str, datetime]] = []
        self.started = False
        self.ids = 0

    # ------------------------------------------------------------------ the deployment

    @initialize(
        twilio_answers_keywords=st.booleans(),
        advanced_opt_out=st.booleans(),
        first_texts=st.tuples(*[st.sampled_from(TEXTS) for _ in NUMBERS]),
    )
    def deploy(self, twilio_answers_keywords: bool, advanced_opt_out: bool, first_texts: tuple) -> None:
        """One deployment: TwilioAnswersOptOutKeywords on or off; Advanced Opt-Out (OptOutType on
        the webhook) only where Twilio handles the keywords. Then every customer texts once."""
        environ = self.environ
        environ["TWILIO_ANSWERS_OPT_OUT_KEYWORDS"] = "true" if twilio_answers_keywords else "false"
        self.twilio_handles_keywords = twilio_answers_keywords
        self.advanced_opt_out = twilio_answers_keywords and advanced_opt_out
        # A fresh AWS for each example (~0.2 s): moto keeps every object it ever made (each
        # transaction copies the table) until its mock stops, so one moto for all would grow to GBs.
        # Twilio is intercepted after it, as in tests/integration/conftest.py (moto patches
        # requests through `responses` too; the last one started answers).
        self.aws = mock_aws()
        self.aws.start()
        self.http = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.http.start()
        self.started = True
        self.twilio = TwilioWithOptOutHandling(self.http)
        self.http.add_callback(responses.POST, MESSAGES, callback=self.twilio._create)
        self.http.add_callback(responses.GET, MESSAGES, callback=self.twilio._list)
        boto3.client("secretsmanager").create_secret(
            Name=environ["TWILIO_SECRET_ID"],
            SecretString=json.dumps({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
        )
        boto3.client("secretsmanager").create_secret(Name=environ["TWILIO_API_KEY_SECRET_ID"], SecretString=API_KEY)
        boto3.client("dynamodb").create_table(TableName=environ["TABLE_NAME"], **table_definition())
        boto3.client("scheduler").create_schedule_group(Name=environ["SCHEDULE_GROUP_NAME"])
        bind_table(environ["TABLE_NAME"], "us-east-1")
        self.dynamodb = boto3.client("dynamodb")
        self.seen_events: set[str] = set()

        # Wired by smsdesk.runtime.messaging_runtime, as the functions are, on a ManualClock.
        clock = self.clock
        self.business = business = BusinessSettings.from_environ(environ)
        runtime = build_runtime(environ, business, clock)
        self.repository = repository = runtime.repository
        self.follow_ups = follow_ups = runtime.follow_ups
        gateway = runtime.gateway
        self.inbound = InboundService(
            repository,
            clock,
            auto_reply_keywords=auto_reply_keywords(business),
            twilio_answers_opt_out_keywords=business.twilio_answers_opt_out_keywords,
        )
        self.responder = AutoResponder(repository, gateway, follow_ups, clock, business)
        self.processor = ConsentProcessor(gateway, follow_ups, business)
        self.runner = FollowUpRunner(repository, gateway, clock, business)
        self.promises = ReplyPromises(repository, follow_ups, clock, business)
        self.desk = AgentDesk(repository, gateway, follow_ups, clock, business)
        # Each in every language smsdesk answers in ("ayuda" is answered in Spanish).
        languages = sorted(templates.LANGUAGES)
        self.opt_out_confirmation = {
            templates.opt_out_confirmation(business=business.name, language=x) for x in languages
        }
        self.opt_in_confirmation = {
            templates.opt_in_confirmation(business=business.name, language=x) for x in languages
        }
        self.help_reply = {
            templates.help_reply(business=business.name, contact=business.support_contact, language=x)
            for x in languages
        }
        self.opt_in_instructions = {
            templates.opt_in_instructions(business=business.name, language=x) for x in languages
        }
        for customer, (kind, body) in zip(NUMBERS, first_texts, strict=True):
            self._text(customer, kind, body)

    def teardown(self) -> None:
        # The property is over the whole run; checked once at the end (reading the consent history
        # after every step would triple the run time), unless a step has already failed.
        try:
            if self.started and sys.exc_info()[0] is None:
                self._observe()
                self.only_the_confirmation_reaches_an_opted_out_number()
                self._describe_the_run()
        finally:
            if self.started:
                self.http.stop()
                self.http.reset()
                self.aws.stop()

    # ------------------------------------------------------------------ steps

    def _tick(self) -> None:
        # Every step happens at its own instant, one second after the previous one, so that the
        # consent history and Twilio's requests are ordered by time alone. A step that does several
        # things (everything_due_happens) ticks before each: when a delivery's send is refused
        # with 21610 (a carrier opt-out), the next delivery must be seen to come after that
        # opt-out, not at the same instant.
        self.clock.advance(timedelta(seconds=1))

    def _next_id(self, prefix: str) -> str:
        """A MessageSid or an agent's request id: unique, and the same on a replay, unlike a uuid."""
        self.ids += 1
        return f"{prefix}{self.ids:032x}"

    def _observe(self) -> None:
        """After a step: what Twilio received, the new outbox events, the schedules in Scheduler."""
        now = self.clock.now()
        for form, refused in list(zip(self.twilio.requests, self.twilio.refused, strict=True))[len(self.recorded) :]:
            self.recorded.append(Sent(now, form["To"], form["Body"], refused))
        # The outbox: every event item the table holds, exactly what the relay publishes (its detail
        # is the JSON the change's transaction wrote). A new one is waiting to be delivered.
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.environ["TABLE_NAME"],
            FilterExpression="#kind = :event",
            ExpressionAttributeNames={"#kind": "kind"},
            ExpressionAttributeValues={":event": {"S": "event"}},
            ConsistentRead=True,
        )
        new = [
            (item["detail_type"]["S"], json.loads(item["detail"]["S"]))
            for page in pages
            for item in page["Items"]
            if item["pk"]["S"] not in self.seen_events
        ]
        # In a deterministic order, so that a replayed example (Hypothesis shrinking, or the
        # database) picks the same event for the same `i`: not by the event's key, a random uuid.
        for kind, detail in sorted(new, key=_outbox_order):
            self.seen_events.add(f"EVENT#{detail['event_id']}")
            self.events.append((kind, detail))
            if kind in DELIVERED:
                self.pending.append((kind, detail))
        scheduler = boto3.client("scheduler")
        group = self.environ["SCHEDULE_GROUP_NAME"]
        listed = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
        for name, schedule in self.schedules.items():
            schedule.live = name in listed
        found = []
        for name in listed - self.schedules.keys():
            schedule = scheduler.get_schedule(Name=name, GroupName=group)
            at = datetime.fromisoformat(schedule["ScheduleExpression"][3:-1]).replace(tzinfo=UTC)
            found.append((name, Schedule(at, json.loads(schedule["Target"]["Input"]))))
        # Kept in the order they were seen, each step's deterministically: a schedule's name holds
        # a random reference code.
        for name, schedule in sorted(found, key=lambda f: _schedule_order(f[1])):
            self.schedules[name] = schedule

    def _text(self, customer: str, kind: str, body: str) -> None:
        self._tick()
        word = body.strip().upper()
        opt_out_type = None
        if self.advanced_opt_out:
            opt_out_type = (
                "STOP"
                if word in TWILIO_STOP_WORDS
                else "START"
                if word in TWILIO_START_WORDS
                else "HELP"
                if word in TWILIO_HELP_WORDS
                else None
            )
        sms = InboundSms(
            message_sid=self._next_id("SM"),
            account_sid=ACCOUNT_SID,
            sender=customer,
            recipient=BUSINESS_NUMBER,
            text=body,
            num_media=0,
            from_state=None,
            opt_out_type=opt_out_type,
        )
        if self.twilio_handles_keywords:  # Twilio filters the number before smsdesk even hears of it
            if word in TWILIO_STOP_WORDS:
                self.twilio.blocked.add(customer)
            elif word in TWILIO_START_WORDS:
                self.twilio.blocked.discard(customer)
        self.inbound.receive(sms)
        self.texts.append(Texted(self.clock.now(), sms, kind))
        self._observe()

    @rule(customer=st.sampled_from(NUMBERS), body=st.sampled_from(COMPLAINTS))
    def customer_complains(self, customer: str, body: str) -> None:
        self._text(customer, "complaint", body)

    @rule(customer=st.sampled_from(NUMBERS), body=st.sampled_from(OPT_OUTS))
    def customer_opts_out(self, customer: str, body: str) -> None:
        self._text(customer, "opt_out", body)

    @rule(customer=st.sampled_from(NUMBERS), body=st.sampled_from(OPT_INS))
    def customer_opts_in(self, customer: str, body: str) -> None:
        self._text(customer, "opt_in", body)

    @rule(customer=st.sampled_from(NUMBERS), body=st.sampled_from(HELPS))
    def customer_asks_for_help(self, customer: str, body: str) -> None:
        self._text(customer, "help", body)

    @precondition(lambda self: self.twilio_handles_keywords)
    @rule(customer=st.sampled_from(NUMBERS))
    def a_stop_never_reaches_smsdesk(self, customer: str) -> None:
        """The customer texts STOP; Twilio answers it and blocks the number, but the webhook is lost:
        smsdesk learns of it from the 21610 of its next send."""
        self._tick()
        self.twilio.blocked.add(customer)

    @precondition(lambda self: self.texts)
    @rule(i=st.integers(min_value=0, max_value=1000))
    def twilio_retries_a_webhook(self, i: int) -> None:
        self._tick()
        self.inbound.receive(self.texts[i % len(self.texts)].sms)
        self._observe()

    def _deliver(self, kind: str, detail: dict) -> None:
        if detail["event_id"] not in self.first_delivery:
            self.first_delivery[detail["event_id"]] = self.clock.now()
            self.blocked_when_handled[detail["event_id"]] = detail["customer"] in self.twilio.blocked
        HANDLERS[kind](self, detail)

    @precondition(lambda self: self.pending)
    @rule(i=st.integers(min_value=0, max_value=1000))
    def deliver_an_event(self, i: int) -> None:
        """EventBridge delivers one of the waiting events: not necessarily the oldest."""
        self._tick()
        kind, detail = self.pending.pop(i % len(self.pending))
        self._deliver(kind, detail)
        self.delivered.append((kind, detail))
        self._observe()

    @rule()
    def everything_due_happens(self) -> None:
        """The usual case: EventBridge delivers what is waiting, in order, and the schedules that
        are due fire."""
        while self.pending:
            self._tick()  # each delivery at its own instant too: see _tick
            kind, detail = self.pending.pop(0)
            self._deliver(kind, detail)
            self.delivered.append((kind, detail))
            self._observe()
        for schedule in self._due(live=True):
            self._tick()
            self._fire(schedule)

    @precondition(lambda self: self.delivered)
    @rule(i=st.integers(min_value=0, max_value=1000))
    def redeliver_an_event(self, i: int) -> None:
        """At-least-once: an event already handled arrives again, maybe much later."""
        self._tick()
        self._deliver(*self.delivered[i % len(self.delivered)])
        self._observe()

    def _due(self, *, live: bool) -> list[Schedule]:
        now = self.clock.now()
        return sorted((s for s in self.schedules.values() if s.at <= now and s.live is live), key=lambda s: s.at)

    @precondition(lambda self: self._due(live=True))
    @rule(i=st.integers(min_value=0, max_value=1000))
    def a_schedule_fires(self, i: int) -> None:
        """A due schedule fires (maybe late), then deletes itself (ActionAfterCompletion DELETE)."""
        self._tick()
        due = self._due(live=True)
        self._fire(due[i % len(due)])

    def _fire(self, schedule: Schedule) -> None:
        self.runner.run(ScheduledFollowUp.from_payload(schedule.payload))
        self.follow_ups._scheduler.cancel(schedule.payload["name"])
        self._observe()

    @precondition(lambda self: self._due(live=False))
    @rule(i=st.integers(min_value=0, max_value=1000))
    def a_schedule_fires_again(self, i: int) -> None:
        """An invocation retried by Scheduler, or one that was already on its way when the opt-out
        cancelled its schedule: cancelling is hygiene, the gateway is the safeguard."""
        self._tick()
        done = self._due(live=False)
        self.runner.run(ScheduledFollowUp.from_payload(done[i % len(done)].payload))
        self._observe()

    def _conversation_of(self, customer: str) -> str | None:
        found = self.repository.customer(customer)
        if found is not None and found.open_conversation:
            return found.open_conversation
        opened = [
            d["conversation"] for k, d in self.events if k == EventType.COMPLAINT_RECEIVED and d["customer"] == customer
        ]
        return opened[-1] if opened else None

    @rule(customer=st.sampled_from(NUMBERS), action=st.sampled_from(["reply", "resolve", "reopen"]))
    def an_agent_acts(self, customer: str, action: str) -> None:
        self._tick()
        reference = self._conversation_of(customer)
        if reference is None:
            return
        try:
            if action == "reply":
                request_id = self._next_id("request-")
                self.desk.reply(reference, "We have shipped a replacement.", agent="dana", request_id=request_id)
            elif action == "resolve":
                self.desk.resolve(reference, agent="dana")
            else:
                self.desk.reopen(reference, agent="dana")
        except InvalidTransition:
            pass  # the agent API answers 409: nothing changed
        self._observe()

    @rule(customer=st.sampled_from(NUMBERS))
    def an_agent_records_an_opt_out(self, customer: str) -> None:
        """The customer said so on the phone."""
        self._tick()
        try:
            self.desk.record_opt_out(customer, actor=SUPERVISOR, reason="asked on the phone")
        except ConversationNotFound:
            return  # never texted: the API answers 404
        self.agent_opt_outs.append((customer, self.clock.now()))
        self._observe()

    @rule(delay=st.sampled_from(DELAYS))
    def time_passes(self, delay: timedelta) -> None:
        self.clock.advance(delay)

    # ------------------------------------------------------------------ the property

    def _first_deliveries(self, number: str, kind: str, *, pending: bool) -> list[tuple[str, datetime]]:
        return [
            (d["event_id"], self.first_delivery[d["event_id"]])
            for k, d in self.events
            if k == kind
            and d["customer"] == number
            and d["event_id"] in self.first_delivery
            and (not pending or d.get("confirmation") == "pending")
        ]

    def _revoked_event(self, number: str, at: datetime) -> dict:
        [detail] = [
            d
            for k, d in self.events
            if k == EventType.CONSENT_REVOKED and d["customer"] == number and d["occurred_at"] == to_iso(at)
        ]
        return detail

    def _describe_the_run(self) -> None:
        """What the example exercised (pytest --hypothesis-show-statistics)."""
        refused = [d for k, d in self.events if k == EventType.MESSAGE_REFUSED]
        event(f"opt-outs: {sum(1 for k, _ in self.events if k == EventType.CONSENT_REVOKED)}")
        event(f"confirmations sent: {sum(1 for s in self.recorded if s.body in self.opt_out_confirmation)}")
        event(f"messages refused (opted out): {sum(1 for d in refused if d['reason'] == 'the customer has opted out')}")
        for reason in sorted({d["reason"] for d in refused} - {"the customer has opted out"}):
            event(f"refused: {reason}")
        event(f"Twilio 21610: {len(self.twilio.requests) - len(self.twilio.sent) > 0}")
        refused_starts = [s for s in self.recorded if s.refused and s.body in self.opt_in_confirmation]
        event(f"START confirmation refused (21610): {bool(refused_starts)}")

    def _twilio_answered(self) -> set[str]:
        """The MessageSids of the texts Twilio replied to itself: flagged by Advanced Opt-Out, or
        one of its default keywords alone where its default handling is on."""
        words = TWILIO_STOP_WORDS | TWILIO_START_WORDS | TWILIO_HELP_WORDS
        return {
            t.sms.message_sid
            for t in self.texts
            if t.sms.opt_out_type or (self.twilio_handles_keywords and t.sms.text.strip().upper() in words)
        }

    def only_the_confirmation_reaches_an_opted_out_number(self) -> None:
        for number in NUMBERS:
            sent = [s for s in self.recorded if s.to == number]
            history = sorted(self.repository.consent_history(number), key=lambda r: (r.recorded_at, r.sk))

            # The audit trail is coherent, and holds every opt-out the customer or an agent made.
            state = "subscribed"
            for record in history:
                assert record.previous == state, f"{number}: {record.action} recorded after {record.previous}"
                state = "opted_out" if record.action == "opt_out" else "subscribed"
            opted_out_sids = {r.message_sid for r in history if r.action == "opt_out"}
            for texted in self.texts:
                if texted.kind == "opt_out" and texted.sms.sender == number:
                    assert texted.sms.message_sid in opted_out_sids, f"{texted.sms.text!r} left no consent record"
            for who, at in self.agent_opt_outs:
                if who == number:
                    assert any(r.source == "agent" and r.recorded_at == at for r in history)

            # Each opt-out (a change of state) until the next opt-in.
            for start, end in _opted_out_periods(history):
                during = [s for s in sent if start < s.at < (end or datetime.max.replace(tzinfo=UTC))]
                # Answers the customer asked for: HELP, and how to opt in again.
                answers = self.opt_out_confirmation | self.help_reply | self.opt_in_instructions
                others = [s.body for s in during if s.body not in answers]
                assert others == [], f"{number} opted out at {to_iso(start)} and was sent {others}"
                # Exactly one confirmation if it was due (smsdesk's to send) and a ConsentRevoked
                # reached the consent function within the window; none otherwise. The gateway
                # does not care which ConsentRevoked it is: a late one from an earlier opt-out may
                # carry this one's confirmation.
                confirmations = [s for s in during if s.body in self.opt_out_confirmation]
                revoked = self._revoked_event(number, start)
                in_time = [
                    at
                    for event_id, at in self._first_deliveries(number, EventType.CONSENT_REVOKED, pending=True)
                    if start < at <= start + CONFIRMATION_WINDOW and (end is None or at < end)
                ]
                expected = int(revoked["confirmation"] == "pending" and bool(in_time))
                assert len(confirmations) == expected, (
                    f"{number} opted out at {to_iso(start)} ({revoked['source']}, confirmation "
                    f"{revoked['confirmation']}, handled in time at {[to_iso(at) for at in in_time]}): "
                    f"{len(confirmations)} confirmation(s), expected {expected}"
                )
                assert all(s.at - start <= CONFIRMATION_WINDOW for s in confirmations)

            # A HELP answer only ever answers a HELP the customer texted that Twilio did not answer
            # itself: one per text.
            helps = [
                t.at
                for t in self.texts
                if t.kind == "help" and t.sms.sender == number and t.sms.message_sid not in self._twilio_answered()
            ]
            for answer in (s for s in sent if s.body in self.help_reply):
                answered_before = sum(1 for s in sent if s.body in self.help_reply and s.at <= answer.at)
                assert answered_before <= sum(1 for at in helps if at < answer.at), f"{number}: unasked HELP answer"

            # START: one confirmation per opt-in handled while the number was still in, unless
            # Twilio answered that START itself (then none: the customer has Twilio's). If Twilio
            # still blocks the number (a STOP that never reached smsdesk), it refuses it with 21610:
            # a failed message, not a confirmation, and that 21610 opts the number out then.
            granted = [
                d
                for k, d in self.events
                if k == EventType.CONSENT_GRANTED
                and d["customer"] == number
                and d["message_sid"] not in self._twilio_answered()
            ]
            handled_while_in = [
                d["event_id"]
                for d in granted
                if d["event_id"] in self.first_delivery
                and _state_before(history, self.first_delivery[d["event_id"]]) == "subscribed"
            ]
            tried = [s for s in sent if s.body in self.opt_in_confirmation]
            assert len(tried) == len(handled_while_in), f"{number}: START confirmation tried {len(tried)}x"
            confirmed = [s for s in tried if not s.refused]
            expected = sum(1 for event_id in handled_while_in if not self.blocked_when_handled[event_id])
            assert len(confirmed) == expected, f"{number}: START confirmed {len(confirmed)}x"
            carrier_opt_outs = {r.recorded_at for r in history if r.source == "carrier_21610"}
            for refused in (s for s in tried if s.refused):
                assert refused.at in carrier_opt_outs, f"{number}: a 21610 at {to_iso(refused.at)} did not opt it out"

        # What was refused stays refused, whatever happens later (START included).
        for kind, detail in self.events:
            if kind == EventType.MESSAGE_REFUSED:
                conversation = detail["conversation"]
                thread = conversation_pk(conversation) if conversation else customer_pk(detail["customer"])
                message = self.repository.message(thread, detail["key"])
                assert message is not None and message.status == "refused", (
                    f"{detail['key']} was refused, now {message and message.status}"
                )


# What the acknowledgement and consent functions do with each event (their app.py).
HANDLERS: dict[str, Callable[[ConsentUnderLoad, dict], object]] = {
    EventType.COMPLAINT_RECEIVED: lambda m, d: m.responder.acknowledge(d["conversation"]),
    EventType.KEYWORD_RECEIVED: lambda m, d: m.responder.answer_keyword(
        d["customer"], d["keyword"], d.get("conversation"), d["message_sid"]
    ),
    EventType.SATISFACTION_RECORDED: lambda m, d: m.responder.thank_for_score(
        d["customer"], d["conversation"], int(d["score"]), d["message_sid"]
    ),
    EventType.CONVERSATION_REOPENED: lambda m, d: m.promises.reopened(d["conversation"]),
    EventType.CONSENT_REVOKED: lambda m, d: m.processor.revoked(
        ReceivedEvent.from_detail(EventType.CONSENT_REVOKED, d)
    ),
    EventType.CONSENT_GRANTED: lambda m, d: m.processor.granted(
        ReceivedEvent.from_detail(EventType.CONSENT_GRANTED, d)
    ),
    EventType.HELP_REQUESTED: lambda m, d: m.processor.help_requested(
        ReceivedEvent.from_detail(EventType.HELP_REQUESTED, d)
    ),
    EventType.OPT_IN_REQUESTED: lambda m, d: m.processor.opt_in_requested(
        ReceivedEvent.from_detail(EventType.OPT_IN_REQUESTED, d)
    ),
}


def _outbox_order(event: tuple[str, dict]) -> tuple[str, ...]:
    """When, what, to whom, about which message. Each step (and each delivery) has its own instant,
    so two events tie only if one change announced two of one type about one message: none does."""
    kind, detail = event
    return (detail["occurred_at"], kind, detail["customer"], detail.get("key") or "", detail.get("message_sid") or "")


def _schedule_order(schedule: Schedule) -> tuple[str, ...]:
    payload = schedule.payload
    return (to_iso(schedule.at), payload["customer"], payload["follow_up"], payload.get("key") or "")


def _opted_out_periods(history) -> list[tuple[datetime, datetime | None]]:
    """[(opted out at, opted back in at or None)], from the consent records, in order."""
    periods: list[tuple[datetime, datetime | None]] = []
    start = None
    for record in history:
        if record.action == "opt_out" and start is None:
            start = record.recorded_at
        elif record.action == "opt_in" and start is not None:
            periods.append((start, record.recorded_at))
            start = None
    if start is not None:
        periods.append((start, None))
    return periods


def _state_before(history, at: datetime) -> str:
    """The consent state just before ``at`` (a 21610 can opt the number out at ``at`` itself)."""
    state = "subscribed"
    for record in history:
        if record.recorded_at < at:
            state = "opted_out" if record.action == "opt_out" else "subscribed"
    return state


ConsentUnderLoad.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow],
)
TestNothingButTheConfirmationReachesAnOptedOutNumber = ConsentUnderLoad.TestCase


def test_the_property_delivers_every_event_the_template_routes_to_a_function():
    """If a function starts reacting to a new event, the property must deliver it too."""
    assert set(HANDLERS) == DELIVERED
