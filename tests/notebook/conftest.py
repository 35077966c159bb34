"""Fixtures of the widget tests: an in-memory client, and a sandbox with a real client (one per package)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox
from tests.support.fake_client import FakeClient


@pytest.fixture
def fake() -> FakeClient:
    """A fresh in-memory client with 45 operations."""
    return FakeClient()


@pytest.fixture(scope="package")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox for the widgets that talk to a server."""
    with Sandbox(seed=7, time_scale=0.001, tsp_latency=0) as sb:
        yield sb


@pytest.fixture(scope="package")
def client(sandbox: Sandbox) -> Iterator[CatenaClient]:
    """The real client on that sandbox."""
    with CatenaClient(base_url=sandbox.url, token=sandbox.token) as c:
        yield c
