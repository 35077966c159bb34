"""ReliabilityDashboard: filters over the frames recompute its tables and charts, escaped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from catena_nb.client import CatenaClient
from catena_nb.frames import logs_frame, messages_frame, operations_frame
from catena_nb.notebook import ReliabilityDashboard
from catena_nb.sandbox import Sandbox
from tests.support.fake_client import FakeClient, uid

# -- in memory -------------------------------------------------------------------------------------


def test_dashboard_groups_by_day_and_filters_dates(fake: FakeClient) -> None:
    """Grouping by day lists one row per UTC day; a date range and a connection narrow the rows."""
    ops_df, logs_df = operations_frame(fake.ops), logs_frame(fake.ops)
    dash = ReliabilityDashboard(ops_df, logs_df)
    assert (dash.since.value, dash.until.value) == (dt.date(2026, 10, 1), dt.date(2026, 10, 5))
    dash.group_by.value = "day"
    for day in ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"):
        assert f"<td>{day}</td>" in dash.rates.value
    dash.set_filters(since=dt.date(2026, 10, 2), until=dt.date(2026, 10, 2))
    assert "<td>2026-10-01</td>" not in dash.rates.value
    assert "<td>2026-10-02</td>" in dash.rates.value
    assert dash.summary.value.startswith(f"12 of {len(ops_df)}")
    dash.connection.value = uid(1)
    assert dash.summary.value.startswith(f"6 of {len(ops_df)}")
    assert len(dash.filtered()) == 6


def test_dashboard_escapes_values_from_the_api(fake: FakeClient) -> None:
    """An error type carrying markup shows as text in the rates and error tables."""
    ops_df, logs_df = operations_frame(fake.ops), logs_frame(fake.ops)
    ops_df["error_type"] = ops_df["error_type"].cat.rename_categories({"tsp": "<img src=x onerror=alert(1)>"})
    dash = ReliabilityDashboard(ops_df, logs_df)
    dash.set_filters(group_by="error_type")
    for pane in (dash.rates, dash.errors):
        assert "<img src=x" not in pane.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in pane.value


def test_dashboard_set_filters_refuses_unknown_names(fake: FakeClient) -> None:
    """`set_filters` names the valid filters when given an unknown one."""
    dash = ReliabilityDashboard(operations_frame(fake.ops[:6]), logs_frame(fake.ops[:6]))
    with pytest.raises(TypeError, match="group_by"):
        dash.set_filters(colour="red")


# -- against the sandbox ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit_frames(client: CatenaClient, sandbox: Sandbox) -> tuple[Any, Any]:
    """Frames of a few sync sends on every connection, one over-long (so refused) per connection."""
    ops = []
    for conn in sandbox.connections:
        for j in range(5):
            text = "x" * 5000 if j == 0 else f"Stop {j} done"
            ops.append(
                client.messages.create(
                    connection_id=conn.id,
                    sender_id=conn.dispatchers[0] if conn.dispatchers else conn.users[0],
                    recipient_id=conn.drivers[0] if conn.drivers else conn.users[-1],
                    message_text=text,
                    priority=("low", "medium", "high")[j % 3],
                    sync=True,
                )
            )
    connections = list(client.connections.list())
    return operations_frame(ops, connections), logs_frame(ops, connections)


def test_dashboard_updates_its_tables_when_a_filter_changes(audit_frames: tuple[Any, Any]) -> None:
    """Narrowing the TSPs or changing the group-by recomputes the rates table and redraws the charts."""
    ops_df, logs_df = audit_frames
    tsps = sorted(set(ops_df["source_name"].astype(str)))
    dash = ReliabilityDashboard(ops_df, logs_df)
    assert repr(dash) == f"ReliabilityDashboard(operations={len(ops_df)})"
    assert all(f"<td>{t}</td>" in dash.rates.value for t in tsps)
    assert "data:image/png;base64," in dash.outcomes_chart.value
    assert "data:image/png;base64," in dash.timeline_chart.value
    assert "validation" in dash.errors.value

    dash.tsp.value = (tsps[0],)
    n = int((ops_df["source_name"] == tsps[0]).sum())
    assert dash.summary.value.startswith(f"{n:,} of {len(ops_df):,}")
    assert f"<td>{tsps[0]}</td>" in dash.rates.value
    assert all(f"<td>{t}</td>" not in dash.rates.value for t in tsps[1:])

    dash.group_by.value = "error_type"
    assert "<td>validation</td>" in dash.rates.value
    dash.group_by.value = "priority"
    assert all(f"<td>{p}</td>" in dash.rates.value for p in ("low", "medium", "high"))


def test_dashboard_says_so_when_nothing_matches(audit_frames: tuple[Any, Any]) -> None:
    """Filters that match no operation empty the panes with a message instead of failing."""
    ops_df, logs_df = audit_frames
    dash = ReliabilityDashboard(ops_df, logs_df)
    dash.tsp.value = ()
    assert dash.summary.value.startswith("0 of")
    assert "No operations match" in dash.rates.value
    assert dash.outcomes_chart.value == ""


def test_dashboard_shows_the_delivery_funnel_with_messages(
    client: CatenaClient, audit_frames: tuple[Any, Any]
) -> None:
    """Given the messages frame, the dashboard adds the created → accepted → delivered → read table."""
    ops_df, logs_df = audit_frames
    messages_df = messages_frame(list(client.messages.list(progress=False)))
    dash = ReliabilityDashboard(ops_df, logs_df, messages_df)
    for stage in ("created", "accepted", "delivered", "read"):
        assert f"<td>{stage}</td>" in dash.funnel.value
    assert f"<td>{len(ops_df)}</td>" in dash.funnel.value
    assert ReliabilityDashboard(ops_df, logs_df).funnel.value == ""
