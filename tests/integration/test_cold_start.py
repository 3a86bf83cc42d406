"""A function's cold start runs no garbage-collection pass over what it makes (smsdesk.cold_start).

In Lambda a process is one function: its handler pauses the collector while it loads and until
its first invocation returns, then freezes what the cold start made and resumes. The local stack
and these tests hold many functions in one process: after a load the collector runs and nothing
is frozen, before or after an invocation.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import ENVIRON
from tests.support.lambda_functions import function_spec, load_function

ROOT = Path(__file__).resolve().parents[2]

# A fresh process, as Lambda's: count the collector's passes while the handler loads and while
# its first invocation runs (an event each function refuses before any AWS call), look after each.
_LAMBDA_PROCESS = """
import gc, json, sys
passes = []
gc.callbacks.append(lambda phase, info: phase == "stop" and passes.append(info["generation"]))
sys.path.insert(0, sys.argv[1])
import app

def state():
    return {"passes": list(passes), "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}

class Context:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

def invoke():
    try:
        app.lambda_handler(json.loads(sys.argv[2]), Context())
    except Exception:  # a failed first invocation ends the cold start too
        pass
    return state()

loaded = state()
print(json.dumps({"loaded": loaded, "invoked": invoke(), "second": invoke()}))
"""

REFUSED_EVENTS = {
    "InboundSmsFunction": {"version": "2.0", "headers": {}, "requestContext": {"http": {"method": "POST"}}},
    "AgentApiFunction": {
        "version": "2.0",
        "routeKey": "GET /canned-responses",
        "rawPath": "/canned-responses",
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": "/canned-responses"}, "stage": "$default"},
    },  # no token's claims: a 401 problem
    "OutboxRelayFunction": {"Records": []},  # not a batch Powertools knows: the invocation fails
}


@pytest.mark.parametrize("logical_id", sorted(REFUSED_EVENTS))
def test_a_lambda_process_collects_nothing_until_its_first_invocation_returns(logical_id):
    spec = function_spec(logical_id)
    done = subprocess.run(
        [sys.executable, "-c", _LAMBDA_PROCESS, str(ROOT / spec.code_uri), json.dumps(REFUSED_EVENTS[logical_id])],
        env={**ENVIRON, **spec.variables, "PATH": "/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_NAME": logical_id},
        cwd=ROOT / spec.code_uri,
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(done.stdout.splitlines()[-1])

    # Without the pause: some 25 passes while the webhook loads, 2 of them over the older
    # generation. With it: at most one young pass, while the smsdesk package itself loads
    # (before cold_start can pause), and none during the first invocation.
    assert len(seen["invoked"]["passes"]) <= 1 and set(seen["invoked"]["passes"]) <= {0}
    assert not seen["loaded"]["enabled"] and seen["loaded"]["frozen"] == 0  # paused through the load
    assert seen["invoked"]["enabled"]  # collecting again once the first invocation returned
    assert seen["invoked"]["frozen"] > 10_000  # what the cold start made is left out of later passes
    assert seen["second"]["frozen"] <= seen["invoked"]["frozen"]  # a later invocation freezes nothing more


def test_loading_functions_into_one_process_leaves_nothing_frozen(monkeypatch):
    inbound = load_function("InboundSmsFunction", monkeypatch, ENVIRON)  # a cold start reads configuration only
    load_function("AgentApiFunction", monkeypatch, ENVIRON)
    assert gc.isenabled()

    inbound.invoke({"version": "2.0", "headers": {}, "requestContext": {"http": {"method": "POST"}}})

    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_agent_api_loads_without_pydantic_or_the_analytics():
    # Its requests are parsed by smsdesk.agent_requests and its OpenAPI document is made at test
    # time; the analytics load with the first report (docs/decisions.md, 16).
    spec = function_spec("AgentApiFunction")
    loaded = "import sys; sys.path.insert(0, '.'); import app; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", loaded],
        env={**ENVIRON, **spec.variables, "PATH": "/usr/bin:/bin"},
        cwd=ROOT / spec.code_uri,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(done.stdout.split())
    assert "aws_lambda_powertools.event_handler" in modules
    assert not modules & {"pydantic", "pydantic_core", "smsdesk.analytics", "smsdesk.analytics_store"}
