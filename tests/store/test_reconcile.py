"""Reconciliation: webhooks dropped and listings cut short are found, filled, and reported as a frame."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import types
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from catena_nb.client import CatenaClient
from catena_nb.frames import operations_frame
from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore
from catena_nb.store.merge import merge_deliveries
from catena_nb.store.reconcile import FINDING_COLUMNS
from catena_nb.store.spool import Delivery

ANCHOR = "2026-11-01"
SINCE = "2026-10-29"


class _CutListing:
    """A client whose operations listing leaves out the given ids, as a listing cut short would."""

    def __init__(self, client: CatenaClient, left_out: set[str]) -> None:
        self._client, self._left_out = client, left_out
        self.operations = types.SimpleNamespace(list=self._list, get=client.operations.get)

    def _list(self, **kw: Any) -> Any:
        pages = self._client.operations.list(**kw).pages()

        def cut() -> Iterator[Any]:
            for page in pages:
                kept = [item for item in page.raw_items if item["id"] not in self._left_out]
                yield types.SimpleNamespace(raw_items=kept)

        return types.SimpleNamespace(pages=cut)


@pytest.mark.slow
def test_reconcile_finds_and_fills_1pct_dropped_webhooks_and_1pct_cut_listings(tmp_path):
    """With 1% of webhooks dropped and 1% of listed operations cut, every gap is found and filled."""
    with (
        Sandbox(seed=8, history=3, anchor=ANCHOR) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        truth = [i for p in client.operations.list(since=SINCE, until=ANCHOR).pages() for i in p.raw_items]
        ids = [op["id"] for op in truth]
        rng = random.Random(3)
        picked = rng.sample(ids, 2 * (len(ids) // 100))
        no_webhook, cut = set(picked[: len(picked) // 2]), set(picked[len(picked) // 2 :])
        with AuditStore(tmp_path / "audit.duckdb") as store:
            deliveries = [Delivery(f"evt-{op['id']}", "sub-1", f"resource_operation.{op['status']}",
                                   "operations", "2026-11-01T00:00:00Z", [op])
                          for op in truth if op["id"] not in no_webhook]  # fmt: skip
            merged, refused = merge_deliveries(store, deliveries)
            assert refused == []
            assert merged.deliveries == len(ids) - len(no_webhook)
            store.sync(_CutListing(client, cut), since=SINCE, until=ANCHOR, messages=False)  # type: ignore[arg-type]
            assert store.count() == len(ids)  # the webhooks brought the cut ones in, the listing the others
            report = store.reconcile(client, fix=False)
            assert list(report.columns) == FINDING_COLUMNS
            found = report.groupby("kind")["operation_id"].apply(set).to_dict()
            assert found.get("missing_from_listing") == cut
            assert found.get("missing_webhook") == no_webhook
            assert not report["fixed"].any()
            kinds = report["kind"].value_counts().to_dict()
            sys.stdout.write(
                f"\nreconcile: {len(ids)} operations, {len(no_webhook)} webhooks dropped, {len(cut)} cut "
                f"from the listing; findings {kinds}\n"
            )

            fixed = store.reconcile(client, now=pd.Timestamp(ANCHOR, tz="UTC"))
            assert len(fixed) == len(cut) + len(no_webhook) + int(
                (fixed["kind"] == "pending_unsettled").sum()
            )
            assert fixed["fixed"].all(), fixed.loc[~fixed["fixed"]]
            assert (
                store.reconcile(client, fix=False, now=pd.Timestamp(ANCHOR, tz="UTC"))
                .query("kind != 'missing_webhook'")
                .empty
            )  # the cut ones are listed now; a dropped webhook stays dropped, its record filled
            assert_frame_equal(store.operations_frame(), operations_frame(sorted(
                truth, key=lambda op: (op["created_at"], op["id"]))))  # fmt: skip


@pytest.mark.slow
def test_catena_nb_reconcile_fills_the_gaps_and_lists_what_stays_open(tmp_path):
    """`catena-nb reconcile --store` re-lists what the listing missed and prints the findings left open."""
    path = tmp_path / "audit.duckdb"
    with (
        Sandbox(seed=9, history=2, anchor=ANCHOR) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        truth = [
            i for p in client.operations.list(since="2026-10-30", until=ANCHOR).pages() for i in p.raw_items
        ]
        cut = {op["id"] for op in truth[::50]}
        with AuditStore(path) as store:
            merge_deliveries(store, [Delivery(f"evt-{op['id']}", "sub-1", "resource_operation.succeeded",
                                              "operations", "2026-11-01T00:00:00Z", [op])
                                     for op in truth])  # fmt: skip
            gone = {"id": "0194a1b2-0000-7000-8000-00000000dead", **{
                k: truth[0][k] for k in ("created_at", "updated_at", "connection_id", "source_name")},
                "status": "pending"}  # fmt: skip
            store.upsert([gone])  # pending, and unknown to the API
            store.sync(_CutListing(client, cut), since="2026-10-30", until=ANCHOR, messages=False)  # type: ignore[arg-type]
        env = {**os.environ, "CATENA_BASE_URL": sb.url, "CATENA_TOKEN": sb.token}
        for name in ("CATENA_CLIENT_ID", "CATENA_CLIENT_SECRET"):
            env.pop(name, None)
        done = subprocess.run(
            [sys.executable, "-m", "catena_nb.cli", "reconcile", "--store", str(path)],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first == (
        f"{len(cut) + 1} findings ({len(cut)} missing_from_listing, 1 pending_unsettled); "
        f"{len(cut)} filled, 1 open."
    )
    assert f"pending_unsettled {gone['id']}" in done.stdout
    assert "the API does not find it" in done.stdout
    assert sb.token not in done.stdout + done.stderr
