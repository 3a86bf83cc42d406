"""``smsdesk agents add|list|remove``: the people who sign in to the console.

Administrator calls on the agent user pool (``AdminCreateUser``, ``AdminAddUserToGroup``...)
made with the caller's AWS credentials; locally, against moto's Cognito (the pool's id comes
from ``/_local/info``). A deployed pool e-mails each new agent a temporary password, which
they change at their first sign-in; locally the password is set for good and printed.
"""

from __future__ import annotations

import secrets
from typing import Any, TextIO

AGENTS, SUPERVISORS = "agents", "supervisors"


def add_agent(
    cognito: Any,
    pool_id: str,
    email: str,
    *,
    supervisor: bool = False,
    password: str | None = None,
) -> None:
    """Create the user (the username is the e-mail address) and put them in their groups."""
    email = email.strip().lower()
    if "@" not in email or " " in email:
        raise ValueError(f"{email!r} is not an e-mail address")
    options: dict[str, Any] = {"MessageAction": "SUPPRESS"} if password else {"DesiredDeliveryMediums": ["EMAIL"]}
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        **options,
    )
    if password:
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    for group in (AGENTS, SUPERVISORS) if supervisor else (AGENTS,):
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)


def list_agents(cognito: Any, pool_id: str) -> list[dict[str, Any]]:
    supervisors = {
        u["Username"] for u in _paged(cognito.list_users_in_group, "Users", UserPoolId=pool_id, GroupName=SUPERVISORS)
    }
    rows = []
    for user in _paged(cognito.list_users, "Users", UserPoolId=pool_id):
        rows.append(
            {
                "email": user["Username"],
                "role": "supervisor" if user["Username"] in supervisors else "agent",
                "status": user.get("UserStatus", ""),
                "enabled": user.get("Enabled", True),
            }
        )
    return sorted(rows, key=lambda row: row["email"])


def remove_agent(cognito: Any, pool_id: str, email: str) -> None:
    """Sign them out everywhere, then delete them: their past actions keep their name."""
    email = email.strip().lower()
    cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username=email)
    cognito.admin_delete_user(UserPoolId=pool_id, Username=email)


def _paged(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    found, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        found.extend(page.get(key, []))
        token = page.get("NextToken") or page.get("PaginationToken")
        if not token:
            return found


# ---------------------------------------------------------------------- the commands


def command(
    cognito: Any,
    pool_id: str,
    action: str,
    email: str | None,
    *,
    supervisor: bool,
    local: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    from botocore.exceptions import ClientError

    try:
        if action == "list":
            for row in list_agents(cognito, pool_id):
                print(f"{row['email']:<40} {row['role']:<11} {row['status']}", file=out)
            return 0
        if not email:
            print(f"smsdesk: agents {action} needs an e-mail address", file=err)
            return 2
        if action == "add":
            password = _local_password() if local else None
            add_agent(cognito, pool_id, email, supervisor=supervisor, password=password)
            role = "supervisor" if supervisor else "agent"
            if password:
                print(f"added {email.lower()} ({role}); password: {password}", file=out)
            else:
                print(f"added {email.lower()} ({role}); Cognito e-mailed a temporary password", file=out)
            return 0
        remove_agent(cognito, pool_id, email)
        print(f"removed {email.lower()}", file=out)
        return 0
    except ValueError as error:
        print(f"smsdesk: {error}", file=err)
        return 1
    except ClientError as error:
        print(f"smsdesk: {error.response['Error'].get('Message') or error}", file=err)
        return 1


def _local_password() -> str:
    """A password that meets the pool's policy (12+, upper, lower, digit)."""
    return "Local-" + secrets.token_hex(4) + "-A9"
