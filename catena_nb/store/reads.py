"""How the store gives its rows back: filtered, in the frames' order, with the frames' columns and dtypes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import duckdb
import pandas as pd

from catena_nb._time import as_utc
from catena_nb.store import schema

__all__ = ["StoredFilters", "select"]


class StoredFilters(TypedDict, total=False):
    """The filters every ``*_frame`` read of the store takes, each one value or several."""

    source_name: str | Iterable[str] | None
    connection_id: str | Iterable[str] | None
    status: str | Iterable[str] | None


def select(
    con: duckdb.DuckDBPyConnection,
    table: schema.Table,
    time_column: str,
    filters: Mapping[str, Any],
    since: Any,
    until: Any,
) -> pd.DataFrame:
    """Rows of ``table`` in the frames' order, filtered, converted to the frames' dtypes."""
    op_where: list[str] = []  # conditions on the operation (for logs: on the operation they belong to)
    op_params: list[Any] = []
    where: list[str] = []
    params: list[Any] = []
    logs = table is schema.LOGS
    if logs:
        # logs are chosen by their operation's creation time, and ordered like the operations frame
        source = "logs t JOIN operations o ON o.operation_id = t.operation_id"
        alias, order = "o", "o.created_at, o.operation_id, t.attempt"
    else:
        source = f"{table.name} t"
        alias, order = "t", f"t.{time_column}, t.{table.key}"
    if since is not None:
        op_where.append(f"{alias}.{time_column} >= ?")
        op_params.append(as_utc(since))
    if until is not None:
        op_where.append(f"{alias}.{time_column} < ?")
        op_params.append(as_utc(until))
    for column, value in filters.items():
        if value is None:
            continue
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        test = f"{column} IN ({', '.join('?' * len(values))})"
        if logs and column != "status":
            op_where.append(f"o.{test}")
            op_params.extend(values)
        else:
            where.append(f"t.{test}")
            params.extend(values)
    stored = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table.name]
        ).fetchall()
    }
    # a read-only store written before a column was added is read without it (read_frame fills it in)
    cols = ", ".join(f"t.{c}" for c in table.columns if c in stored or c not in table.added)
    sql = f"SELECT {cols} FROM {source}"
    if op_where or where:
        sql += " WHERE " + " AND ".join(op_where + where)
    raw = con.execute(f"{sql} ORDER BY {order}", op_params + params).df()
    frame = schema.read_frame(table, raw)
    if logs:
        # the logs frame takes these categories from the operations, those without logs included
        for column in ("source_name", "resource", "operation_type"):
            found = con.execute(
                f"SELECT DISTINCT o.{column} FROM operations o "
                f"{'WHERE ' + ' AND '.join(op_where) if op_where else ''}",
                op_params,
            ).fetchall()
            names = sorted(str(v) for (v,) in found if v is not None)
            frame[column] = frame[column].cat.set_categories(names)
    return frame
