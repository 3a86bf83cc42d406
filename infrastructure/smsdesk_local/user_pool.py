"""The agent user pool, locally: moto's Cognito, and the JWT authorizer API Gateway puts before it.

The pool, its groups, clients and resource server are created on moto from template.yaml. moto
signs the tokens it issues (``InitiateAuth``: the console's sign-in) with the RSA key whose
public half is its JWKS; :class:`JwtAuthorizer` checks a bearer token as an HTTP API's JWT
authorizer does (AWS docs, "Controlling access to HTTP APIs with JWT authorizers"): an RS256
signature by a key of the JWKS, the issuer exactly, ``exp``/``nbf``/``iat``, ``aud`` or else
``client_id`` among the audiences, one of the route's scopes; then it passes the claims on as
API Gateway does, every value a string and lists as ``"[a b]"``.

moto has no OAuth2 token endpoint, so the client credentials grant of the machine client (what
the CLI uses) is stood in for by :meth:`LocalUserPool.client_credentials`, which signs with the
same key: the authorizer cannot tell the two apart, as API Gateway cannot.
"""

from __future__ import annotations

import base64
import gzip
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any

import jwt

from smsdesk_local.template import REGION, Resolver, resources

# The local agent `make local` creates and prints (a password that meets the template's policy).
LOCAL_AGENT_EMAIL = "agent@smsdesk.local"
LOCAL_AGENT_PASSWORD = "Local-Agent-2026"
TOKEN_LIFETIME_SECONDS = 3600


def _moto_key(name: str) -> dict[str, Any]:
    """moto's signing key pair (the JWKS it serves, and the private half it signs with)."""
    raw = package_files.files("moto.cognitoidp").joinpath("resources", name).read_bytes()
    key: dict[str, Any] = json.loads(gzip.decompress(raw))
    return key


class Refused(Exception):
    """The token is not one API Gateway would let through (a 401)."""


