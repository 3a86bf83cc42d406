"""The media bucket: customers' photos, private, encrypted by S3 (SSE-S3), expired by its
lifecycle rule (template.yaml, MediaBucket; docs/decisions.md).

The media copy function puts objects; the agent API only signs links: a pre-signed GET valid
for a few minutes (smsdesk.media.LINK_SECONDS), computed locally from the function's credentials,
so showing a thread costs no S3 request. The client is created on first use: reading a thread
without photos loads no S3 model.
"""

from __future__ import annotations

from typing import Any


class MediaBucket:
    def __init__(self, bucket: str, s3_client: Any = None) -> None:
        self._bucket = bucket
        self._client = s3_client

    def _s3(self) -> Any:
        if self._client is None:
            from botocore.config import Config

            from smsdesk.aws.clients import client

            # Links are signed with SigV4 (query parameters X-Amz-*): what every region accepts.
            self._client = client("s3", Config(signature_version="s3v4"))
        return self._client

    def put(self, key: str, body: bytes, content_type: str) -> None:
        # Encrypted by the bucket's default (SSE-S3); a redelivery writes the same bytes again.
        self._s3().put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def link(self, key: str, seconds: int) -> str:
        params = {"Bucket": self._bucket, "Key": key}
        return str(self._s3().generate_presigned_url("get_object", Params=params, ExpiresIn=seconds))
