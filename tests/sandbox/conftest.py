"""Fixtures for the sandbox's API tests: a running sandbox and an authorised httpx client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from catena_nb.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """One fast sandbox per test module."""
    with Sandbox(seed=7, tsp_latency=0.0, time_scale=0.001) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    """An httpx client of the sandbox, authorised with its ready token."""
    with httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.token}"}, timeout=30) as c:
        yield c