@dataclass(frozen=True)
class JwtAuthorizer:
    issuer: str
    audiences: frozenset[str]
    scopes: frozenset[str]  # any one suffices; empty: none required
    jwks: dict[str, Any]

    def claims(self, authorization: str | None) -> dict[str, str]:
        """The verified claims, as API Gateway passes them, or :class:`Refused`."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else (authorization or "").strip()
        if not token:
            raise Refused("no token")
        try:
            header = jwt.get_unverified_header(token)
            keys = {k["kid"]: k for k in self.jwks["keys"]}
            if header.get("alg") != "RS256" or header.get("kid") not in keys:
                raise Refused("unknown signing key")
            claims = jwt.decode(
                token,
                jwt.PyJWK(keys[header["kid"]]).key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as error:
            raise Refused(str(error)) from None
        audience = claims.get("aud") or claims.get("client_id")
        audiences = set(audience) if isinstance(audience, list) else {audience}
        if not audiences & self.audiences:
            raise Refused("the token is for another client")
        if self.scopes and not set(str(claims.get("scope", "")).split()) & self.scopes:
            raise Refused("the token has none of the route's scopes")
        return {name: _as_api_gateway_passes(value) for name, value in claims.items()}


def _as_api_gateway_passes(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


class LocalUserPool:
    """The template's user pools on moto, with what ``make local`` and the gateway need of them."""

    def __init__(self, cognito: Any, template: dict[str, Any]) -> None:
        self._cognito = cognito
        self._template = template
        self.ids: dict[str, str] = {}  # logical id -> pool id / client id
        self.secrets: dict[str, str] = {}  # client id -> secret
        self.pool_of_client: dict[str, str] = {}
        self.jwks = _moto_key("jwks-public.json.gz")
        self._private = _moto_key("jwks-private.json.gz")

    def provision(self, resolver: Resolver) -> None:
        cognito = self._cognito
        for logical_id, resource in resources(self._template, "AWS::Cognito::UserPool").items():
            props = resource.get("Properties", {})
            created = cognito.create_user_pool(
                PoolName=str(resolver.resolve(props.get("UserPoolName", logical_id))),
                UsernameConfiguration=props.get("UsernameConfiguration", {}),
                AdminCreateUserConfig=props.get("AdminCreateUserConfig", {}),
            )
            self.ids[logical_id] = created["UserPool"]["Id"]
        for resource in resources(self._template, "AWS::Cognito::UserPoolGroup").values():
            props = resource["Properties"]
            cognito.create_group(
                UserPoolId=self._pool(props),
                GroupName=props["GroupName"],
                Description=props.get("Description", ""),
                Precedence=int(props.get("Precedence", 0)),
            )
        for resource in resources(self._template, "AWS::Cognito::UserPoolResourceServer").values():
            props = resource["Properties"]
            cognito.create_resource_server(
                UserPoolId=self._pool(props),
                Identifier=props["Identifier"],
                Name=props["Name"],
                Scopes=props.get("Scopes", []),
            )
        for logical_id, resource in resources(self._template, "AWS::Cognito::UserPoolClient").items():
            props = resource["Properties"]
            options = {
                k: props[k]
                for k in (
                    "ExplicitAuthFlows",
                    "AllowedOAuthFlows",
                    "AllowedOAuthScopes",
                    "AllowedOAuthFlowsUserPoolClient",
                    "GenerateSecret",
                )
                if k in props
            }
            client = cognito.create_user_pool_client(
                UserPoolId=self._pool(props), ClientName=props.get("ClientName", logical_id), **options
            )["UserPoolClient"]
            self.ids[logical_id] = client["ClientId"]
            self.pool_of_client[client["ClientId"]] = client["UserPoolId"]
            if client.get("ClientSecret"):
                self.secrets[client["ClientId"]] = client["ClientSecret"]

    def _pool(self, props: dict[str, Any]) -> str:
        ref = props["UserPoolId"]
        return self.ids[ref["Ref"]] if isinstance(ref, dict) else str(ref)

    @property
    def pool_id(self) -> str:
        return next(iter(self.ids[k] for k in resources(self._template, "AWS::Cognito::UserPool")))

    def issuer(self, pool_id: str | None = None) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id or self.pool_id}"

    def authorizer(self, jwt_configuration: dict[str, Any], scopes: list[str]) -> JwtAuthorizer:
        """An HttpApi authorizer of the template, its configuration already resolved."""
        return JwtAuthorizer(
            issuer=str(jwt_configuration["issuer"]),
            audiences=frozenset(str(a) for a in jwt_configuration.get("audience", [])),
            scopes=frozenset(scopes),
            jwks=self.jwks,
        )

    # ------------------------------------------------------------------ agents

    def add_agent(self, email: str, password: str, *, supervisor: bool = False) -> None:
        from smsdesk_cli.agents import add_agent

        add_agent(self._cognito, self.pool_id, email, supervisor=supervisor, password=password)

    # ------------------------------------------------------------------ the machine client

    def client_credentials(self, authorization: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """``POST /oauth2/token`` with ``grant_type=client_credentials``, as Cognito answers it."""
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        scheme, _, encoded = authorization.partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client_id, secret = "", ""
        if (
            scheme.lower() != "basic"
            or client_id not in self.secrets
            or not secrets.compare_digest(secret, self.secrets[client_id])
        ):
            return 400, {"error": "invalid_client"}
        described = self._cognito.describe_user_pool_client(
            UserPoolId=self.pool_of_client[client_id], ClientId=client_id
        )["UserPoolClient"]
        allowed = described.get("AllowedOAuthScopes", [])
        wanted = form.get("scope", "").split() or allowed
        if not wanted or any(scope not in allowed for scope in wanted):
            return 400, {"error": "invalid_scope"}
        now = int(time.time())
        claims = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(wanted),
            "auth_time": now,
            "iss": self.issuer(self.pool_of_client[client_id]),
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        key = self._private  # one JWK: the private half of the JWKS
        token = jwt.encode(claims, jwt.PyJWK(key).key, algorithm="RS256", headers={"kid": key["kid"]})
        return 200, {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}
