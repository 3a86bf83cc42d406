"""``python -m smsdesk_local`` (``make local``): smsdesk on this machine, until Ctrl-C."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from datetime import datetime

from smsdesk_local.stack import LocalSettings, LocalStack
from smsdesk_local.template import ROOT

FUNCTION_LOG = ROOT / ".local" / "functions.log"


def _parameters(text: str) -> dict[str, str]:
    """``"BusinessName='Acme Outdoor' SurveyDelayHours=2"``, as sam deploy --parameter-overrides;
    checked against the template's parameters as CloudFormation checks them."""
    from smsdesk_local.template import load_template, parameter_problems

    try:
        items = shlex.split(text)
    except ValueError as error:  # an unclosed quote
        raise argparse.ArgumentTypeError(
            f"{text!r}: {error} (quote values with spaces: BusinessName='Bike Barn')"
        ) from None
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"{item!r} is not Key=Value")
        pairs[key] = value
    if problems := parameter_problems(load_template(), pairs):
        raise argparse.ArgumentTypeError("; ".join(problems))
    return pairs


def _start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 time like 2026-11-23T15:00:00Z") from None
    if start.tzinfo is None:
        raise argparse.ArgumentTypeError("give the start time a zone, e.g. 2026-11-23T15:00:00Z")
    return start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="smsdesk_local", description="Run smsdesk locally: no AWS account, no Docker."
    )
    parser.add_argument("--port", type=int, default=3000, help="the API's port (0: any free port)")
    parser.add_argument("--twilio-port", type=int, default=None, help="the Twilio stand-in's port (default: port+1)")
    parser.add_argument("--start", type=_start, default=None, help="where the local clock starts (ISO-8601)")
    parser.add_argument("--parameter-overrides", type=_parameters, default={}, help="template parameters, Key=Value")
    parser.add_argument("--logs", action="store_true", help="show the functions' own JSON logs and metrics")
    args = parser.parse_args(argv)

    from smsdesk.phone_numbers import mask_in_text

    console = sys.stdout
    if not args.logs:
        # The functions print JSON logs and EMF metrics on stdout, as in Lambda; locally they go
        # to a file, and the console shows one line per invocation.
        FUNCTION_LOG.parent.mkdir(exist_ok=True)
        sys.stdout = open(FUNCTION_LOG, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 — for the process's life

    def say(line: str) -> None:
        print(line, file=console, flush=True)

    def report(function: str, trigger: str, outcome: str, ms: float | None) -> None:
        took = f" ({ms:.0f} ms)" if ms is not None else ""
        clock = stack.clock.now().strftime("%H:%M:%S")
        say(mask_in_text(f"{clock}  {function:<26} {trigger:<34} {outcome}{took}"))

    settings = LocalSettings(
        port=args.port, twilio_port=args.twilio_port, start=args.start, parameters=args.parameter_overrides
    )
    stack = LocalStack(settings, report=report, say=say)
    from smsdesk.errors import ConfigurationError

    try:
        stack.start()
    except OSError as error:
        print(f"smsdesk local could not start: {error}", file=sys.stderr)
        return 1
    except ConfigurationError as error:  # what a function's cold start refused, as deployed
        print(f"smsdesk local could not start: {error}", file=sys.stderr)
        stack.stop()
        return 1
    info = stack.info()
    twilio = info["twilio"]
    web = info["console"]
    logs = "shown here" if args.logs else f"{FUNCTION_LOG.relative_to(ROOT)} (--logs shows them here)"
    from smsdesk_cli.http import DEFAULT_API

    point = (
        ""
        if info["api"] == DEFAULT_API
        else f"\n  export SMSDESK_API={info['api']}   # this stack is not on the default port"
    )
    say(
        f"""smsdesk is running locally on {info["api"]}  (no AWS account, no Docker)

  Twilio webhooks   POST {info["webhooks"]["inbound"]}
                    POST {info["webhooks"]["status"]}
  Agent console     {web["url"]}
    agent           {web["agent"]["email"]}  password {web["agent"]["password"]}
    supervisor      {web["supervisor"]["email"]}  password {web["supervisor"]["password"]}
  Agent API (JWT)   {", ".join(r for r in info["routes"] if not r.split()[1].startswith("/sms/"))}
  Twilio stand-in   {twilio["api_base_url"]}  (Messages API: create, fetch, list; customers' media)
    account SID     {twilio["account_sid"]}
    auth token      {twilio["auth_token"]}
    business number {twilio["number"]}
  AWS (moto)        {info["aws_endpoint"]}
  Local clock       {info["clock"]}
  Function logs     {logs}

Text it from another terminal:{point}
  uv run smsdesk text --from +14155550100 "My order 4432 arrived broken"
  uv run smsdesk outbox --to +14155550100
  uv run smsdesk conversations
  uv run smsdesk clock advance 24h

Activity (Ctrl-C to stop):"""
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
