"""The answers do not depend on the log shape: with or without success logs, with or without status codes.

A 30-day history is listed from the sandbox once, as raw JSON pages; the tests change those pages the way
Catena's published shapes may differ from the sandbox's (no log for a successful attempt, as the seed's sync
200 example answers; no ``response_status_code`` in lookup logs, as ``ResourceOperationLogRead`` has it)
and compare what the analysis answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.axes import Axes

import catena_nb as cn

ANCHOR = "2026-11-01"
WINDOW: dict[str, Any] = {"since": "2026-10-02", "until": "2026-11-02", "size": 1000}


@pytest.fixture(scope="module")
def listed() -> tuple[list[bytes], list[bytes]]:
    """The raw JSON pages of a 30-day sandbox history (seed 7) as the client received them: its operations,
    and its messages."""
    with cn.Sandbox(seed=7, history=30, anchor=ANCHOR) as sb:
        client = cn.CatenaClient(base_url=sb.url, token=sb.token, progress=False)
        with client:
            ops = [page.content for page in client.operations.list(**WINDOW).pages()]
            messages = [page.content for page in client.messages.list(**WINDOW).pages()]
    return ops, messages


@pytest.fixture(scope="module")
def pages(listed: tuple[list[bytes], list[bytes]]) -> list[bytes]:
    """The operations' pages of the history."""
    return listed[0]


def _rewritten(pages: list[bytes], change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> list[bytes]:
    """The pages with ``change`` applied to every log (None drops the log)."""
    out = []
    for body in pages:
        page = json.loads(body)
        for op in page["items"]:
            op["logs"] = [new for log in op.get("logs") or [] if (new := change(dict(log))) is not None]
        out.append(json.dumps(page).encode())
    return out


def _without_success_logs(pages: list[bytes]) -> list[bytes]:
    return _rewritten(pages, lambda log: None if log.get("status") == "success" else log)


@pytest.fixture(scope="module")
def both(pages: list[bytes]) -> tuple[tuple[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]:
    """(ops_df, logs_df) of the history as listed, and of the same history with its success logs removed."""
    stripped = _without_success_logs(pages)
    return cn.operation_frames(pages), cn.operation_frames(stripped)


def test_the_history_has_what_the_comparison_needs(pages: list[bytes]) -> None:
    """The listed history logs its successes, has retried operations, failures and incidents to find."""
    ops_df, logs_df = cn.operation_frames(pages)
    assert len(ops_df) > 50_000
    assert (logs_df["status"] == "success").sum() == (ops_df["status"] == "success").sum()
    assert ((ops_df["attempts"] > 1) & (ops_df["status"] == "success")).sum() > 100
    assert len(cn.find_incidents(ops_df)) >= 3


def test_operations_frame_is_the_same_without_success_logs(both: Any) -> None:
    """Every column of the operations frame, attempts and first_attempt_ok included, ignores success logs."""
    (full_ops, full_logs), (bare_ops, bare_logs) = both
    assert len(bare_logs) < len(full_logs)
    pd.testing.assert_frame_equal(bare_ops, full_ops)


def test_logs_frame_without_success_logs_is_the_failed_attempts_numbered_alike(both: Any) -> None:
    """Without success logs the logs frame holds the failed attempts, numbered as they are with them."""
    (_, full_logs), (_, bare_logs) = both
    failed = full_logs.loc[full_logs["status"] != "success"].reset_index(drop=True)
    pd.testing.assert_frame_equal(bare_logs, failed, check_categorical=False)
    assert set(bare_logs["status"].astype(str)) == {"failed"}


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("outcome_rates", lambda ops, logs: cn.outcome_rates(ops)),
        ("outcome_rates by TSP", lambda ops, logs: cn.outcome_rates(ops, by="source_name")),
        ("rates_over_time", lambda ops, logs: cn.rates_over_time(ops, "D", by="source_name")),
        ("retry_effect", lambda ops, logs: cn.retry_effect(ops)),
        ("retry_effect with logs", lambda ops, logs: cn.retry_effect(ops, logs, by="source_name")),
        ("attempts_distribution", lambda ops, logs: cn.attempts_distribution(ops, by="source_name")),
        ("error_breakdown", lambda ops, logs: cn.error_breakdown(ops, by="source_name")),
        ("error_breakdown with logs", lambda ops, logs: cn.error_breakdown(ops, logs, by="source_name")),
        ("latency_summary", lambda ops, logs: cn.latency_summary(ops, by="source_name")),
        ("find_incidents", lambda ops, logs: cn.find_incidents(ops)),
        ("locate_incidents", lambda ops, logs: cn.locate_incidents(ops)),
        ("time_to_settle", lambda ops, logs: cn.time_to_settle(ops, by="source_name")),
        ("error_signatures", lambda ops, logs: cn.error_signatures(logs, by="source_name")),
    ],
)
def test_answers_are_equal_with_and_without_success_logs(
    both: Any, name: str, answer: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
) -> None:
    """Each analysis gives an equal table on the history with its success logs and without them."""
    (full_ops, full_logs), (bare_ops, bare_logs) = both
    expected = answer(full_ops, full_logs)
    assert len(expected) > 0, name
    pd.testing.assert_frame_equal(answer(bare_ops, bare_logs), expected)


