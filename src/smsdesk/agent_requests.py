"""What an agent's request may carry: typed requests, parsed from a JSON body, a query string or
headers, with a problem that says where and what ("text: Field required") when they do not fit.

Plain Python, checked field by field from each type's annotations and their ``Rules``: the agent
API validated with pydantic through Powertools before, which doubled its cold start
(docs/decisions.md, section 16); the wording of its problems is kept. The same rules describe the
fields in the API's OpenAPI document (smsdesk.aws.request_parts, generated at test time). The
types are named tuples, not dataclasses: a dataclass costs about ten times as much to define, and
all of them are defined at every cold start of the agent API.
"""

import json
import re
import types
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NamedTuple, get_args, get_origin, get_type_hints

from smsdesk.agent_desk import UNCHANGED, InvalidRequest


class Rules(NamedTuple):
    """How one field is checked and described: ``Annotated[int, Rules(ge=1, le=100)]``."""

    description: str = ""
    alias: str | None = None  # its name in the query string or the headers, when not the field's
    ge: int | None = None
    le: int | None = None
    max_length: int | None = None


class RequestField(NamedTuple):
    name: str  # the field's, in Python
    key: str  # its name in the request (the alias, if any)
    annotation: Any  # without the rules
    rules: Rules
    required: bool
    default: Any


# ------------------------------------------------------------------------------- the requests


class ReplyRequest(NamedTuple):
    """A reply to the customer."""

    text: Annotated[str, Rules("The reply, sent through the send gateway (card numbers redacted).")]


class ResolveRequest(NamedTuple):
    """Resolving a conversation."""

    note: Annotated[str | None, Rules("An internal note; never sent to the customer.")] = None


class OptOutRequest(NamedTuple):
    """An opt-out the customer asked for in words an agent read."""

    reason: Annotated[str | None, Rules("Why the customer asked, as they said it.")] = None


class AssignRequest(NamedTuple):
    """Who works on a conversation."""

    to: Annotated[str | None, Rules("The agent's e-mail address; null unassigns.")] = None


class NoteRequest(NamedTuple):
    """A note for the other agents."""

    text: Annotated[str, Rules("An internal note: in the thread for agents, never texted.")]


class CustomerRequest(NamedTuple):
    """The customer panel's edit: only the fields given change; an empty name or null clears."""

    name: Annotated[str | None, Rules("How acknowledgements and surveys greet them.", max_length=200)] = UNCHANGED
    language: Annotated[str | None, Rules("A supported language code (en, es, fr, ...).", max_length=10)] = UNCHANGED
    time_zone: Annotated[str | None, Rules("An IANA zone; wins over the number's.", max_length=64)] = UNCHANGED


class ConversationQuery(NamedTuple):
    """Which conversations to list."""

    status: Annotated[str, Rules("active (default), a status, or unacknowledged")] = "active"
    limit: Annotated[int, Rules(ge=1, le=100)] = 25
    cursor: Annotated[str | None, Rules("next_cursor of the previous page")] = None
    view: Annotated[str | None, Rules("the console's views: open, urgent, mine, unassigned, resolved")] = None
    q: Annotated[str | None, Rules("with view: a reference, number or words to search for")] = None


class PeriodQuery(NamedTuple):
    """The days the analytics cover and how the series is cut."""

    first: Annotated[
        str | None,
        Rules("The first day, YYYY-MM-DD, in the business's time zone (default: 30 days before to).", alias="from"),
    ] = None
    last: Annotated[str | None, Rules("The last day, YYYY-MM-DD (default: today).", alias="to")] = None
    group_by: Annotated[Literal["day", "week", "month"], Rules("How the series is cut (ISO weeks).")] = "day"


class Idempotency(NamedTuple):
    """The headers a write may carry."""

    key: Annotated[
        str | None, Rules("Repeating a request with the same key does it once.", alias="idempotency-key")
    ] = None


# ------------------------------------------------------------------------------- the parsing


def parse_body[T](request_type: type[T], body: str | None, *, optional: bool = False) -> T | None:
    """A JSON object's fields as ``request_type``; no body (or null) is None when ``optional``."""
    if not body:
        if optional:
            return None
        raise InvalidRequest("body: Field required")
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidRequest("the body is not JSON") from None
    if data is None and optional:
        return None
    if not isinstance(data, dict):
        raise InvalidRequest("body: Input should be a valid dictionary or object to extract fields from")
    return parse_fields(request_type, data, extra_allowed=False)


def parse_fields[T](request_type: type[T], values: Mapping[str, Any], *, extra_allowed: bool = True) -> T:
    """``request_type`` from ``values`` (a JSON object, query parameters, lower-case headers):
    each field checked in order, then the names nobody asked for (refused unless ``extra_allowed``)."""
    given: dict[str, Any] = {}
    declared = request_fields(request_type)
    for field in declared:
        if field.key in values:
            try:
                given[field.name] = _checked(values[field.key], field.annotation, field.rules)
            except _Refused as refused:
                raise InvalidRequest(f"{field.key}: {refused}") from None
        elif field.required:
            raise InvalidRequest(f"{field.key}: Field required")
    if not extra_allowed:
        known = {field.key for field in declared}
        for key in values:
            if key not in known:
                raise InvalidRequest(f"{key}: Extra inputs are not permitted")
    return request_type(**given)


_FIELDS: dict[type[Any], tuple[RequestField, ...]] = {}


def request_fields(request_type: type[Any]) -> tuple[RequestField, ...]:
    """A request type's fields, in order (read from its annotations once, when first used)."""
    if request_type in _FIELDS:
        return _FIELDS[request_type]
    hints = get_type_hints(request_type, include_extras=True)
    defaults: dict[str, Any] = getattr(request_type, "_field_defaults", {})
    declared = []
    for name in getattr(request_type, "_fields", ()):
        annotation, rules = hints[name], Rules()
        if get_origin(annotation) is Annotated:
            annotation, *extras = get_args(annotation)
            rules = next((e for e in extras if isinstance(e, Rules)), rules)
        key = rules.alias or name
        declared.append(RequestField(name, key, annotation, rules, name not in defaults, defaults.get(name)))
    _FIELDS[request_type] = tuple(declared)
    return _FIELDS[request_type]


class _Refused(ValueError):
    pass


_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def _checked(value: Any, annotation: Any, checks: Rules) -> Any:
    if isinstance(annotation, types.UnionType):  # X | None
        if value is None:
            return None
        [annotation] = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        choices = get_args(annotation)
        if value not in choices:
            said = [repr(c) for c in choices]
            raise _Refused(f"Input should be {', '.join(said[:-1])} or {said[-1]}")
        return value
    if annotation is int:
        if isinstance(value, str):
            if not _INTEGER.fullmatch(value):
                raise _Refused("Input should be a valid integer, unable to parse string as an integer")
            value = int(value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise _Refused("Input should be a valid integer")
        if checks.ge is not None and value < checks.ge:
            raise _Refused(f"Input should be greater than or equal to {checks.ge}")
        if checks.le is not None and value > checks.le:
            raise _Refused(f"Input should be less than or equal to {checks.le}")
        return value
    if not isinstance(value, str):
        raise _Refused("Input should be a valid string")
    if checks.max_length is not None and len(value) > checks.max_length:
        raise _Refused(f"String should have at most {checks.max_length} characters")
    return value
