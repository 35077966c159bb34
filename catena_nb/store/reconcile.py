"""Reconciliation: where webhooks, listings and lookups disagree about the operations, and what fills it.

The store remembers which source reported each operation (``provenance``: ``listing``, ``webhook``,
``lookup``) with the status and ``updated_at`` that source last gave. :func:`reconcile` compares them:

- ``missing_from_listing``: known from a webhook, inside the span the listing covers, yet never listed (a
  listing cut short, an operation listed late). The windows they were created in are listed again; one
  still not listed is looked up.
- ``missing_webhook``: listed, in the span and on a connection webhooks arrive for, yet no webhook
  delivered it (a delivery dropped on the way). The listing's record is in the store; one still pending
  is settled by the next check.
- ``status_mismatch``: a webhook reported a status the listing contradicts (both settled and different, or
  the older report settled and the newer pending). The operation is looked up and its newest record kept.
- ``pending_unsettled``: stored as pending, created more than ``settle_after`` ago. It is looked up.

With ``fix`` (the default) each finding's fix is tried and ``fixed`` says whether the store now holds the
API's record; the others are the rest to look at. Sync operations fire no webhook: on a connection that
takes both, they show as ``missing_webhook`` (the detail says so).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from catena_nb._config import MAX_PAGE_SIZE
from catena_nb._time import as_utc, split_windows
from catena_nb.errors import NotFoundError
from catena_nb.store import schema

if TYPE_CHECKING:
    from catena_nb.client import CatenaClient
    from catena_nb.store.audit import AuditStore

__all__ = ["FINDING_COLUMNS", "SETTLE_AFTER", "reconcile"]

logger = logging.getLogger("catena_nb.store.reconcile")

FINDING_COLUMNS = ["kind", "operation_id", "connection_id", "detail", "fixed"]
# assumed: an async operation settles within an hour (Catena's retries of a TSP take minutes)
SETTLE_AFTER = dt.timedelta(hours=1)
# a re-listed window is the hour an operation was created in, widened by the listing's own overlap
_WINDOW = dt.timedelta(hours=1)

_FINDINGS = """
WITH w AS (SELECT * FROM provenance WHERE source = 'webhook'),
     l AS (SELECT * FROM provenance WHERE source = 'listing'),
     span AS (SELECT min(o.created_at) AS lo, max(o.created_at) AS hi
              FROM operations o JOIN w USING (operation_id)),
     hooked AS (SELECT DISTINCT o.connection_id FROM operations o JOIN w USING (operation_id))
SELECT 'missing_from_listing' AS kind, o.operation_id, o.connection_id, o.created_at,
       'known from a webhook (' || coalesce(w.status, '?') || '), not in the listing' AS detail
  FROM operations o JOIN w USING (operation_id) LEFT JOIN l USING (operation_id)
 WHERE l.operation_id IS NULL AND o.created_at >= $covered_from AND o.created_at < $covered_to
UNION ALL
SELECT 'missing_webhook', o.operation_id, o.connection_id, o.created_at,
       'listed (' || coalesce(l.status, '?') || '), no webhook delivery received (a sync send fires none)'
  FROM operations o JOIN l USING (operation_id) LEFT JOIN w USING (operation_id), span
 WHERE w.operation_id IS NULL AND o.created_at BETWEEN span.lo AND span.hi
   AND o.connection_id IN (SELECT connection_id FROM hooked)
UNION ALL
SELECT 'status_mismatch', o.operation_id, o.connection_id, o.created_at,
       'webhook said ' || w.status || ', listing says ' || l.status
  FROM operations o JOIN w USING (operation_id) JOIN l USING (operation_id)
 WHERE w.status IS DISTINCT FROM l.status AND (
       (w.status <> 'pending' AND l.status <> 'pending')
    OR (w.status = 'pending' AND w.updated_at > l.updated_at)
    OR (l.status = 'pending' AND l.updated_at > w.updated_at))
UNION ALL
SELECT 'pending_unsettled', o.operation_id, o.connection_id, o.created_at,
       'pending since ' || strftime(timezone('UTC', o.created_at), '%Y-%m-%dT%H:%M:%SZ')
  FROM operations o WHERE o.status = 'pending' AND o.created_at < $settled_before
