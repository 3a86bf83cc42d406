"""How a function assembles smsdesk at cold start, from its environment.

Handlers call these once, at import: configuration is read and validated here (a bad value
fails the cold start, never a customer's message), the table is bound, and the services are
wired to the process clock. Nothing here runs per request. The integration tests assemble the
services here too, with their own clock and a Twilio transport whose back-off does not sleep.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smsdesk.clock import Clock, process_clock
from smsdesk.config import BusinessSettings, MessagingSettings, SchedulerSettings, StorageSettings
from smsdesk.repository import ConversationRepository
from smsdesk.table import bind_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from smsdesk.aws.secrets import TwilioCredentialsProvider
    from smsdesk.follow_ups import FollowUps
    from smsdesk.send_gateway import SendGateway
    from smsdesk.twilio_messages import TwilioMessages

    # Makes the gateway's Twilio transport from the settings and the senders' credentials.
    TransportFactory = Callable[[MessagingSettings, TwilioCredentialsProvider], TwilioMessages]


def business_settings(environ: Mapping[str, str] = os.environ) -> BusinessSettings:
    return BusinessSettings.from_environ(environ)


def repository(environ: Mapping[str, str] = os.environ) -> ConversationRepository:
    bind_table(StorageSettings.from_environ(environ).table_name, environ.get("AWS_REGION"))
    return ConversationRepository()


@dataclass(frozen=True, slots=True)
class MessagingRuntime:
    """What every function that sends needs: the table, the gateway, follow-up scheduling."""

    clock: Clock
    repository: ConversationRepository
    gateway: SendGateway
    follow_ups: FollowUps


def messaging_runtime(
    environ: Mapping[str, str],
    business: BusinessSettings,
    *,
    clock: Clock | None = None,
    transport: TransportFactory | None = None,
) -> MessagingRuntime:
    """The table, follow-ups and the send gateway, on ``clock`` (the process clock unless given),
    sending through ``transport`` (``TwilioMessages`` unless given)."""
    # Imported here, not at the top: the webhooks import this module for repository() alone
    # and never send, so the sending stack stays out of their cold start (make bench).
    from smsdesk.aws.scheduler import Scheduler
    from smsdesk.aws.secrets import TwilioCredentialsProvider, parse_api_key_secret
    from smsdesk.follow_ups import FollowUps
    from smsdesk.send_decision import ProactivePolicy
    from smsdesk.send_gateway import SendGateway
    from smsdesk.twilio_messages import TwilioMessages

    if clock is None:
        clock = process_clock()
    table = repository(environ)
    messaging = MessagingSettings.from_environ(environ)
    credentials = TwilioCredentialsProvider(
        messaging.twilio_api_key_secret_id, clock, max_age=messaging.secret_max_age, parse=parse_api_key_secret
    )
    follow_ups = FollowUps(table, Scheduler(SchedulerSettings.from_environ(environ)), clock)
    proactive = ProactivePolicy(
        quiet_hours=business.quiet_hours,
        cap=business.proactive_cap,
        default_zone=business.hours.time_zone,
    )
    twilio = (transport or TwilioMessages)(messaging, credentials)
    gateway = SendGateway(table, twilio, clock, proactive, follow_ups)
    return MessagingRuntime(clock, table, gateway, follow_ups)
