"""``smsdesk``: the command line for agents and developers.

Talks to the local stack (``make local``, http://127.0.0.1:3000) by default, or to a deployed
stack's agent API given with ``--api`` (or ``SMSDESK_API``), with a token of the agent user pool
(the machine client's, or a person's with ``--user``; see smsdesk_cli.http).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from smsdesk_cli.http import DEFAULT_API, Stack, StackError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smsdesk",
        description="smsdesk: customer complaints by text message.",
        epilog="The local stack runs with `make local`. For a deployed stack pass its AgentApiUrl output as --api.",
    )
    parser.add_argument(
        "--api",
        default=os.environ.get("SMSDESK_API", DEFAULT_API),
        help=f"the stack's API URL (default: $SMSDESK_API or {DEFAULT_API})",
    )
    parser.add_argument("--region", help="the deployed API's region (default: read from its URL)")
    parser.add_argument(
        "--user",
        default=os.environ.get("SMSDESK_USER"),
        help="act as this agent (e-mail; password from $SMSDESK_PASSWORD or asked), not as a system",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    text = commands.add_parser("text", help="text the business number as a customer would (local stack)")
    text.add_argument("--from", dest="sender", required=True, help="the customer's number, E.164 (+14155550100)")
    text.add_argument("--from-state", help="Twilio's FromState for the sender (e.g. CA)")
    text.add_argument("--media", type=int, default=0, help="how many photos the text carries")
    text.add_argument("--no-wait", action="store_true", help="do not wait for smsdesk's answer")
    text.add_argument("body", help="what the customer writes")

    outbox = commands.add_parser("outbox", help="what smsdesk texted (the local Twilio stand-in's Messages list)")
    outbox.add_argument("--to", help="only texts to this number")
    outbox.add_argument("--limit", type=int, default=100)
    outbox.add_argument("--json", action="store_true", help="one JSON object a line")

    commands.add_parser("classify", help="read texts from stdin, one per line; print how smsdesk reads each (JSON)")

    listing = commands.add_parser("conversations", help="list conversations: open first, urgent first")
    listing.add_argument(
        "--status",
        default="open",
        help="open (everything not resolved), resolved, closed, or one status: acknowledged, waiting_on_agent...",
    )
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="one JSON object a line")

    show = commands.add_parser("show", help="one conversation with its messages")
    show.add_argument("reference", help="e.g. C-7F3K")
    show.add_argument("--json", action="store_true")

    reply = commands.add_parser("reply", help="text the customer (through the send gateway: consent, quiet hours)")
    reply.add_argument("reference")
    reply.add_argument("body")

    resolve = commands.add_parser("resolve", help="resolve a conversation (schedules the satisfaction check)")
    resolve.add_argument("reference")
    resolve.add_argument("--note", help="what was done")

    reopen = commands.add_parser("reopen", help="reopen a resolved or closed conversation")
    reopen.add_argument("reference")

    opt_out = commands.add_parser("opt-out", help="record that a customer asked (by phone, e-mail) not to be texted")
    opt_out.add_argument("number")
    opt_out.add_argument("--reason")

    agents = commands.add_parser("agents", help="the people who sign in to the console: add, list, remove")
    agents.add_argument("action", choices=["add", "list", "remove"])
    agents.add_argument("email", nargs="?", help="the agent's e-mail address (their username)")
    agents.add_argument("--supervisor", action="store_true", help="with add: also in the supervisors group")
    agents.add_argument(
        "--pool-id",
        default=os.environ.get("SMSDESK_USER_POOL_ID"),
        help="a deployed stack's AgentUserPoolId (default: $SMSDESK_USER_POOL_ID; locally found)",
    )

    console = commands.add_parser("console", help="publish the console's files to a deployed stack's bucket")
    console.add_argument("action", choices=["publish"])
    console.add_argument("--stack", default="smsdesk", help="the CloudFormation stack name (default: smsdesk)")
    clear = commands.add_parser(
        "not-an-opt-out", help="a possible opt-out is not one: texts to the number may go again (confirm with opt-out)"
    )
    clear.add_argument("number")

    connect = commands.add_parser(
        "connect-number", help="point the Twilio number (or Messaging Service) at a deployed stack's webhook"
    )
    connect.add_argument("--stack", default="smsdesk", help="the CloudFormation stack name (default: smsdesk)")
    connect.add_argument("--number", help="the number to connect (default: the stack's TwilioSender)")

    report = commands.add_parser(
        "report", help="the analytics of a period: a table, or --json, --csv FILE, --html FILE (docs/metrics.md)"
    )
    report.add_argument("--since", help="the last N days or weeks, ending today: 30d, 4w (default: 30d)")
    report.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="the first day (business time zone)")
    report.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="the last day (default: today)")
    report.add_argument("--group-by", choices=["day", "week", "month"], default="day", help="for the trends")
    report.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    report.add_argument("--csv", metavar="FILE", help="write the figures per day (week, month) as CSV")
    report.add_argument("--html", metavar="FILE", help="write an HTML page with charts (opens offline)")

    analytics = commands.add_parser("analytics", help="`analytics rebuild`: recount the figures from the conversations")
    analytics.add_argument("action", choices=["rebuild"])
    analytics.add_argument("--stack", help="a deployed stack's name (default: the local stack)")

    clock = commands.add_parser("clock", help="the local clock: show it, or `clock advance 24h` (90m, 30h, 2d)")
    clock.add_argument("action", nargs="?", choices=["show", "advance"], default="show")
    clock.add_argument("duration", nargs="?", help="with advance: how far, e.g. 24h")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    if args.command == "classify":
        from smsdesk_cli.classify import run

        return run(sys.stdin, out)
    if args.command == "console":
        from smsdesk_cli.connect import ConnectError
        from smsdesk_cli.console import publish_stack

        try:
            return publish_stack(args.stack, args.region, out)
        except ConnectError as error:
            print(f"smsdesk: {error}", file=err)
            return 1
    if args.command == "connect-number":
        from smsdesk_cli.connect import ConnectError, connect

        try:
            return connect(args.stack, region=args.region, number=args.number, out=out)
        except ConnectError as error:
            print(f"smsdesk: {error}", file=err)
            return 1
    try:
        stack = Stack(args.api, args.region, user=args.user)
        return _dispatch(args, stack, out, err)
    except StackError as error:
        print(f"smsdesk: {error}", file=err)
        return 2


def _dispatch(args: argparse.Namespace, stack: Stack, out: TextIO, err: TextIO) -> int:
    from smsdesk_cli import desk, texting

    match args.command:
        case "text":
            return texting.text(
                stack,
                args.sender,
                args.body,
                from_state=args.from_state,
                media=args.media,
                wait=not args.no_wait,
                out=out,
            )
        case "outbox":
            return texting.outbox(stack, to=args.to, as_json=args.json, limit=args.limit, out=out)
        case "clock":
            if args.action == "advance" and not args.duration:
                print("smsdesk: clock advance needs a duration, e.g. 24h", file=err)
                return 2
            return texting.clock(stack, args.duration if args.action == "advance" else None, out=out)
        case "conversations":
            return desk.conversations(stack, status=args.status, limit=args.limit, as_json=args.json, out=out, err=err)
        case "show":
            return desk.show(stack, args.reference, as_json=args.json, out=out, err=err)
        case "reply":
            return desk.reply(stack, args.reference, args.body, out=out, err=err)
        case "resolve":
            return desk.resolve(stack, args.reference, args.note, out=out, err=err)
        case "reopen":
            return desk.reopen(stack, args.reference, out=out, err=err)
        case "opt-out":
            return desk.opt_out(stack, args.number, args.reason, out=out, err=err)
        case "agents":
            return _agents(args, stack, out, err)
        case "report":
            from smsdesk_cli import report

            return report.run(
                stack,
                since=args.since,
                first=args.first,
                last=args.last,
                group_by=args.group_by,
                as_json=args.json,
                csv_file=args.csv,
                html_file=args.html,
                out=out,
                err=err,
            )
        case "analytics":
            from smsdesk_cli import analytics

            return analytics.rebuild(stack, stack_name=args.stack, region=args.region, out=out, err=err)
        case "not-an-opt-out":
            return desk.not_an_opt_out(stack, args.number, out=out, err=err)
    raise AssertionError(args.command)


def _agents(args: argparse.Namespace, stack: Stack, out: TextIO, err: TextIO) -> int:
    import boto3

    from smsdesk_cli.agents import command

    if args.pool_id:
        cognito, pool_id = boto3.client("cognito-idp", region_name=args.region), args.pool_id
    elif stack.is_local:
        info = stack.local_info()
        cognito = boto3.client(
            "cognito-idp",
            endpoint_url=info["aws_endpoint"],
            region_name=info["user_pool"]["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        pool_id = info["user_pool"]["id"]
    else:
        raise StackError("pass --pool-id (the stack's AgentUserPoolId output)")
    return command(
        cognito,
        pool_id,
        args.action,
        args.email,
        supervisor=args.supervisor,
        local=stack.is_local and not args.pool_id,
        out=out,
        err=err,
    )


if __name__ == "__main__":
    sys.exit(main())
