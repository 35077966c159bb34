"""Lookups, `create_many`, `operations.wait` and `AuditStore.sync` against the sandbox's API faults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.faults import run_round


@pytest.mark.slow
@pytest.mark.parametrize("rate", [0.01, 0.1, 0.3])
def test_audit_round_under_faults_loses_nothing_and_sends_each_row_at_most_once(
    rate: float, tmp_path: Path
) -> None:
    """At 1%, 10% and 30% faults every row gets an outcome, none is created twice, the store loses nothing."""
    figures = run_round(rate, rows=80, store_path=tmp_path / "audit.duckdb")
    assert figures.rows_with_outcome == 80
    assert figures.most_creates_of_a_row <= 1
    assert figures.answered_not_created_once == 0
    assert figures.refused_but_created == 0
    assert figures.messages_created >= figures.rows_answered
    assert figures.messages_created <= figures.rows_answered + figures.rows_unknown
    assert figures.records_lost == 0
    assert figures.operations_in_store == figures.operations_on_server >= figures.rows_answered
    assert figures.still_pending_after_wait == 0
    if rate >= 0.1:
        assert sum(figures.faults_injected.values()) > 0
        assert figures.retries > 0  # the lookups met faults and got through them
