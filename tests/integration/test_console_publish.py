"""`smsdesk console publish`: the console's files and a config.json for the stack, in its bucket (moto's S3)."""

from __future__ import annotations

import io
import json

import boto3

from smsdesk_cli.console import CONSOLE, publish

OUTPUTS = {
    "ConsoleBucketName": "smsdesk-console-bucket",
    "AgentApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "ConsoleClientId": "4example0client",
    "ConsoleUrl": "https://d111.cloudfront.net",
}


def test_publishing_puts_every_file_and_the_stacks_config_with_their_types(aws):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=OUTPUTS["ConsoleBucketName"])
    out = io.StringIO()
    assert publish(s3, OUTPUTS, "eu-west-1", out) == 0

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=OUTPUTS["ConsoleBucketName"])["Contents"]}
    assert keys == {p.name for p in CONSOLE.iterdir()} | {"config.json"}
    index = s3.get_object(Bucket=OUTPUTS["ConsoleBucketName"], Key="index.html")
    assert (index["ContentType"], index["CacheControl"]) == ("text/html", "no-cache")
    config = json.loads(s3.get_object(Bucket=OUTPUTS["ConsoleBucketName"], Key="config.json")["Body"].read())
    assert config == {
        "api": OUTPUTS["AgentApiUrl"],
        "region": "eu-west-1",
        "cognito_endpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
        "client_id": "4example0client",
        "poll_seconds": 3,
    }
    assert "https://d111.cloudfront.net" in out.getvalue()
