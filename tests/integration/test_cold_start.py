"""A function's cold start runs no garbage-collection pass over what it loads (smsdesk.cold_start).

In Lambda a process is one function: its handler pauses the collector while it loads, then
freezes what it loaded and resumes. The local stack and these tests hold many functions in one
process: after a load nothing stays frozen and the collector runs.
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

# A fresh process, as Lambda's: count the collections while the handler loads, then look.
_LAMBDA_PROCESS = """
import gc, json, sys
passes = []
gc.callbacks.append(lambda phase, info: phase == "stop" and passes.append(info["generation"]))
sys.path.insert(0, sys.argv[1])
import app
print(json.dumps({"passes": passes, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


@pytest.mark.parametrize("logical_id", ["InboundSmsFunction", "AgentApiFunction", "OutboxRelayFunction"])
def test_a_lambda_process_loads_its_function_without_collecting_then_collects(logical_id):
    spec = function_spec(logical_id)
    done = subprocess.run(
        [sys.executable, "-c", _LAMBDA_PROCESS, str(ROOT / spec.code_uri)],
        env={**ENVIRON, **spec.variables, "PATH": "/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_NAME": logical_id},
        cwd=ROOT / spec.code_uri,
        capture_output=True,
        text=True,
        check=True,
    )
    after = json.loads(done.stdout.splitlines()[-1])

    # Without the pause: some 25 passes, 2 of them over the older generation. With it: at most
    # one young pass, while the smsdesk package itself loads (before cold_start can pause).
    assert len(after["passes"]) <= 1 and set(after["passes"]) <= {0}
    assert after["enabled"]  # and collecting again once loaded
    assert after["frozen"] > 10_000  # what it loaded is left out of later passes


def test_loading_functions_into_one_process_leaves_nothing_frozen(monkeypatch):
    load_function("InboundSmsFunction", monkeypatch, ENVIRON)  # a cold start reads its configuration only
    load_function("AgentApiFunction", monkeypatch, ENVIRON)

    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
