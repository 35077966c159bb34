"""A sync side by side fills the store exactly as one cursor at a time does, and a stopped one resumes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catena_nb import CatenaClient
from catena_nb.errors import CatenaError
from catena_nb.sandbox import Sandbox
from catena_nb.store import AuditStore

SINCE, UNTIL = "2026-10-20", "2026-11-02"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, CatenaClient]]:
    """Twelve days of history, about 22,000 operations."""
    with (
        Sandbox(seed=13, history=12, anchor="2026-11-01", time_scale=0.002) as sb,
        CatenaClient(base_url=sb.url, token=sb.token, progress=False) as client,
    ):
        yield sb, client


def _stored(path: Path) -> tuple[list[str], list[str], dict[str, str]]:
    with AuditStore(path, read_only=True) as store:
        ops = store.query("SELECT operation_id FROM operations ORDER BY operation_id")
        msgs = store.query("SELECT message_id FROM messages ORDER BY message_id")
        state = store.state()
    return [str(i) for i in ops["operation_id"]], [str(i) for i in msgs["message_id"]], state


def test_a_sync_side_by_side_equals_one_cursor_at_a_time(
    served: tuple[Sandbox, CatenaClient], tmp_path: Path
) -> None:
    """The same operations, messages and marks with concurrency=8 as with one cursor at a time."""
    _, client = served
    one, wide = tmp_path / "one.duckdb", tmp_path / "wide.duckdb"
    with AuditStore(one) as store:
        store.sync(client, since=SINCE, until=UNTIL, progress=False)
    with AuditStore(wide) as store:
        summary = store.sync(client, since=SINCE, until=UNTIL, progress=False, concurrency=8)
    a, b = _stored(one), _stored(wide)
    assert len(a[0]) > 10_000
    assert b[0] == a[0]
    assert b[1] == a[1]
    marks = (
        "operations.high_water",
        "operations.covered_from",
        "messages.high_water",
        "messages.covered_from",
    )
    assert {k: b[2][k] for k in marks} == {k: a[2][k] for k in marks}
    assert summary.fetched == len(a[0])


def test_a_side_by_side_sync_stopped_part_way_resumes(
    served: tuple[Sandbox, CatenaClient], tmp_path: Path
) -> None:
    """A sync stopped by an error after some pages keeps what it wrote, and the next run completes it."""
    _, client = served
    path = tmp_path / "stopped.duckdb"
    pages = 0
    real = client._get_page

    def failing(*args: object, **kwargs: object) -> object:
        nonlocal pages
        pages += 1
        if pages == 6:
            raise CatenaError("the network went away")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    client._get_page = failing  # type: ignore[method-assign,assignment]
    try:
        with AuditStore(path) as store, pytest.raises(CatenaError):
            store.sync(client, since=SINCE, until=UNTIL, progress=False, concurrency=8)
    finally:
        del client._get_page
    kept, _, _ = _stored(path)
    with AuditStore(path) as store:
        store.sync(client, since=SINCE, until=UNTIL, progress=False, concurrency=8)
    full = tmp_path / "full.duckdb"
    with AuditStore(full) as store:
        store.sync(client, since=SINCE, until=UNTIL, progress=False)
    assert len(kept) > 0
    assert _stored(path)[0] == _stored(full)[0]
    assert _stored(path)[1] == _stored(full)[1]
