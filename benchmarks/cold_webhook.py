"""Cold webhook: a customer's first text to a new execution environment, as the customer feels it.

Each sample is one fresh ``python -c`` process that imports a webhook and answers one signed
inbound text against an embedded moto server (the table from template.yaml, the Twilio secret):
the import, the clients, the secret, the work moved into the first request, all of it. The child
times itself from before its first import to the answer. Three subjects, interleaved round by
round so that machine noise hits them alike:

* **smsdesk**: the inbound webhook's handler (functions/inbound_sms), its template environment;
* **floor**: the same AWS calls with plain botocore and nothing else: ``GetSecretValue``, a
  consistent ``GetItem`` of the customer, ``TransactWriteItems`` of the five items a new
  complaint writes (the handler's own items, read back once, with fresh keys);
* **peer**: a typical Powertools webhook for the same job (benchmarks/peer_webhook: Logger,
  Metrics, Tracer, APIGatewayHttpResolver, Parameters, twilio's validator, pynamodb), the same
  AWS calls.

As in the cold-start benchmark, every module is precompiled in a private bytecode cache and
smsdesk's regular expressions are compiled as the layer's build compiles them (what the layer
ships), and each child can import only what its deployment would carry: the layer's
packages, plus boto3 and the X-Ray SDK for the peer (which would ship them). The table is emptied
between samples, so each meets the same small table. Lambda's own environment variables are set
(``LAMBDA_TASK_ROOT``, ``_X_AMZN_TRACE_ID``), so the peer's Tracer is active as in Lambda; its
segments go to the X-Ray daemon address, where nothing listens (UDP, never waited for).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

from benchmarks import stack
from benchmarks.cold_start import _LAYER_ONLY, _not_in_the_layer, regex_programs
from benchmarks.report import ROOT, Options, Outcome, Row, median, ratio, rounded
from benchmarks.warm_webhook import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    _Complaints,
    _empty,
    _environment,
    _Floor,
    _moto_server,
    _read_back,
    _sid_of,
)

TITLE = "cold webhook"
TARGET_FLOOR = 1.3
TARGET_PEER = 0.6
PEER = ROOT / "benchmarks" / "peer_webhook"
PEER_PACKAGES = {"boto3", "s3transfer", "aws_xray_sdk", "wrapt"}  # what the peer's layer would add

_CHILD = """\
import sys, time
{layer}sys.path.insert(0, {folder!r})
import json
payload = json.loads(open({payload!r}).read())

class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    function_version = "$LATEST"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 10_000

