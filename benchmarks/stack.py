"""The stack as the benchmarks see it: template.yaml's functions, their environment, the table.

Everything is read from template.yaml itself (with the local stack's reader, as the tests read
it), so a new function is benchmarked the day it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import ROOT
from smsdesk_local.template import conversation_table_definition
from smsdesk_local.template import load_template as template

REGION = "us-east-1"

# The configuration every function gets: the shape of tests/integration/conftest.py ENVIRON
# (what the integration tests run the handlers with). Handlers only read configuration at
# import, so none of it is ever contacted while a cold start is measured.
ENVIRON = {
    "TABLE_NAME": "smsdesk-bench",
    "EVENT_BUS_NAME": "smsdesk-bench-events",
    "TWILIO_SECRET_ID": "smsdesk/twilio",
    "TWILIO_API_KEY_SECRET_ID": "smsdesk/twilio-api-key",
    "TWILIO_SENDER": "+15005550006",
    "PUBLIC_BASE_URL": "https://hooks.example.test",
    "BUSINESS_NAME": "Acme Outdoor",
    "SUPPORT_CONTACT": "support@acme.example",
    "BUSINESS_HOURS": "Mon-Fri 09:00-17:00",
    "BUSINESS_TIME_ZONE": "America/New_York",
    "HOLIDAYS": "2026-12-25",
    "SCHEDULE_GROUP_NAME": "smsdesk-bench-follow-ups",
    "FOLLOW_UP_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:smsdesk-bench-follow-up",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/smsdesk-bench-scheduler",
}

# What Lambda itself sets, and what keeps botocore away from the developer's own AWS setup.
_LAMBDA = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}


@dataclass(frozen=True, slots=True)
class Function:
    """One AWS::Serverless::Function of the template."""

    logical_id: str
    code_uri: Path  # functions/<name>/
    module: str  # the handler's module ("app")
    routes: tuple[str, ...]  # its HttpApi routes, "POST /sms/inbound"
    variables: dict[str, str]  # the literal environment variables (Globals + its own)
    memory_mb: int

    @property
    def handler_file(self) -> Path:
        return self.code_uri / (self.module.replace(".", "/") + ".py")

    def environment(self, **extra: str) -> dict[str, str]:
        """The environment this function's process gets (no intrinsic functions resolved:
        the values that come from !Ref/!GetAtt/!If are the fixed ones of ENVIRON)."""
        return {**_LAMBDA, **ENVIRON, **self.variables, "AWS_LAMBDA_FUNCTION_NAME": self.logical_id, **extra}


def _literals(variables: dict[str, Any] | None) -> dict[str, str]:
    found = {}
    for name, value in (variables or {}).items():
        if isinstance(value, bool):
            found[name] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            found[name] = str(value)
    return found


def functions() -> list[Function]:
    """Every function of the template, in template order."""
    document = template()
    defaults = document.get("Globals", {}).get("Function", {})
    default_variables = _literals(defaults.get("Environment", {}).get("Variables"))
    found = []
    for logical_id, resource in document["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        module = properties.get("Handler", defaults.get("Handler", "app.lambda_handler")).rpartition(".")[0]
        routes = tuple(
            f"{event['Properties'].get('Method', 'ANY').upper()} {event['Properties'].get('Path', '/')}"
            for event in (properties.get("Events") or {}).values()
            if event.get("Type") == "HttpApi"
        )
        found.append(
            Function(
                logical_id=logical_id,
                code_uri=ROOT / properties["CodeUri"],
                module=module,
                routes=routes,
                variables={**default_variables, **_literals(properties.get("Environment", {}).get("Variables"))},
                memory_mb=int(properties.get("MemorySize", defaults.get("MemorySize", 128))),
            )
        )
    return found


INBOUND_ROUTE = "POST /sms/inbound"


def inbound_webhook() -> Function:
    """The function behind Twilio's "A message comes in" webhook."""
    for function in functions():
        if INBOUND_ROUTE in function.routes:
            return function
    raise LookupError(f"no function in template.yaml serves {INBOUND_ROUTE}")


def base_environment(**extra: str) -> dict[str, str]:
    """The environment of a process that is no particular function (the floor's)."""
    return {**_LAMBDA, **ENVIRON, **extra}


def table_definition(*, stream: bool = True) -> dict[str, Any]:
    """CreateTable arguments for the conversation table, from the template's own KeySchema."""
    return conversation_table_definition(template(), stream=stream)
