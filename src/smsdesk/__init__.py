"""smsdesk: customer complaints by text message.

This package is the domain shared by every Lambda function (deployed as one layer): the
conversation model and its table, classification, consent, business and quiet hours, every
customer-facing text, and the one send gateway. It holds no AWS event shapes: the handlers in
``functions/`` translate events into calls on it. ``smsdesk.aws`` holds the thin adapters to AWS
services the domain needs (Secrets Manager, EventBridge, Scheduler).
"""

from smsdesk import regex_programs as _regex_programs

_regex_programs.load()  # the layer's precompiled regular expressions, before any module compiles one