"""


def _findings(store: AuditStore, now: dt.datetime, settle_after: dt.timedelta) -> pd.DataFrame:
    state = store.state()
    lo = state.get(schema.covered_from_key("operations"))
    hi = state.get(schema.covered_to_key("operations"))
    params: dict[str, Any] = {
        # no listing yet: nothing can be missing from it
        "covered_from": as_utc(lo) if lo else now,
        "covered_to": as_utc(hi) if hi else now,
        "settled_before": now - settle_after,
    }
    found = store.query(_FINDINGS + " ORDER BY 1, created_at, 2", params)
    found["fixed"] = False
    return found


def _windows(times: pd.Series) -> list[tuple[dt.datetime, dt.datetime]]:
    """The hours holding these creation times, adjacent ones joined."""
    hours = sorted({as_utc(t.to_pydatetime()).replace(minute=0, second=0, microsecond=0) for t in times})
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for h in hours:
        if out and out[-1][1] >= h:
            out[-1] = (out[-1][0], h + _WINDOW)
        else:
            out.append((h, h + _WINDOW))
    return [w for lo, hi in out for w in split_windows(lo, hi)]


def _relist(store: AuditStore, client: CatenaClient, windows: list[tuple[dt.datetime, dt.datetime]]) -> int:
    listed = 0
    for lo, hi in windows:
        for page in client.operations.list(since=lo, until=hi, size=MAX_PAGE_SIZE, progress=False).pages():
            store.upsert(page.raw_items, source="listing")
            listed += len(page.raw_items)
    return listed


def _look_up(store: AuditStore, client: CatenaClient, rows: pd.DataFrame) -> dict[str, str | None]:
    """Look each operation up and store what the API gives; its status, or None if the API has it not."""
    out: dict[str, str | None] = {}
    found = []
    pairs = zip(rows["operation_id"].astype(str), rows["connection_id"].astype(str), strict=True)
    for op_id, conn_id in pairs:
        if op_id in out:
            continue
        try:
            op = client.operations.get(str(op_id), connection_id=str(conn_id))
        except NotFoundError:
            out[op_id] = None
            continue
        found.append(op)
        out[op_id] = str(op.status)
    if found:
        store.upsert(found, source="lookup")
    return out


def reconcile(
    store: AuditStore,
    client: CatenaClient,
    *,
    fix: bool = True,
    settle_after: dt.timedelta = SETTLE_AFTER,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Find where the sources disagree, fill what the API can fill, and return one row per finding.

    Args:
        store: the audit store (opened for writing when ``fix``).
        client: a ``CatenaClient``.
        fix: re-list and look up (False: only report).
        settle_after: how long after its creation a pending operation is overdue.
        now: the current time (for tests).

    Returns:
        A frame with ``kind``, ``operation_id``, ``connection_id``, ``detail``, ``fixed``: the findings, in
        kind then creation order.
    """
    when = as_utc(now) if now is not None else dt.datetime.now(dt.UTC)
    store.merge_spool()
    found = _findings(store, when, settle_after)
    if found.empty or not fix:
        return found.loc[:, FINDING_COLUMNS].reset_index(drop=True)
    missing = found["kind"] == "missing_from_listing"
    if missing.any():
        listed = _relist(store, client, _windows(found.loc[missing, "created_at"]))
        logger.info("re-listed %d operations around %d missing from the listing", listed, int(missing.sum()))
        seen = set(
            store.query(
                "SELECT operation_id FROM provenance WHERE source = 'listing' AND operation_id IN "
                "(SELECT unnest(?::VARCHAR[]))",
                [found.loc[missing, "operation_id"].astype(str).tolist()],
            )["operation_id"]
        )
        relisted = missing & found["operation_id"].isin(seen)
        found.loc[relisted, "fixed"] = True
        found.loc[relisted, "detail"] += "; found by listing its window again"
    hooked = found["kind"] == "missing_webhook"
    stored = store.query(
        "SELECT operation_id, status FROM operations WHERE operation_id IN (SELECT unnest(?::VARCHAR[]))",
        [found["operation_id"].astype(str).tolist()],
    )
    settled = set(stored.loc[stored["status"] != "pending", "operation_id"])
    ok = hooked & found["operation_id"].isin(settled)
    found.loc[ok, "fixed"] = True
    found.loc[ok, "detail"] += "; the store holds the listing's settled record"
    ask = ~found["fixed"]
    if ask.any():
        answers = _look_up(store, client, found.loc[ask])
        details, fixed = found["detail"].astype(str).tolist(), found["fixed"].astype(bool).tolist()
        kinds, ids = found["kind"].astype(str).tolist(), found["operation_id"].astype(str).tolist()
        for i, asked in enumerate(ask.tolist()):
            if not asked:
                continue
            status = answers.get(ids[i])
            if status is None:
                details[i] += "; the API does not find it"
            elif status == "pending" and kinds[i] in ("pending_unsettled", "missing_webhook"):
                details[i] += "; still pending at the API"
            else:
                fixed[i] = True
                details[i] += f"; looked up: {status}"
        found["detail"], found["fixed"] = details, fixed
    return found.loc[:, FINDING_COLUMNS].reset_index(drop=True)
