"""Shared fixtures: no test ever reaches real AWS or Twilio."""

import os

import pytest

# Set before anything imports botocore: tests never use real credentials or endpoints.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def anyio_backend():
    return "asyncio"
