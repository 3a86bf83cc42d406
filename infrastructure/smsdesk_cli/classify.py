"""``smsdesk classify``: how smsdesk reads texts, one per line on stdin, one JSON object a line out.

The text goes through what the inbound webhook does before classifying (Unicode normalised,
control and zero-width characters dropped, card numbers redacted), so what you see is what a
customer's text would get. Needs nothing but the package: no AWS, no local stack.

``language`` is the language detected (null when unsure: replies then stay in the customer's last
known language, English at first); ``confidence`` is 1.0 when a keyword or rule decided, else the
model's probability of the intent given.
"""

from __future__ import annotations

import json
from typing import TextIO

from smsdesk.classification import classify
from smsdesk.redaction import redact_card_numbers
from smsdesk.twilio_webhook import normalise_text


def run(lines: TextIO, out: TextIO) -> int:
    for line in lines:
        original = line.rstrip("\r\n")
        text = redact_card_numbers(normalise_text(original))
        if not text:
            continue
        result = classify(text)
        complaint = result.intent == "complaint"
        print(
            json.dumps(
                {
                    "text": text,
                    "intent": str(result.intent),
                    "escalate": result.escalate,
                    "escalation_reasons": [str(r) for r in result.escalation_reasons],
                    "reason": result.reason,
                    "keyword": result.keyword or result.auto_reply_keyword,
                    "category": str(result.category) if complaint else None,
                    "language": result.language,
                    "confidence": result.confidence,
                    "possible_opt_out": result.possible_opt_out,
                    "complaint_too": result.complaint_too,
                },
                ensure_ascii=False,
            ),
            file=out,
            flush=True,
        )
    return 0
