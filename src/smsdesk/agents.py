"""Who is acting: the agent, supervisor or system behind a request to the agent API.

API Gateway's JWT authorizer has already verified the token (signature, issuer, client,
expiry, scope) and passes its claims as strings, arrays flattened to ``"[a b]"``. A person's
access token names them (``username``: their e-mail address, the pool's username) and their
groups (``cognito:groups``); a machine client's token names only the client (``client_id``).
Everything an actor does is recorded under :attr:`Actor.label`, so a conversation's history
shows who did it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Group(StrEnum):
    AGENTS = "agents"
    SUPERVISORS = "supervisors"


class NotAllowed(PermissionError):
    """The actor may not do this (a 403)."""


class Unidentified(PermissionError):
    """The request carries no identity the desk can record (a 401)."""


@dataclass(frozen=True, slots=True)
class Actor:
    name: str  # an agent's e-mail address, or a machine client's id
    groups: frozenset[str] = frozenset()
    machine: bool = False

    @property
    def label(self) -> str:
        """How the actor is recorded: ``agent:ana@acme.example`` or ``system:<client id>``."""
        return f"{'system' if self.machine else 'agent'}:{self.name}"

    @property
    def is_supervisor(self) -> bool:
        return Group.SUPERVISORS in self.groups

    def require_supervisor(self, action: str) -> None:
        if not self.is_supervisor:
            raise NotAllowed(f"only supervisors may {action}")

    def require_analytics_reader(self) -> None:
        """The analytics are for supervisors and for systems (the report command, BI), not every agent."""
        if not (self.machine or self.is_supervisor):
            raise NotAllowed("only supervisors may read the analytics")


def claim_list(value: object) -> frozenset[str]:
    """A list claim as the JWT authorizer passes it (``"[agents supervisors]"``), or a real list."""
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value)
    text = str(value or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return frozenset(part for part in text.replace(",", " ").split() if part)


def actor_from_claims(claims: Mapping[str, object]) -> Actor:
    """The actor named by a verified token's claims."""
    groups = claim_list(claims.get("cognito:groups"))
    username = str(claims.get("username") or claims.get("cognito:username") or "").strip()
    if username:
        return Actor(username.lower(), groups)
    client = str(claims.get("client_id") or "").strip()
    scopes = claim_list(claims.get("scope"))
    if client and any(scope.endswith("/automation") for scope in scopes):
        # A system acts as an agent does; supervisor-only actions stay with people.
        return Actor(client, frozenset({Group.AGENTS}), machine=True)
    raise Unidentified("the token names no agent")