started = time.perf_counter()
{body}
elapsed = (time.perf_counter() - started) * 1000
sys.stderr.write(repr(elapsed))
"""

_HANDLER = """\
import app
answer = app.lambda_handler(payload["event"], Context())
assert answer["statusCode"] == 200, answer
"""

_FLOOR = """\
import botocore.session
session = botocore.session.get_session()
secrets = session.create_client("secretsmanager")
dynamodb = session.create_client("dynamodb")
secrets.get_secret_value(SecretId=payload["secret_id"])
found = dynamodb.get_item(TableName=payload["table"], Key=payload["key"], ConsistentRead=True)
assert "Item" not in found
dynamodb.transact_write_items(TransactItems=[
    {"Put": {"TableName": payload["table"], "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
    for item in payload["items"]
])
"""


def _code(folder: Path, body: str, payload: Path, blocked: set[str]) -> str:
    return _CHILD.format(layer=_LAYER_ONLY.format(blocked=blocked), folder=str(folder), payload=str(payload), body=body)


def _run(code: str, env: dict[str, str], cwd: Path) -> float:
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"a cold webhook sample failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(ast.literal_eval(done.stderr.strip().splitlines()[-1]))


def run(options: Options) -> Outcome:
    import boto3

    function = stack.inbound_webhook()
    public_url = stack.ENVIRON["PUBLIC_BASE_URL"] + stack.INBOUND_ROUTE.split(" ", 1)[1]
    scratch = Path(tempfile.mkdtemp(prefix="smsdesk-bench-coldhook-"))
    layer_blocked = set(_not_in_the_layer())
    peer_blocked = layer_blocked - PEER_PACKAGES
    samples: dict[str, list[float]] = defaultdict(list)
    try:
        with _moto_server() as endpoint, ExitStack() as cleanup:
            lambda_env = {
                "AWS_ENDPOINT_URL": endpoint,
                "PYTHONPYCACHEPREFIX": str(scratch / "pyc"),
                "HOME": str(scratch),
                "LAMBDA_TASK_ROOT": str(function.code_uri),
                **regex_programs(scratch),
            }
            handler_env = function.environment(**lambda_env)
            floor_env = stack.base_environment(**lambda_env)
            peer_env = stack.base_environment(
                **lambda_env,
                POWERTOOLS_SERVICE_NAME="peer",
                POWERTOOLS_METRICS_NAMESPACE="peer",
                AWS_LAMBDA_FUNCTION_NAME="peer",
            )
            table = handler_env["TABLE_NAME"]
            # this process's own boto3 clients (the table, the secret) talk to moto as the children do
            cleanup.enter_context(_environment({k: v for k, v in handler_env.items() if k.startswith("AWS_")}))
            dynamodb = boto3.client("dynamodb", region_name=stack.REGION, endpoint_url=endpoint)
            dynamodb.create_table(TableName=table, **stack.table_definition(stream=False))
            boto3.client("secretsmanager", region_name=stack.REGION, endpoint_url=endpoint).create_secret(
                Name=handler_env["TWILIO_SECRET_ID"],
                SecretString=json.dumps({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
            )
            complaints = _Complaints(public_url)
            payload = scratch / "payload.json"

            def sample(name: str, *, timed: bool = True) -> None:
                trace = (
                    f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
                )
                if name == "floor":
                    number, items = floor.prepare()
                    key = {"pk": {"S": f"CUSTOMER#{number}"}, "sk": {"S": "PROFILE"}}
                    payload.write_text(
                        json.dumps(
                            {"secret_id": handler_env["TWILIO_SECRET_ID"], "table": table, "key": key, "items": items}
                        )
                    )
                    code, env, cwd = _code(scratch, _FLOOR, payload, layer_blocked), floor_env, scratch
                else:
                    payload.write_text(json.dumps({"event": complaints.next()[0]}))
                    if name == "smsdesk":
                        code = _code(function.code_uri, _HANDLER, payload, layer_blocked)
                        env, cwd = handler_env, function.code_uri
                    else:
                        code, env, cwd = _code(PEER, _HANDLER, payload, peer_blocked), peer_env, PEER
                elapsed = _run(code, {**env, "_X_AMZN_TRACE_ID": trace}, cwd)
                _empty(dynamodb, table, defaultdict(int))
                if timed:
                    samples[name].append(elapsed)

            # The floor's items are the handler's own: one complaint through it, read back.
            event, number = complaints.next()
            payload.write_text(json.dumps({"event": event}))
            _run(_code(function.code_uri, _HANDLER, payload, layer_blocked), handler_env, function.code_uri)
            floor = _Floor(dynamodb, table, *_read_back(dynamodb, table, number, _sid_of(event)))
            _empty(dynamodb, table, defaultdict(int))
            for name in ("floor", "smsdesk", "peer"):  # untimed: writes the bytecode cache
                sample(name, timed=False)
            for round_number in range(options.cold_start_rounds):
                print(
                    f"  cold webhook: round {round_number + 1}/{options.cold_start_rounds}", file=sys.stderr, flush=True
                )
                for name in ("floor", "smsdesk", "peer"):
                    sample(name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    mine, floor_ms, peer_ms = (median(samples[n]) for n in ("smsdesk", "floor", "peer"))
    to_floor, to_peer = ratio(mine, floor_ms), ratio(mine, peer_ms)
    results = {
        "median_ms": rounded(mine),
        "floor_ms": rounded(floor_ms),
        "peer_ms": rounded(peer_ms),
        "ratio": rounded(to_floor, 3),
        "ratio_to_peer": rounded(to_peer, 3),
        "target": TARGET_FLOOR,
        "target_to_peer": TARGET_PEER,
        "rounds": options.cold_start_rounds,
    }
    rows = [
        Row(TITLE, "inbound webhook vs floor", f"{mine:.0f} ms", f"{floor_ms:.0f} ms", to_floor,
            f"<= {TARGET_FLOOR}x", to_floor <= TARGET_FLOOR,
            note="fresh process: import + first signed text answered, against moto; "
            "floor: the same AWS calls, botocore"),
        Row(TITLE, "inbound webhook vs peer", f"{mine:.0f} ms", f"{peer_ms:.0f} ms", to_peer,
            f"<= {TARGET_PEER}x", to_peer <= TARGET_PEER,
            note="peer: a typical Powertools webhook (benchmarks/peer_webhook), the same AWS calls"),
    ]  # fmt: skip
    details = {"samples_ms": {name: [rounded(v) for v in values] for name, values in samples.items()}}
    return Outcome(results={"cold_webhook": results}, rows=rows, details=details)
