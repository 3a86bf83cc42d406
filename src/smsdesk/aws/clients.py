"""botocore clients, created once per process with timeouts that suit a Lambda.

smsdesk talks to AWS through plain botocore clients rather than boto3: pynamodb already loads
botocore, and boto3 (with s3transfer and its resource layer) would add to every cold start
for nothing smsdesk uses (measured in docs/decisions.md, section 6).
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.session import get_session

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


_session: Any = None
_creating = threading.Lock()


def session() -> Any:
    """The process's botocore session, shared with pynamodb (smsdesk.table): what it loads
    (endpoints, service models, credentials) is loaded once per cold start, not once per client."""
    return _session if _session is not None else new_session()


def new_session() -> Any:
    """Start the process's session (smsdesk.table.bind_table, at cold start)."""
    global _session
    _session = get_session()
    return _session


@cache
def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    with _creating:  # a botocore session creates one client at a time (the local stack has threads)
        return session().create_client(service, region_name=region, config=_CONFIG)
