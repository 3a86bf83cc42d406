"""The local JWT authorizer checks a token as an HTTP API's JWT authorizer does, and passes the
claims on the way API Gateway does (strings; lists as "[a b]")."""

import time

import jwt
import pytest

from smsdesk_local.user_pool import JwtAuthorizer, Refused, _moto_key

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
SCOPES = frozenset({"aws.cognito.signin.user.admin", "smsdesk-agent-api/automation"})
AUTHORIZER = JwtAuthorizer(ISSUER, frozenset({"console", "machine"}), SCOPES, _moto_key("jwks-public.json.gz"))


def token(**changes) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "u-1",
        "client_id": "console",
        "token_use": "access",
        "iat": now,
        "exp": now + 600,
        "scope": "aws.cognito.signin.user.admin",
        "username": "ana@acme.example",
        "cognito:groups": ["agents", "supervisors"],
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = _moto_key("jwks-private.json.gz")
    return jwt.encode(claims, jwt.PyJWK(key).key, algorithm="RS256", headers={"kid": key["kid"]})


def test_a_persons_access_token_passes_with_its_claims_as_api_gateway_passes_them():
    claims = AUTHORIZER.claims(f"Bearer {token()}")
    assert claims["username"] == "ana@acme.example"
    assert claims["cognito:groups"] == "[agents supervisors]"
    assert isinstance(claims["exp"], str)


def test_a_machine_clients_token_passes_on_its_client_id_and_scope():
    claims = AUTHORIZER.claims(
        f"Bearer {token(client_id='machine', username=None, scope='smsdesk-agent-api/automation')}"
    )
    assert claims["client_id"] == "machine"


@pytest.mark.parametrize(
    "bad",
    [
        token(iss="https://cognito-idp.us-east-1.amazonaws.com/another_pool"),
        token(exp=int(time.time()) - 5),
        token(client_id="someone-else"),
        token(scope="openid"),
        token(client_id=None, aud="console", token_use="id", scope=None),  # an ID token has no scope
        token()[:-6] + "AAAAAA",  # a changed signature
        jwt.encode(
            {
                "iss": ISSUER,
                "client_id": "console",
                "exp": int(time.time()) + 60,
                "scope": "aws.cognito.signin.user.admin",
            },
            "a-shared-secret-that-is-long-enough-for-hs256",
            algorithm="HS256",
        ),
        "",
    ],
)
def test_what_api_gateway_would_refuse_is_refused(bad):
    with pytest.raises(Refused):
        AUTHORIZER.claims(f"Bearer {bad}")
