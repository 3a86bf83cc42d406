"""The agent API (HTTP API, IAM-authorised): list, read, reply, resolve, reopen.

Every route is declared in template.yaml and in ROUTES below, under the same key: an HTTP API
names the route it matched in the event's ``routeKey`` ("GET /conversations/{reference}") and
passes the path's parameters decoded, so there is nothing to match here and no catch-all.
Errors are answered as application/problem+json with a status and a short title, never an
internal message. (No Powertools event handler: importing it costs this function's cold start
about 180 ms, docs/decisions.md section 6.)
"""

import base64
import json
import os

from smsdesk import agent_views
from smsdesk.agent_desk import AgentDesk, InvalidRequest
from smsdesk.analytics import Counting, InvalidPeriod
from smsdesk.analytics_store import AnalyticsReader
from smsdesk.aws import http_api
from smsdesk.errors import ConversationNotFound, InvalidTransition, TransientSendFailure
from smsdesk.observability import build_logger, build_metrics
from smsdesk.runtime import business_settings, messaging_runtime

logger = build_logger()
metrics = build_metrics()

business = business_settings(os.environ)
runtime = messaging_runtime(os.environ, business)
desk = AgentDesk(runtime.repository, runtime.gateway, runtime.follow_ups, runtime.clock, business)
analytics = AnalyticsReader(runtime.repository, runtime.clock, Counting(business.hours))

REPLY_STATUS = {"sent": 201, "held": 202, "duplicate": 200, "refused": 409, "failed": 422}


def agent(event: dict) -> str:
    iam = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    return (iam.get("userArn") or iam.get("callerId") or "unknown").rsplit("/", 1)[-1]


def body(event: dict) -> dict:
    raw = event.get("body") or ""
    try:
        text = base64.b64decode(raw) if event.get("isBase64Encoded") else raw
        payload = json.loads(text) if text else {}
    except ValueError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("the body must be a JSON object")
    return payload


def answer(status: int, view: dict) -> dict:
    return http_api.response(status, json.dumps(view, separators=(",", ":")), "application/json")


def list_conversations(event: dict) -> dict:
    query = event.get("queryStringParameters") or {}
    try:
        limit = int(query.get("limit", 25))
    except ValueError:
        raise InvalidRequest("limit must be a number") from None
    page = desk.queue(query.get("status", "active"), limit=limit, cursor=query.get("cursor"))
    return answer(200, agent_views.conversation_page(page))


def read_conversation(event: dict, reference: str) -> dict:
    return answer(200, agent_views.conversation_detail(desk.read(reference)))


def reply(event: dict, reference: str) -> dict:
    text = body(event).get("text")
    if not isinstance(text, str):
        raise InvalidRequest('the body needs "text"')
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    result = desk.reply(reference, text, agent=agent(event), request_id=headers.get("idempotency-key") or None)
    logger.info("agent reply", extra={"conversation": reference, "outcome": result.send.outcome})
    return answer(REPLY_STATUS.get(str(result.send.outcome), 200), agent_views.send_result(result.send))


def resolve(event: dict, reference: str) -> dict:
    note = body(event).get("note")
    conversation = desk.resolve(reference, agent=agent(event), note=note if isinstance(note, str) else None)
    return answer(200, agent_views.conversation_summary(conversation))


def reopen(event: dict, reference: str) -> dict:
    return answer(200, agent_views.conversation_summary(desk.reopen(reference, agent=agent(event))))


def record_opt_out(event: dict, number: str) -> dict:
    reason = body(event).get("reason")
    desk.record_opt_out(number, agent=agent(event), reason=reason if isinstance(reason, str) else None)
    return {"statusCode": 204, "body": ""}  # no content: no body, no content type


def metrics_report(event: dict) -> dict:
    query = event.get("queryStringParameters") or {}
    period = analytics.period(query.get("from"), query.get("to"))
    return answer(200, analytics.report(period, query.get("group_by", "day")))


def metrics_csv(event: dict) -> dict:
    query = event.get("queryStringParameters") or {}
    period = analytics.period(query.get("from"), query.get("to"))
    return http_api.response(200, analytics.csv(period, query.get("group_by", "day")), "text/csv; charset=utf-8")


ROUTES = {
    "GET /conversations": list_conversations,
    "GET /conversations/{reference}": read_conversation,
    "POST /conversations/{reference}/replies": reply,
    "POST /conversations/{reference}/resolve": resolve,
    "POST /conversations/{reference}/reopen": reopen,
    "POST /customers/{number}/opt-out": record_opt_out,
    "GET /metrics": metrics_report,
    "GET /metrics.csv": metrics_csv,
}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event, context):
    route = ROUTES.get(event.get("routeKey", ""))
    if route is None:
        return http_api.problem(404, "not found")
    try:
        return route(event, **(event.get("pathParameters") or {}))
    except (InvalidRequest, InvalidPeriod) as error:
        return http_api.problem(400, str(error))
    except ConversationNotFound:
        return http_api.problem(404, "no such conversation")
    except InvalidTransition as error:
        return http_api.problem(409, str(error))
    except TransientSendFailure:
        return http_api.problem(503, "the SMS provider is unavailable; try again")
