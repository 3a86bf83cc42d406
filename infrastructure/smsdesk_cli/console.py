"""``smsdesk console publish``: the console's files (console/) into a deployed stack's bucket.

CloudFront serves the bucket (template.yaml, ConsoleDistribution). Beside the files goes
config.json, made from the stack's outputs: the agent API's URL, the Cognito endpoint of its
region and the console's client, so the same files work for any stack. HTML and config.json
are served ``no-cache`` (a new release is seen at once), scripts and styles for a minute.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any, TextIO

CONSOLE = Path(__file__).resolve().parents[2] / "console"
POLL_SECONDS = 3


def console_config(outputs: dict[str, str], region: str) -> dict[str, Any]:
    return {
        "api": outputs["AgentApiUrl"],
        "region": region,
        "cognito_endpoint": f"https://cognito-idp.{region}.amazonaws.com/",
        "client_id": outputs["ConsoleClientId"],
        "poll_seconds": POLL_SECONDS,
    }


def publish(s3: Any, outputs: dict[str, str], region: str, out: TextIO) -> int:
    bucket = outputs["ConsoleBucketName"]
    files = sorted(p for p in CONSOLE.rglob("*") if p.is_file())
    for path in files:
        key = path.relative_to(CONSOLE).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = "no-cache" if kind == "text/html" else "max-age=60"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl=cache)
    config = json.dumps(console_config(outputs, region), indent=2).encode()
    s3.put_object(
        Bucket=bucket, Key="config.json", Body=config, ContentType="application/json", CacheControl="no-cache"
    )
    print(
        f"published {len(files)} files and config.json to s3://{bucket}; the console: {outputs.get('ConsoleUrl', '')}",
        file=out,
    )
    return 0


def publish_stack(stack_name: str, region: str | None, out: TextIO) -> int:
    from botocore.session import get_session

    from smsdesk_cli.connect import stack_settings

    session = get_session()
    region = region or session.get_config_variable("region") or "us-east-1"
    outputs = stack_settings(stack_name, region)
    return publish(session.create_client("s3", region_name=region), outputs, region, out)
