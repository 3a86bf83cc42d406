"""The agent API (HTTP API, IAM-authorised): list, read, reply, resolve, reopen.

Every route is declared in template.yaml and here; there is no catch-all. Errors are answered
as application/problem+json with a status and a short title, never an internal message.
"""

import json
import os

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from smsdesk import agent_views
from smsdesk.agent_desk import AgentDesk, InvalidRequest
from smsdesk.errors import ConversationNotFound, InvalidTransition, TransientSendFailure
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime

logger = build_logger()
metrics = build_metrics()
app = APIGatewayHttpResolver()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
desk = AgentDesk(runtime.repository, runtime.gateway, runtime.follow_ups, runtime.clock, business)

REPLY_STATUS = {"sent": 201, "held": 202, "duplicate": 200, "refused": 409, "failed": 422}


def agent() -> str:
    iam = app.current_event.request_context.authorizer.iam
    return (iam.user_arn or iam.caller_id or "unknown").rsplit("/", 1)[-1]


def body() -> dict:
    try:
        payload = app.current_event.json_body or {}
    except ValueError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("the body must be a JSON object")
    return payload


def problem(status: int, title: str) -> Response:
    # Powertools serializes a body only for application/json; an HTTP API needs a string body.
    return Response(status, "application/problem+json", json.dumps({"status": status, "title": title}))


@app.get("/conversations")
def list_conversations():
    query = app.current_event.query_string_parameters or {}
    try:
        limit = int(query.get("limit", 25))
    except ValueError:
        raise InvalidRequest("limit must be a number") from None
    page = desk.queue(query.get("status", "active"), limit=limit, cursor=query.get("cursor"))
    return agent_views.conversation_page(page)


@app.get("/conversations/<reference>")
def read_conversation(reference: str):
    return agent_views.conversation_detail(desk.read(reference))


@app.post("/conversations/<reference>/replies")
def reply(reference: str):
    text = body().get("text")
    if not isinstance(text, str):
        raise InvalidRequest('the body needs "text"')
    request_id = app.current_event.get_header_value("idempotency-key") or None
    result = desk.reply(reference, text, agent=agent(), request_id=request_id)
    logger.info("agent reply", extra={"conversation": reference, "outcome": result.send.outcome})
    return Response(
        REPLY_STATUS.get(str(result.send.outcome), 200), "application/json", agent_views.send_result(result.send)
    )


@app.post("/conversations/<reference>/resolve")
def resolve(reference: str):
    note = body().get("note")
    conversation = desk.resolve(reference, agent=agent(), note=note if isinstance(note, str) else None)
    return agent_views.conversation_summary(conversation)


@app.post("/conversations/<reference>/reopen")
def reopen(reference: str):
    return agent_views.conversation_summary(desk.reopen(reference, agent=agent()))


@app.post("/customers/<number>/opt-out")
def record_opt_out(number: str):
    reason = body().get("reason")
    desk.record_opt_out(number, agent=agent(), reason=reason if isinstance(reason, str) else None)
    return Response(204, None, "")  # no content: no body (not the JSON "null")


@app.exception_handler(InvalidRequest)
def invalid(error: InvalidRequest):
    return problem(400, str(error))


@app.exception_handler(ConversationNotFound)
def not_found(error: ConversationNotFound):
    return problem(404, "no such conversation")


@app.exception_handler(InvalidTransition)
def conflict(error: InvalidTransition):
    return problem(409, str(error))


@app.exception_handler(TransientSendFailure)
def unavailable(error: TransientSendFailure):
    return problem(503, "the SMS provider is unavailable; try again")


@app.not_found
def unknown_route(error: NotFoundError):
    return problem(404, "not found")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    return app.resolve(event, context)
