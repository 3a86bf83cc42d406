"""Who acts: the identity read from the claims API Gateway's JWT authorizer passes on."""

import pytest

from smsdesk.agents import Actor, Group, NotAllowed, Unidentified, actor_from_claims, claim_list


def test_a_person_is_named_by_their_email_with_their_groups_as_api_gateway_flattens_them():
    actor = actor_from_claims(
        {
            "username": "Ana@Acme.example",
            "cognito:groups": "[agents supervisors]",
            "client_id": "console",
            "scope": "aws.cognito.signin.user.admin",
        }
    )
    assert actor == Actor("ana@acme.example", frozenset({"agents", "supervisors"}))
    assert (actor.label, actor.is_supervisor) == ("agent:ana@acme.example", True)


def test_a_machine_client_with_the_automation_scope_acts_as_an_agent_never_as_a_supervisor():
    actor = actor_from_claims({"client_id": "7abc", "scope": "smsdesk-agent-api/automation", "sub": "7abc"})
    assert (actor.label, actor.groups, actor.machine) == ("system:7abc", frozenset({Group.AGENTS}), True)
    with pytest.raises(NotAllowed):
        actor.require_supervisor("record an opt-out")


@pytest.mark.parametrize("claims", [{}, {"client_id": "7abc", "scope": "openid"}, {"username": "  "}])
def test_a_token_that_names_nobody_is_refused(claims):
    with pytest.raises(Unidentified):
        actor_from_claims(claims)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[agents]", {"agents"}),
        ("[agents supervisors]", {"agents", "supervisors"}),
        (["agents"], {"agents"}),
        ("agents,supervisors", {"agents", "supervisors"}),
        ("", set()),
        (None, set()),
    ],
)
def test_list_claims_in_every_shape_they_arrive(value, expected):
    assert claim_list(value) == expected


def test_the_analytics_are_for_supervisors_and_systems_not_every_agent():
    Actor("sam@acme.example", frozenset({"agents", "supervisors"})).require_analytics_reader()
    Actor("7abc", frozenset({Group.AGENTS}), machine=True).require_analytics_reader()
    with pytest.raises(NotAllowed, match="only supervisors may read the analytics"):
        Actor("dana@acme.example", frozenset({"agents"})).require_analytics_reader()
