"""The agent API (HTTP API, Cognito-token-authorised): the queue, read, reply, note, assign, resolve, reopen.

Powertools' event handler: each route below is also declared in template.yaml (the HTTP API has
no catch-all). A route's signature declares its JSON body, query and headers as typed requests
(smsdesk.agent_requests), parsed before it runs without pydantic (a 400 problem saying where
and what). ``openapi_document()`` is the OpenAPI document of these routes (docs/openapi.json,
made at test time, tested against the template). Errors are answered as
application/problem+json with a status and a short title, never an internal message.
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import json
import os
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Depends, Response
from aws_lambda_powertools.event_handler.depends import DependencyResolutionError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from smsdesk import agent_views, templates
from smsdesk.agent_desk import AgentDesk, CustomerChanges, InvalidRequest
from smsdesk.agent_requests import (
    AssignRequest,
    ConversationQuery,
    CustomerRequest,
    Idempotency,
    NoteRequest,
    OptOutRequest,
    PeriodQuery,
    ReplyRequest,
    ResolveRequest,
)
from smsdesk.agents import Actor, NotAllowed, Unidentified, actor_from_claims
from smsdesk.aws.media_bucket import MediaBucket
from smsdesk.aws.request_parts import RequestPart
from smsdesk.config import MediaSettings
from smsdesk.errors import (
    ConcurrentWrite,
    ConversationNotFound,
    InvalidPeriod,
    InvalidTransition,
    TransientSendFailure,
)
from smsdesk.media import MediaAccess
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from smsdesk.analytics_store import AnalyticsReader

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
desk = AgentDesk(runtime.repository, runtime.gateway, runtime.follow_ups, runtime.clock, business)
media_settings = MediaSettings.from_environ(os.environ)
media = MediaAccess(MediaBucket(media_settings.bucket), runtime.clock, timedelta(days=media_settings.retention_days))

app = APIGatewayHttpResolver()  # requests are checked by smsdesk.agent_requests, without pydantic

REPLY_STATUS = {"sent": 201, "held": 202, "duplicate": 200, "refused": 409, "failed": 422}


def body(request_type: type, *, optional: bool = False) -> Depends:
    """A route's JSON body, parsed as ``request_type`` (a 400 problem when it does not fit)."""
    return Depends(RequestPart(app, "body", request_type, optional=optional))


def query(request_type: type) -> Depends:
    return Depends(RequestPart(app, "query", request_type))


def headers(request_type: type) -> Depends:
    return Depends(RequestPart(app, "header", request_type))


@cache
def analytics() -> "AnalyticsReader":
    """The analytics reader, made by the first report asked for: only /metrics needs it, and
    importing smsdesk.analytics would add to every cold start (docs/decisions.md, 16)."""
    from smsdesk.analytics import Counting
    from smsdesk.analytics_store import AnalyticsReader

    return AnalyticsReader(runtime.repository, runtime.clock, Counting(business.hours))


def actor() -> Actor:
    """Who is calling, from the claims API Gateway's JWT authorizer verified."""
    authorizer = app.current_event.request_context.get("authorizer") or {}
    return actor_from_claims((authorizer.get("jwt") or {}).get("claims") or {})


def agent() -> str:
    who = actor()
    return who.label if who.machine else who.name  # recorded as agent:<e-mail>, or system:<client>


