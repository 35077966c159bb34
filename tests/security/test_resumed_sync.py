"""`catena-nb sync` SIGKILLed at five moments and run again ends holding what one clean sync holds.

The sandbox's history lies more than 45 days back (so that a table starting from "now - 45 days" would miss
most of it) and straddles the boundary of two 45-day windows of the requested span. A counting proxy between
the sync and the sandbox kills the sync process at a chosen request: in the first operations window, between
two operations windows, during the pending re-check, at the first messages request, between two messages
windows. Each run after the first is given no ``--since``.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from catena_nb.sandbox import Sandbox
from catena_nb.sandbox.api.state import message_kind
from catena_nb.store import AuditStore
from tests.support.kill_proxy import KillingProxy, Rule, Seen, killing_proxy

OPS_PATH = "/v2/integrations/connections/resource-operations"
MESSAGES_PATH = "/v2/telematics/messages"
TODAY = dt.datetime.now(dt.UTC).date()
# 4 days of history ending 50 days ago: [today - 53, today - 49)
ANCHOR = TODAY - dt.timedelta(days=50)
HISTORY_START = dt.datetime.combine(ANCHOR - dt.timedelta(days=3), dt.time(0), dt.UTC)
# the requested span's first 45-day window ends two days into the history
SINCE = HISTORY_START + dt.timedelta(days=2) - dt.timedelta(days=45)
PENDING = 6  # operations that stay pending for the whole test, spread over the history


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with 4 days of history 50 days back, and a few operations that never settle."""
    with Sandbox(seed=3, history=4, anchor=ANCHOR.isoformat(), time_scale=0.001, tsp_latency=0) as sb:
        history = sorted(sb.state.iter_operations(), key=lambda op: str(op["created_at"]))
        step = len(history) // PENDING
        stuck = []
        for i in range(PENDING):
            op: dict[str, Any] = {k: v for k, v in history[i * step + step // 2].items() if k != "logs"}
            op.update(id=str(uuid.uuid4()), status="pending", updated_at=op["created_at"], logs=[],
                      resource_id=None, source_id=None)  # fmt: skip
            stuck.append(op)
        sb.state.add_operations(stuck)
        yield sb


def _env(base_url: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATENA_")}
    return {**env, "CATENA_BASE_URL": base_url, "CATENA_TOKEN": token, "TQDM_DISABLE": "1"}


def _command(store: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "catena_nb.cli", "sync", "--store", str(store), "--no-progress", *extra]


def _sync(store: Path, base_url: str, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(store, *extra), env=_env(base_url, token), capture_output=True, text=True, timeout=600
    )


def _killed_run(proxy: KillingProxy, store: Path, token: str, rule: Rule, *extra: str) -> Seen:
    """One `catena-nb sync` through the proxy, SIGKILLed at the request ``rule`` picks; returns it."""
    proc = subprocess.Popen(
        _command(store, *extra),
        env=_env(proxy.url, token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proxy.arm(proc.pid, rule)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, out, err)
    assert proxy.killed_at is not None
    return proxy.killed_at


def _nth(path: str, n: int) -> Rule:
    """The n-th request to ``path`` (query aside)."""
    return lambda req, seen: req.path == path and sum(s.path == path for s in seen) == n


def _second_window(path: str) -> Rule:
    """The first request to ``path`` for another window than the run's first request to it."""

    def rule(req: Seen, seen: list[Seen]) -> bool:
        first = next(s for s in seen if s.path == path) if req.path == path else None
        return first is not None and req.query.get("from_datetime") != first.query.get("from_datetime")

    return rule


def _nth_lookup(n: int) -> Rule:
    """The n-th lookup of one operation (a pending one being re-checked)."""

    def is_lookup(s: Seen) -> bool:
        return s.path.startswith("/v2/integrations/connections/") and "/resource-operations/" in s.path

    return lambda req, seen: is_lookup(req) and sum(is_lookup(s) for s in seen) == n


def _by_id(rows: pd.DataFrame) -> dict[str, tuple[str, str]]:
    columns = zip(rows["id"], rows["status"], rows["updated_at"], strict=True)
    return {str(i): (str(s), str(u)) for i, s, u in columns}


def _contents(path: Path) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]], dict[str, str]]:
    """Operations and messages by id as (status, updated_at), and the sync bookkeeping."""
    with AuditStore(path, read_only=True) as store:
        ops = store.query("SELECT operation_id AS id, status, updated_at FROM operations")
        msgs = store.query("SELECT message_id AS id, status, updated_at FROM messages")
        state = store.state()
    return _by_id(ops), _by_id(msgs), state


def _start(state: dict[str, str], table: str) -> str | None:
    return state.get(f"{table}.covered_from")


@pytest.mark.slow
def test_sync_killed_at_five_moments_ends_equal_to_a_clean_sync(sandbox: Sandbox, tmp_path: Path) -> None:
    """Killed in a window, between windows, in the re-check and twice in messages, re-runs hold all of A."""
    sb = sandbox
    truth_ops = {str(op["id"]) for op in sb.state.iter_operations()}
    listed = [m for m in sb.state._msgs.values() if message_kind(m) == "message"]  # what messages.list lists
    truth_msgs = {str(m["id"]) for m in listed}
    default_start = _iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=45))
    # every message is older than a default span before now would reach
    assert len(truth_msgs) > 6000
    assert all(str(m["occurred_at"]) < default_start for m in listed)

    a_path, b_path = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    clean = _sync(a_path, sb.url, sb.token, "--since", _iso(SINCE))
    assert clean.returncode == 0, clean.stderr
    a_ops, a_msgs, a_state = _contents(a_path)
    assert set(a_ops) == truth_ops
    assert set(a_msgs) == truth_msgs

    steps: list[str] = []

    def note(moment: str, at: Seen) -> None:
        ops, msgs, _ = _contents(b_path)
        where = ".../resource-operations/<id>" if "/resource-operations/" in at.path else at.path
        steps.append(f"  killed {moment} (at {at.method} {where} from={at.query.get('from_datetime', '-')}): "
                     f"B holds {len(ops)} operations, {len(msgs)} messages")  # fmt: skip

    with killing_proxy(sb.url) as proxy:
        # 1. the second page of the first operations window: one page committed
        at = _killed_run(proxy, b_path, sb.token, _nth(OPS_PATH, 2), "--since", _iso(SINCE))
        assert at.query["from_datetime"].startswith(SINCE.strftime("%Y-%m-%dT%H:%M:%S"))
        ops, msgs, state = _contents(b_path)
        assert 0 < len(ops) <= 1000
        assert not msgs
        assert _start(state, "messages") is None
        note("in the first operations window, at its 2nd page", at)

        # 2. the first request of the second operations window: the first window committed whole
        at = _killed_run(proxy, b_path, sb.token, _second_window(OPS_PATH))
        ops, msgs, state = _contents(b_path)
        assert state["operations.high_water"] == at.query["from_datetime"]
        assert len(ops) == len(truth_ops)
        assert not msgs
        note("between two operations windows", at)

        # 3. the third lookup of the pending re-check
        at = _killed_run(proxy, b_path, sb.token, _nth_lookup(3))
        assert sum("/resource-operations/" in s.path for s in proxy.seen) == 3
        _, msgs, state = _contents(b_path)
        assert not msgs
        note("in the pending re-check, at its 3rd lookup", at)

        # 4. the first messages request: the messages table has no mark yet
        at = _killed_run(proxy, b_path, sb.token, _nth(MESSAGES_PATH, 1))
        _, msgs, state = _contents(b_path)
        assert not msgs
        assert _start(state, "messages") is None
        note("at the first messages request", at)

        # 5. the first request of the second messages window: it starts where the store was asked to
        at = _killed_run(proxy, b_path, sb.token, _second_window(MESSAGES_PATH))
        first_messages = next(s for s in proxy.seen if s.path == MESSAGES_PATH)
        assert first_messages.query["from_datetime"] == state["sync.requested_from"]
        _, msgs, state = _contents(b_path)
        assert 0 < len(msgs) < len(truth_msgs)
        assert state["messages.high_water"] == at.query["from_datetime"]
        note("between two messages windows", at)

        # 6. a run left alone
        proxy.arm(0, None)
        last = _sync(b_path, proxy.url, sb.token)
        assert last.returncode == 0, last.stderr

    b_ops, b_msgs, b_state = _contents(b_path)
    assert len(b_ops) == len(a_ops)
    assert len(b_msgs) == len(a_msgs)
    assert b_ops == a_ops
    assert b_msgs == a_msgs
    for table in ("operations", "messages"):
        assert b_state[f"{table}.covered_from"] == a_state[f"{table}.covered_from"]
        assert b_state[f"{table}.covered_from"].startswith(SINCE.strftime("%Y-%m-%dT%H:%M:%S"))
        assert f"{table} cover {_iso(SINCE)} to " in last.stdout
    assert f"{PENDING} still pending" in last.stdout
    sys.stdout.write("\n" + "\n".join(steps))
    sys.stdout.write(
        f"\nclean sync A: {len(a_ops)} operations, {len(a_msgs)} messages; after 5 kills B: {len(b_ops)} "
        f"operations, {len(b_msgs)} messages; equal ids, statuses, updated_at: "
        f"{b_ops == a_ops and b_msgs == a_msgs}\nlast run: {last.stdout.strip()}\n"
    )


