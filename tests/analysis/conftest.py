"""Fixtures of the analysis tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.analysis_records import small_operations


@pytest.fixture
def small() -> list[dict[str, Any]]:
    """samsara: 3 successes, 1 auth failure, 1 pending; motive: 2 network failures after retries."""
    return small_operations()
