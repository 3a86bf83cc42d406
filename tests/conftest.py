"""Shared fixtures: no test ever reaches real AWS or Twilio, and no test's output leaks a number."""

import functools
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

import botocore.loaders
import botocore.session

from tests.support.mutation_scope import pytest_collection_modifyitems  # noqa: F401 — make mutate's tests
from tests.support.privacy import pytest_runtest_makereport  # noqa: F401 — the privacy check, on every test

# pynamodb gives each connection its own botocore Session, and every Session parses the service
# models again; bind_table() (each test, each function's cold start) drops the connections. One
# shared loader keeps the parsed JSON: the same data, read once per process instead of per client.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


@pytest.fixture
def anyio_backend():
    return "asyncio"
