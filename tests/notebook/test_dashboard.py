"""ReliabilityDashboard: filters over the frames recompute its tables and charts, escaped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bs4 import BeautifulSoup

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


# -- the comparison and the budget -----------------------------------------------------------------


def _rows(html: str) -> list[dict[str, str]]:
    """The rows of the pane's table, by column name."""
    table = BeautifulSoup(html, "html.parser").find("table")
    assert table is not None
    names = [th.get_text() for th in table.find_all("th")]
    return [dict(zip(names, [td.get_text() for td in tr.find_all("td")], strict=True))
            for tr in table.find_all("tr") if tr.find_all("td")]  # fmt: skip


def test_dashboard_compares_the_selected_days_with_as_many_days_before(fake: FakeClient) -> None:
    """Days 4-5 against days 2-3: the pane names the earlier window and counts both, per TSP."""
    ops_df, logs_df = operations_frame(fake.ops), logs_frame(fake.ops)
    dash = ReliabilityDashboard(ops_df, logs_df)
    dash.set_filters(since=dt.date(2026, 10, 4), until=dt.date(2026, 10, 5))
    assert "against 2026-10-02 to 2026-10-03" in dash.comparison.value
    settled = ops_df.loc[ops_df["status"].isin(["success", "failed"])]
    days = settled["created_at"].dt.day
    after = int(days.isin([4, 5]).sum())
    before = int(days.isin([2, 3]).sum())
    rows = _rows(dash.comparison.value)
    assert sum(int(r["n_after"]) for r in rows) == after
    assert sum(int(r["n_before"]) for r in rows) == before
    assert all("p_value" in r for r in rows)


def test_dashboard_budget_follows_its_target(fake: FakeClient) -> None:
    """Raising the SLO target from 90% to 99.9% leaves less budget, recomputed on the control's change."""
    dash = ReliabilityDashboard(operations_frame(fake.ops), logs_frame(fake.ops))
    dash.target.value = 0.9
    loose = _rows(dash.budget.value)
    dash.target.value = 0.999
    strict = _rows(dash.budget.value)
    for a, b in zip(strict, loose, strict=True):
        assert float(a["budget_left"].rstrip("%")) < float(b["budget_left"].rstrip("%"))
    assert list(loose[0])[:5] == ["source_name", "n", "failures", "failure_rate", "budget_left"]


def test_dashboard_comparison_and_budget_escape_values_from_the_api(fake: FakeClient) -> None:
    """A TSP name carrying markup shows as text in the comparison and budget panes, which go by TSP when
    the tables are grouped by day (a day grouping has no meaning across two windows)."""
    ops_df, logs_df = operations_frame(fake.ops), logs_frame(fake.ops)
    hostile = "<img src=x onerror=alert(1)>"
    ops_df["source_name"] = ops_df["source_name"].astype("string").where(ops_df.index % 2 == 0, hostile)
    dash = ReliabilityDashboard(ops_df, logs_df)
    dash.set_filters(group_by="day", since=dt.date(2026, 10, 4), until=dt.date(2026, 10, 5))
    for pane in (dash.comparison, dash.budget):
        assert "<img src=x" not in pane.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in pane.value
        assert "<th>source_name</th>" in pane.value
