"""Fixtures shared by the suite: a real Redis server for the shared rate budget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests._redis import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real ``redis-server`` for the whole session."""
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def budget_key() -> str:
    """A Redis key prefix of the test's own, so tests never share a budget by accident."""
    return f"hubengage-test:{uuid.uuid4().hex}"
