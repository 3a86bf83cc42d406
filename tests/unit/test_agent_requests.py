"""An agent's malformed request is refused with a problem that says where and what.

The agent API's own tests (tests/integration/functions/test_event_handlers.py) check the routes;
these check the cases the routes' tests do not reach, in the wording agents already saw.
"""

import pytest

from smsdesk.agent_desk import UNCHANGED, InvalidRequest
from smsdesk.agent_requests import (
    ConversationQuery,
    CustomerRequest,
    Idempotency,
    PeriodQuery,
    ReplyRequest,
    ResolveRequest,
    parse_body,
    parse_fields,
)


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(InvalidRequest) as refused:
        call(*args, **kwargs)
    return str(refused.value)


def test_a_query_string_is_read_as_its_types_with_defaults_and_aliases():
    assert parse_fields(ConversationQuery, {"limit": "10", "view": "mine", "utm": "x"}) == ConversationQuery(
        limit=10, view="mine"
    )
    assert parse_fields(PeriodQuery, {"from": "2026-01-01", "group_by": "week"}) == PeriodQuery(
        first="2026-01-01", group_by="week"
    )


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"limit": "0"}, "limit: Input should be greater than or equal to 1"),
        ({"limit": "2.5"}, "limit: Input should be a valid integer, unable to parse string as an integer"),
    ],
)
def test_a_listing_out_of_bounds_is_refused(query, problem):
    assert refusal(parse_fields, ConversationQuery, query) == problem


def test_a_period_cut_some_other_way_is_refused():
    assert refusal(parse_fields, PeriodQuery, {"group_by": "year"}) == (
        "group_by: Input should be 'day', 'week' or 'month'"
    )


def test_a_body_is_required_unless_the_route_says_it_is_optional():
    assert refusal(parse_body, ReplyRequest, "") == "body: Field required"
    assert parse_body(ResolveRequest, "", optional=True) is None
    assert parse_body(ResolveRequest, "null", optional=True) is None
    assert parse_body(ResolveRequest, '{"note": "refunded"}', optional=True) == ResolveRequest("refunded")


def test_a_customer_edit_keeps_apart_what_was_not_given_from_what_is_cleared():
    edit = parse_body(CustomerRequest, '{"language": null}')
    assert edit == CustomerRequest(name=UNCHANGED, language=None, time_zone=UNCHANGED)
    assert refusal(parse_body, CustomerRequest, '{"name": "' + "K" * 201 + '"}') == (
        "name: String should have at most 200 characters"
    )
    assert refusal(parse_body, CustomerRequest, '{"name": 7}') == "name: Input should be a valid string"


def test_the_idempotency_key_is_read_from_its_header():
    assert parse_fields(Idempotency, {"idempotency-key": "k-1", "host": "x"}) == Idempotency("k-1")
    assert parse_fields(Idempotency, {}) == Idempotency(None)