def identified(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    actor()  # every request names who makes it, reading included (else a 401 problem)
    return next_middleware(app)


app.use(middlewares=[identified])


def answer(status: int, view: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status, "application/json", view)


def problem(status: int, title: str) -> Response[str]:
    """A client error, as application/problem+json (RFC 9457), saying what was wrong."""
    return Response(status, "application/problem+json", json.dumps({"status": status, "title": title}))


@app.get("/conversations")
def list_conversations(listing: Annotated[ConversationQuery, query(ConversationQuery)]) -> Response[dict[str, Any]]:
    if listing.view is not None:
        return answer(200, agent_views.conversation_list(desk.inbox(listing.view, actor=actor(), search=listing.q)))
    page = desk.queue(listing.status, limit=listing.limit, cursor=listing.cursor)
    return answer(200, agent_views.conversation_page(page))


@app.get("/conversations/<reference>")
def read_conversation(reference: str) -> Response[dict[str, Any]]:
    return answer(200, agent_views.conversation_detail(desk.read(reference), media))


@app.post("/conversations/<reference>/replies")
def reply(
    reference: str,
    request: Annotated[ReplyRequest, body(ReplyRequest)],
    idempotency: Annotated[Idempotency, headers(Idempotency)],
) -> Response[dict[str, Any]]:
    result = desk.reply(reference, request.text, agent=agent(), request_id=idempotency.key or None)
    logger.info("agent reply", conversation=reference, outcome=result.send.outcome)
    return answer(REPLY_STATUS.get(str(result.send.outcome), 200), agent_views.send_result(result.send))


@app.post("/conversations/<reference>/resolve")
def resolve(
    reference: str, request: Annotated[ResolveRequest | None, body(ResolveRequest, optional=True)]
) -> Response[dict[str, Any]]:
    conversation = desk.resolve(reference, agent=agent(), note=request.note if request else None)
    return answer(200, agent_views.conversation_summary(conversation))


@app.post("/conversations/<reference>/reopen")
def reopen(reference: str) -> Response[dict[str, Any]]:
    return answer(200, agent_views.conversation_summary(desk.reopen(reference, agent=agent())))


# Phone numbers in paths are E.164 with the + encoded as %2B. The resolver matches the raw path;
# API Gateway's own parameter is decoded the same way.


@app.post("/customers/<number>/opt-out")
def record_opt_out(
    number: str, request: Annotated[OptOutRequest | None, body(OptOutRequest, optional=True)]
) -> Response[str]:
    desk.record_opt_out(unquote(number), actor=actor(), reason=request.reason if request else None)
    return Response(204, None, "")  # no content: no body, no content type


@app.patch("/customers/<number>")
def update_customer(
    number: str, request: Annotated[CustomerRequest, body(CustomerRequest)]
) -> Response[dict[str, Any]]:
    changes = CustomerChanges(request.name, request.language, request.time_zone)  # UNCHANGED unless given
    customer = desk.update_customer(unquote(number), changes, actor=actor())
    return answer(200, agent_views.customer_profile(customer))


@app.post("/conversations/<reference>/assign")
def assign(reference: str, request: Annotated[AssignRequest, body(AssignRequest)]) -> Response[dict[str, Any]]:
    return answer(200, agent_views.conversation_summary(desk.assign(reference, actor=actor(), to=request.to)))


@app.post("/conversations/<reference>/notes")
def add_note(
    reference: str,
    request: Annotated[NoteRequest, body(NoteRequest)],
    idempotency: Annotated[Idempotency, headers(Idempotency)],
) -> Response[dict[str, Any]]:
    note = desk.add_note(reference, request.text, actor=actor(), request_id=idempotency.key or None)
    return answer(201, agent_views.message_view(note))


@app.get("/canned-responses")
def canned_responses() -> Response[dict[str, Any]]:
    return answer(200, agent_views.canned_responses(templates.CANNED_RESPONSES))


@app.get("/metrics")
def metrics_report(period: Annotated[PeriodQuery, query(PeriodQuery)]) -> Response[dict[str, Any]]:
    """The analytics of a period (docs/metrics.md), with a series per day, week or month."""
    actor().require_analytics_reader()
    return answer(200, analytics().report(analytics().period(period.first, period.last), period.group_by))


@app.get("/metrics.csv")
def metrics_csv(period: Annotated[PeriodQuery, query(PeriodQuery)]) -> Response[str]:
    actor().require_analytics_reader()
    report = analytics().csv(analytics().period(period.first, period.last), period.group_by)
    return Response(200, "text/csv; charset=utf-8", report)


@app.post("/customers/<number>/not-an-opt-out")
def clear_possible_opt_out(number: str) -> Response[str]:
    """A possible opt-out the agent decided is not one: texts to the number may go again."""
    desk.clear_possible_opt_out(unquote(number), agent=agent())
    return Response(204, None, "")


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return problem(404, "not found")


@app.exception_handler(DependencyResolutionError)
def unreadable(error: DependencyResolutionError) -> Response[str]:
    """A request part that did not parse (smsdesk.agent_requests says where and what): a 400."""
    if isinstance(error.__cause__, InvalidRequest):
        return problem(400, str(error.__cause__))
    raise error


@app.exception_handler(InvalidRequest)
def invalid_request(error: InvalidRequest) -> Response[str]:
    return problem(400, str(error))


@app.exception_handler(Unidentified)
def unidentified(error: Unidentified) -> Response[str]:
    return problem(401, str(error))


@app.exception_handler(NotAllowed)
def not_allowed(error: NotAllowed) -> Response[str]:
    return problem(403, str(error))


@app.exception_handler(InvalidPeriod)
def invalid_period(error: InvalidPeriod) -> Response[str]:
    return problem(400, str(error))


@app.exception_handler(ConversationNotFound)
def no_such_conversation(_: ConversationNotFound) -> Response[str]:
    return problem(404, "no such conversation")


@app.exception_handler(InvalidTransition)
def invalid_transition(error: InvalidTransition) -> Response[str]:
    return problem(409, str(error))


@app.exception_handler(ConcurrentWrite)
def changed_at_the_same_moment(_: ConcurrentWrite) -> Response[str]:
    return problem(409, "someone else changed this at the same moment; nothing was changed: try again")


@app.exception_handler(TransientSendFailure)
def provider_unavailable(_: TransientSendFailure) -> Response[str]:
    return problem(503, "the SMS provider is unavailable; try again")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the routes above (docs/openapi.json is this, committed)."""
    document: dict[str, Any] = json.loads(app.get_openapi_json_schema(title="smsdesk agent API", version="1.0.0"))
    return document


@cold_start.ends_with_first_invocation
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    return app.resolve(event, context)
