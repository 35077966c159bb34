"""AuditStore.rates: the outcome rates and Wilson intervals computed in SQL equal those of the frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from catena_nb.analysis import outcome_rates, rates_over_time
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.records import lookup_shape
from catena_nb.sandbox.sim.world import build_world
from catena_nb.store import AuditStore
from catena_nb.store.rates import RATE_COLUMNS, rates_sql


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A store file holding five days of seeded history, pending operations included."""
    hist = generate_history(build_world(5), 5, 5, "2026-11-01")
    ops = [lookup_shape(op) for op in hist.operations]
    for op in ops[::40]:
        op["status"] = "pending"
    path = tmp_path_factory.mktemp("rates") / "audit.duckdb"
    with AuditStore(path) as audit:
        audit.upsert(ops)
    with AuditStore(path, read_only=True) as audit:
        yield audit


def assert_rates_equal(sql: pd.DataFrame, frames: pd.DataFrame, keys: list[str]) -> None:
    """Same groups in the same order, counts equal, rates within 1e-12 (NaN where nothing settled)."""
    assert len(sql) == len(frames)
    for key in keys:
        left = sql[key].astype(object).where(sql[key].notna(), None).tolist()
        right = frames[key].astype(object).where(frames[key].notna(), None).tolist()
        assert left == [None if r is None else str(r) for r in right], key
    for col in RATE_COLUMNS:
        a, b = sql[col].to_numpy(), frames[col].to_numpy()
        if col in ("n", "successes", "failures", "pending", "settled", "small_sample"):
            assert a.tolist() == b.tolist(), col
        else:
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=0, atol=1e-12, err_msg=col)


@pytest.mark.parametrize(
    "by", [None, "source_name", ["source_name", "error_type"], "connection_id", ["error_type"]]
)
def test_rates_in_sql_equal_outcome_rates_of_the_frame(store, by):
    """Grouped or not, the SQL rates equal cn.outcome_rates on the operations frame, in its order."""
    keys = [] if by is None else [by] if isinstance(by, str) else by
    assert_rates_equal(store.rates(by=by), outcome_rates(store.operations_frame(), by=by), keys)


@pytest.mark.parametrize(
    ("freq", "by"), [("D", None), ("h", "source_name"), ("W", None), ("MS", "error_type")]
)
def test_rates_by_period_equal_rates_over_time(store, freq, by):
    """With a freq, the SQL rates equal cn.rates_over_time, empty buckets included."""
    keys = [] if by is None else [by]
    expected = rates_over_time(store.operations_frame(), freq=freq, by=by)
    got = store.rates(by=by, freq=freq)
    assert_rates_equal(got, expected, keys)
    assert got["period"].tolist() == expected["period"].tolist()


def test_rates_take_a_window_and_refuse_what_is_not_a_column(store):
    """since/until select by created_at; a group that is not a plain column name is refused before SQL."""
    since, until = "2026-10-29", "2026-10-31"
    frame = store.operations_frame(since=since, until=until)
    assert_rates_equal(store.rates(by="source_name", since=since, until=until),
                       outcome_rates(frame, by="source_name"), ["source_name"])  # fmt: skip
    with pytest.raises(ValueError, match="cannot group"):
        store.rates(by="status; DROP TABLE operations")
    with pytest.raises(ValueError, match="cannot bucket"):
        rates_sql("operations", freq="fortnightly")