@pytest.mark.slow
def test_backfill_killed_part_way_resumes_without_since(sandbox: Sandbox, tmp_path: Path) -> None:
    """A sync reaching further back, killed between its windows, is finished by a plain `catena-nb sync`."""
    sb = sandbox
    truth_ops = {str(op["id"]) for op in sb.state.iter_operations()}
    path = tmp_path / "b.duckdb"
    later, earlier = HISTORY_START + dt.timedelta(days=2), HISTORY_START - dt.timedelta(days=50)
    first = _sync(path, sb.url, sb.token, "--since", _iso(later))
    assert first.returncode == 0, first.stderr
    ops, _, state = _contents(path)
    assert 0 < len(ops) < len(truth_ops)
    with killing_proxy(sb.url) as proxy:
        # the newest window of the backfill comes first; killed at the next one, it has moved the start back
        at = _killed_run(proxy, path, sb.token, _second_window(OPS_PATH), "--since", _iso(earlier))
        assert at.query["from_datetime"].startswith(_iso(earlier)[:-1])
        ops, msgs, state = _contents(path)
        assert set(ops) == truth_ops
        assert state["sync.requested_from"].startswith(_iso(earlier)[:-1])
        assert _iso(earlier)[:-1] < state["operations.covered_from"] < _iso(HISTORY_START)
        proxy.arm(0, None)
        last = _sync(path, proxy.url, sb.token)
    assert last.returncode == 0, last.stderr
    ops, msgs, state = _contents(path)
    assert set(ops) == truth_ops
    assert len(msgs) == sum(message_kind(m) == "message" for m in sb.state._msgs.values())
    for table in ("operations", "messages"):
        assert state[f"{table}.covered_from"].startswith(_iso(earlier)[:-1])
