"""The agent API (HTTP API, Cognito-token-authorised): the queue, read, reply, note, assign, resolve, reopen.

Powertools' event handler: each route below is also declared in template.yaml (the HTTP API has
no catch-all), and the resolver validates what a route declares (query, path, JSON body) before
calling it. ``openapi_document()`` is the OpenAPI document of these routes (docs/openapi.json,
tested against the template). Errors are answered as application/problem+json with a status and a
short title, never an internal message.
"""

# First: no garbage-collection passes until the first invocation returns (smsdesk.cold_start).
from smsdesk import cold_start  # isort: skip

import json
import os
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from smsdesk import agent_views, templates
from smsdesk.agent_desk import AgentDesk, CustomerChanges, InvalidRequest
from smsdesk.agents import Actor, NotAllowed, Unidentified, actor_from_claims
from smsdesk.analytics import Counting, InvalidPeriod
from smsdesk.analytics_store import AnalyticsReader
from smsdesk.errors import ConversationNotFound, InvalidTransition, TransientSendFailure
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
desk = AgentDesk(runtime.repository, runtime.gateway, runtime.follow_ups, runtime.clock, business)
analytics = AnalyticsReader(runtime.repository, runtime.clock, Counting(business.hours))

app = APIGatewayHttpResolver(enable_validation=True)

REPLY_STATUS = {"sent": 201, "held": 202, "duplicate": 200, "refused": 409, "failed": 422}


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(description="The reply, sent through the send gateway (card numbers redacted).")]


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str | None, Field(description="An internal note; never sent to the customer.")] = None


class OptOutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str | None, Field(description="Why the customer asked, as they said it.")] = None


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Annotated[str | None, Field(description="The agent's e-mail address; null unassigns.")] = None


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(description="An internal note: in the thread for agents, never texted.")]


class CustomerRequest(BaseModel):
    """The customer panel's edit: only the fields given change; an empty name or null clears."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str | None, Field(max_length=200, description="How acknowledgements and surveys greet them.")] = (
        None
    )
    language: Annotated[
        str | None, Field(max_length=10, description="A supported language code (en, es, fr, ...).")
    ] = None
    time_zone: Annotated[str | None, Field(max_length=64, description="An IANA zone; wins over the number's.")] = None


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


Reference = Annotated[str, Path(description="The conversation's reference, e.g. C-7F3K.")]


@app.get("/conversations")
def list_conversations(
    status: Annotated[str, Query(description="active (default), a status, or unacknowledged")] = "active",
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    view: Annotated[
        str | None, Query(description="the console's views: open, urgent, mine, unassigned, resolved")
    ] = None,
    q: Annotated[str | None, Query(description="with view: a reference, number or words to search for")] = None,
) -> Response[dict[str, Any]]:
    if view is not None:
        return answer(200, agent_views.conversation_list(desk.inbox(view, actor=actor(), search=q)))
    page = desk.queue(status, limit=limit, cursor=cursor)
    return answer(200, agent_views.conversation_page(page))


@app.get("/conversations/<reference>")
def read_conversation(reference: Reference) -> Response[dict[str, Any]]:
    return answer(200, agent_views.conversation_detail(desk.read(reference)))


@app.post("/conversations/<reference>/replies")
def reply(
    reference: Reference,
    request: Annotated[ReplyRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[dict[str, Any]]:
    result = desk.reply(reference, request.text, agent=agent(), request_id=idempotency_key or None)
    logger.info("agent reply", conversation=reference, outcome=result.send.outcome)
    return answer(REPLY_STATUS.get(str(result.send.outcome), 200), agent_views.send_result(result.send))


@app.post("/conversations/<reference>/resolve")
def resolve(reference: Reference, request: Annotated[ResolveRequest | None, Body()] = None) -> Response[dict[str, Any]]:
    conversation = desk.resolve(reference, agent=agent(), note=request.note if request else None)
    return answer(200, agent_views.conversation_summary(conversation))


@app.post("/conversations/<reference>/reopen")
def reopen(reference: Reference) -> Response[dict[str, Any]]:
    return answer(200, agent_views.conversation_summary(desk.reopen(reference, agent=agent())))


@app.post("/customers/<number>/opt-out")
def record_opt_out(
    number: Annotated[str, Path(description="E.164, the + encoded as %2B")],
    request: Annotated[OptOutRequest | None, Body()] = None,
) -> Response[str]:
    # The resolver matches the raw path; API Gateway's own parameter is decoded the same way.
    desk.record_opt_out(unquote(number), actor=actor(), reason=request.reason if request else None)
    return Response(204, None, "")  # no content: no body, no content type


@app.patch("/customers/<number>")
def update_customer(
    number: Annotated[str, Path(description="E.164, the + encoded as %2B")],
    request: Annotated[CustomerRequest, Body()],
) -> Response[dict[str, Any]]:
    given = {field: getattr(request, field) for field in request.model_fields_set}
    customer = desk.update_customer(unquote(number), CustomerChanges(**given), actor=actor())
    return answer(200, agent_views.customer_profile(customer))


@app.post("/conversations/<reference>/assign")
def assign(reference: Reference, request: Annotated[AssignRequest, Body()]) -> Response[dict[str, Any]]:
    return answer(200, agent_views.conversation_summary(desk.assign(reference, actor=actor(), to=request.to)))


@app.post("/conversations/<reference>/notes")
def add_note(
    reference: Reference,
    request: Annotated[NoteRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[dict[str, Any]]:
    note = desk.add_note(reference, request.text, actor=actor(), request_id=idempotency_key or None)
    return answer(201, agent_views.message_view(note))


@app.get("/canned-responses")
def canned_responses() -> Response[dict[str, Any]]:
    return answer(200, agent_views.canned_responses(templates.CANNED_RESPONSES))


First = Annotated[
    str | None,
    Query(
        alias="from", description="The first day, YYYY-MM-DD, in the business's time zone (default: 30 days before to)."
    ),
]
Last = Annotated[str | None, Query(alias="to", description="The last day, YYYY-MM-DD (default: today).")]
GroupBy = Annotated[Literal["day", "week", "month"], Query(description="How the series is cut (ISO weeks).")]


@app.get("/metrics")
def metrics_report(first: First = None, last: Last = None, group_by: GroupBy = "day") -> Response[dict[str, Any]]:
    """The analytics of a period (docs/metrics.md), with a series per day, week or month."""
    actor().require_analytics_reader()
    return answer(200, analytics.report(analytics.period(first, last), group_by))


@app.get("/metrics.csv")
def metrics_csv(first: First = None, last: Last = None, group_by: GroupBy = "day") -> Response[str]:
    actor().require_analytics_reader()
    return Response(200, "text/csv; charset=utf-8", analytics.csv(analytics.period(first, last), group_by))


@app.post("/customers/<number>/not-an-opt-out")
def clear_possible_opt_out(number: Annotated[str, Path(description="E.164, the + encoded as %2B")]) -> Response[str]:
    """A possible opt-out the agent decided is not one: texts to the number may go again."""
    desk.clear_possible_opt_out(unquote(number), agent=agent())
    return Response(204, None, "")


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return problem(404, "not found")


@app.exception_handler(RequestValidationError)
def invalid(error: RequestValidationError) -> Response[str]:
    """What the resolver's validation refused, as "<where>: <what>" (the first problem)."""
    first = error.errors()[0]
    if first.get("type") == "json_invalid":
        return problem(400, "the body is not JSON")
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or str(first.get("loc", ("body",))[0])
    return problem(400, f"{where}: {first.get('msg', 'invalid')}")


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
