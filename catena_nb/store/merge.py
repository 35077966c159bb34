"""How the webhook deliveries of the spool enter the store: deduped by event id, one bad one kept apart.

A sealed segment of the spool (:mod:`catena_nb.store.spool`) is merged in one transaction: its deliveries
whose envelope ``id`` the store has already merged are dropped (a retry, a replay, a duplicate), the
others' records upserted (the newest record per id stands, see :mod:`catena_nb.store.writes`), each event id
written to ``webhook_events``, and only after the commit is the segment deleted. When that transaction
fails, each delivery is merged in a transaction of its own, so that one bad delivery never holds its
neighbours back; a delivery the store still refuses is written to the spool's ``failed`` folder (synced),
logged, and merged again at the next merge, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from catena_nb._time import as_utc
from catena_nb.store.spool import Delivery, Spool
from catena_nb.store.writes import (
    UpsertResult,
    prepare_messages,
    prepare_operations,
    write_messages,
    write_operations,
)

if TYPE_CHECKING:
    from catena_nb.store.audit import AuditStore

__all__ = ["MergeResult", "merge_spool"]

logger = logging.getLogger("catena_nb.store.spool")


@dataclass
class MergeResult:
    """What merges of the spool did: deliveries merged, duplicates dropped, deliveries kept for later."""

    deliveries: int = 0
    duplicates: int = 0
    failed: int = 0
    operations: UpsertResult = field(default_factory=UpsertResult)
    messages: UpsertResult = field(default_factory=UpsertResult)

    def __iadd__(self, other: MergeResult) -> MergeResult:
        self.deliveries += other.deliveries
        self.duplicates += other.duplicates
        self.failed += other.failed
        self.operations = self.operations + other.operations
        self.messages = self.messages + other.messages
        return self

    def __str__(self) -> str:
        return (
            f"{self.deliveries} deliveries merged ({self.duplicates} duplicates), {self.failed} kept back; "
            f"operations {self.operations.inserted} new, {self.operations.updated} updated"
        )


def _known_ids(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    found = con.execute(
        "SELECT event_id FROM webhook_events WHERE event_id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]
    ).fetchall()
    return {str(v) for (v,) in found}


def _merge(con: duckdb.DuckDBPyConnection, deliveries: Sequence[Delivery]) -> MergeResult:
    """Merge deliveries in the open transaction."""
    out = MergeResult()
    known = _known_ids(con, [d.id for d in deliveries if d.id])
    fresh: list[Delivery] = []
    for d in deliveries:
        if d.id and d.id in known:
            out.duplicates += 1
            continue
        if d.id:
            known.add(d.id)
        fresh.append(d)
    ops = [r for d in fresh if d.kind == "operations" for r in d.records]
    msgs = [r for d in fresh if d.kind == "messages" for r in d.records]
    out.operations = write_operations(con, prepare_operations(ops), "webhook")
    out.messages = write_messages(con, prepare_messages(msgs))
    events = pd.DataFrame(
        {
            "event_id": [d.id for d in fresh if d.id],
            "webhook_id": [d.webhook_id for d in fresh if d.id],
            "event_name": [d.event_name for d in fresh if d.id],
            "received_at": [as_utc(d.received_at) for d in fresh if d.id],
            "records": [len(d.records) for d in fresh if d.id],
        }
    )
    if not events.empty:
        events["received_at"] = pd.to_datetime(events["received_at"], utc=True)
        con.register("_events", events)
        try:
            con.execute("INSERT INTO webhook_events SELECT * FROM _events ON CONFLICT DO NOTHING")
        finally:
            con.unregister("_events")
    out.deliveries = len(fresh)
    return out


def merge_deliveries(store: AuditStore, deliveries: Sequence[Delivery]) -> tuple[MergeResult, list[Delivery]]:
    """Merge deliveries, all in one transaction, else one transaction each; returns those refused."""
    try:
        with store._transaction() as con:
            return _merge(con, deliveries), []
    except Exception as exc:
        if len(deliveries) == 1:
            logger.error("could not merge webhook delivery %s into the store: %s", deliveries[0].id, exc)
            return MergeResult(failed=1), list(deliveries)
        logger.warning("a merge of %d deliveries failed (%s): merging them one by one", len(deliveries), exc)
    out, refused = MergeResult(), []
    for d in deliveries:
        result, bad = merge_deliveries(store, [d])
        out += result
        refused += bad
    return out, refused


def merge_spool(store: AuditStore, spool: Spool) -> MergeResult:
    """Merge every sealed segment of ``spool`` into ``store``; each segment deleted once committed."""
    out = MergeResult()
    for path in spool.segments():
        with spool.take(path) as deliveries:
            if deliveries is None:  # being written, or merged by another process
                continue
            if deliveries:
                result, refused = merge_deliveries(store, deliveries)
                out += result
                if refused:
                    kept = spool.keep_failed(refused)
                    logger.error(
                        "%d webhook deliveries could not be stored; kept in %s for the next merge",
                        len(refused),
                        kept,
                    )
            spool.done(path)
    if out.deliveries or out.failed:
        logger.info("merged the spool of %s: %s", store.path, out)
    return out