def _drawn(ax: Axes) -> tuple[list[str], list[tuple[float, float]]]:
    texts = [t.get_text() for t in ax.texts] + [ax.get_title(loc) for loc in ("left", "center")]
    bars = [(round(p.get_x(), 9), round(p.get_height(), 9)) for p in ax.patches]  # type: ignore[attr-defined]
    return texts, bars


@pytest.mark.parametrize(
    "chart",
    [
        lambda ops, logs: cn.plot_attempts(ops, logs),
        lambda ops, logs: cn.plot_attempts(ops),
        lambda ops, logs: cn.plot_error_types(ops, logs),
        lambda ops, logs: cn.plot_outcomes(ops),
    ],
    ids=["plot_attempts with logs", "plot_attempts", "plot_error_types", "plot_outcomes"],
)
def test_charts_are_the_same_with_and_without_success_logs(
    both: Any, chart: Callable[[pd.DataFrame, pd.DataFrame], Axes]
) -> None:
    """The charts draw the same bars and the same text on both shapes of the history."""
    (full_ops, full_logs), (bare_ops, bare_logs) = both
    assert _drawn(chart(bare_ops, bare_logs)) == _drawn(chart(full_ops, full_logs))


def _report_text(html: str, store: Path) -> str:
    """The report without what differs between two renderings: the time it was made, the store's path, the
    id of the injected parameters cell."""
    html = re.sub(r"Generated [^<·]*·", "Generated <time> ·", html)
    html = re.sub(r"cell-id=[0-9a-f-]+", "cell-id=<id>", html)
    return html.replace(str(store.resolve()), "<store>")


def test_the_report_is_the_same_with_and_without_success_logs(
    listed: tuple[list[bytes], list[bytes]], tmp_path: Path
) -> None:
    """The audit report rendered from a store of the history equals the one from a store without success
    logs: every table, sentence and figure."""
    from catena_nb.report import render_report

    ops_pages, message_pages = listed
    reports = []
    for name, pages_in in (("full", ops_pages), ("bare", _without_success_logs(ops_pages))):
        (tmp_path / name).mkdir()
        path = tmp_path / name / "audit.duckdb"  # the report names its store: the same name in both
        with cn.AuditStore(path) as store:
            store.upsert(pages_in)
            store.upsert_messages(message_pages)
            assert store.count("logs") > 0
        out = render_report(
            tmp_path / f"{name}.html", store=path, parameters={"anchor": ANCHOR}, progress=False
        )
        reports.append(_report_text(out.read_text(encoding="utf-8"), path))
    assert "retr" in reports[0]
    assert reports[1] == reports[0]


def _named_status(details: Any) -> int | None:
    """The status a sandbox error text names: the httpx phrasing ``Client error '401 ...'``, checked here
    by hand, independently of the frames' reader."""
    if not isinstance(details, str):
        return None
    found = re.search(r"(?:Client|Server) error '(\d{3}) ", details)
    return int(found.group(1)) if found else None


def test_http_status_is_filled_from_error_details_without_response_status_code(pages: list[bytes]) -> None:
    """With no response_status_code in any log (the lookup shape), http_status comes from error_details."""
    truth = cn.logs_frame(pages)  # where the listing still carries response_status_code, what it said
    from_response = (truth["http_status_source"] == "response").fillna(False)
    lookup_shape = _rewritten(
        pages, lambda log: {k: v for k, v in log.items() if k != "response_status_code"}
    )
    ops_df, logs_df = cn.operation_frames(lookup_shape)
    failed = logs_df["status"] == "failed"
    named = pd.Series([_named_status(d) for d in logs_df["error_details"]], dtype="Int64")
    with_status = failed & named.notna()
    filled = with_status & (logs_df["http_status"] == named).fillna(False)
    share = filled.sum() / with_status.sum()
    print(
        f"\nhttp_status from error_details alone: {filled.sum():,} of {with_status.sum():,} failed attempts "
        f"whose error_details names a status ({share:.1%}); {failed.sum():,} failed attempts in all"
    )
    assert with_status.sum() > 1000
    assert share >= 0.95
    assert set(logs_df.loc[logs_df["http_status"].notna(), "http_status_source"].astype(str)) == {
        "error_details"
    }
    # where the text names a status, it is the one the response had: no number taken from a URL or an id
    agree = from_response & logs_df["http_status"].notna()
    assert (logs_df.loc[agree, "http_status"] == truth.loc[agree, "http_status"]).all()
    # and a network error names none
    network = failed & (logs_df["error_type"] == "network")
    assert logs_df.loc[network, "http_status"].isna().all()
    # the operations frame reads its last error the same way
    ops_named = sum(_named_status(d) is not None for d in ops_df["error_details"])
    assert ops_df["http_status"].notna().sum() >= 0.95 * ops_named > 0
