"""What follows a consent change, asynchronously (the opt-out processing function).

The change itself was recorded by the inbound webhook before Twilio got its answer. Here:

* **opt-out**: every scheduled follow-up for the number is cancelled, and the single confirmation
  is sent (the gateway allows it once, within 5 minutes of the opt-out, and never anything else);
* **opt-in**: one confirmation; nothing that was refused while opted out is re-sent;
* **HELP**: the business name, a support contact, "Msg&data rates may apply" and how to opt out,
  whatever the consent state (an answer the customer asked for, one per HELP text);
* **an opt-in in words**: how to confirm it ("reply START"), whatever the consent state.

Each goes out in the customer's language (remembered on the customer; English when unsure),
except where Twilio already answered the keyword itself (the inbound webhook says so on the
event): then smsdesk sends nothing, so the customer gets one reply, Twilio's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from smsdesk import templates
from smsdesk.events import EventType, ReceivedEvent
from smsdesk.send_gateway import Outbound, Purpose, SendGateway, SendResult
from smsdesk.table import OptOutConfirmation

if TYPE_CHECKING:
    from smsdesk.config import BusinessSettings
    from smsdesk.follow_ups import FollowUps


@dataclass(frozen=True, slots=True)
class ConsentFollowThrough:
    cancelled: tuple[str, ...]
    send: SendResult | None


class ConsentProcessor:
    """Follows a consent event through: one method per event type (see :meth:`follow_through`)."""

    def __init__(self, gateway: SendGateway, follow_ups: FollowUps, business: BusinessSettings) -> None:
        self._gateway = gateway
        self._follow_ups = follow_ups
        self._business = business

    def follow_through(self, event: ReceivedEvent) -> ConsentFollowThrough | None:
        """What ``event`` asks for; None for an event that is not about consent."""
        handle = {
            EventType.CONSENT_REVOKED: self.revoked,
            EventType.CONSENT_GRANTED: self.granted,
            EventType.HELP_REQUESTED: self.help_requested,
            EventType.OPT_IN_REQUESTED: self.opt_in_requested,
        }.get(event.type)
        return handle(event) if handle is not None else None

    def revoked(self, event: ReceivedEvent) -> ConsentFollowThrough:
        cancelled = tuple(self._follow_ups.cancel_all(event.customer))
        if event.confirmation != OptOutConfirmation.PENDING:
            return ConsentFollowThrough(cancelled, None)  # Twilio (or the carrier) answered it
        business = self._business.name
        result = self._gateway.send(
            Outbound(
                to=event.customer,
                purpose=Purpose.OPT_OUT_CONFIRMATION,
                key=f"opt-out-confirmation-{event.event_id}",
                compose=lambda customer: templates.opt_out_confirmation(
                    business=business, language=templates.language_of(customer.language)
                ),
            )
        )
        return ConsentFollowThrough(cancelled, result)

    def granted(self, event: ReceivedEvent) -> ConsentFollowThrough:
        if event.twilio_answered:
            return ConsentFollowThrough((), None)
        business = self._business.name
        result = self._gateway.send(
            Outbound(
                to=event.customer,
                purpose=Purpose.OPT_IN_CONFIRMATION,
                key=f"opt-in-confirmation-{event.message_sid or event.event_id}",
                compose=lambda customer: templates.opt_in_confirmation(
                    business=business, language=templates.language_of(customer.language)
                ),
            )
        )
        return ConsentFollowThrough((), result)

    def help_requested(self, event: ReceivedEvent) -> ConsentFollowThrough:
        if event.twilio_answered:
            return ConsentFollowThrough((), None)
        business, contact = self._business.name, self._business.support_contact
        result = self._gateway.send(
            Outbound(
                to=event.customer,
                purpose=Purpose.HELP,
                key=f"help-{event.message_sid or event.event_id}",
                compose=lambda customer: templates.help_reply(
                    business=business, contact=contact, language=templates.language_of(customer.language)
                ),
            )
        )
        return ConsentFollowThrough((), result)

    def opt_in_requested(self, event: ReceivedEvent) -> ConsentFollowThrough:
        """An opt-in in words ("you can text me again"): consent needs the keyword, so say which."""
        business = self._business.name
        result = self._gateway.send(
            Outbound(
                to=event.customer,
                purpose=Purpose.OPT_IN_INSTRUCTIONS,
                key=f"opt-in-instructions-{event.message_sid or event.event_id}",
                compose=lambda customer: templates.opt_in_instructions(
                    business=business, language=templates.language_of(customer.language)
                ),
            )
        )
        return ConsentFollowThrough((), result)
