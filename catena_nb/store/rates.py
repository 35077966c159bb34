"""Outcome rates with Wilson intervals in SQL, on DuckDB (the store) or Spark (its exported Parquet).

:func:`rates_sql` writes one query that counts, per group (and time bucket), the operations, successes and
failures, and computes the rates and their 95% Wilson intervals with the formulas of
:func:`catena_nb.analysis.intervals.wilson_interval`, so that only the small result ever reaches pandas.
The query keeps to SQL both engines read alike (``CASE``, ``NULLIF``, ``sqrt``, ``greatest``/``least``);
only the time bucket differs by dialect. :func:`finish` orders the result as
:func:`catena_nb.outcome_rates` does and, with a ``freq``, adds the empty buckets as
:func:`catena_nb.rates_over_time` does.

On Spark (a cluster, or local mode)::

    spark.read.parquet("export/operations").createOrReplaceTempView("operations")
    pdf = spark.sql(rates_sql("operations", by=["source_name"], dialect="spark")).toPandas()
    rates = finish(pdf, by=["source_name"])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from catena_nb._time import as_utc
from catena_nb.analysis.buckets import period_grid
from catena_nb.analysis.intervals import SMALL_SAMPLE, Z_95

__all__ = ["RATE_COLUMNS", "finish", "rates_sql", "store_rates"]

RATE_COLUMNS = [
    "n", "successes", "failures", "pending", "settled", "rate", "ci_low", "ci_high", "failure_rate",
    "failure_ci_low", "failure_ci_high", "small_sample",
]  # fmt: skip
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
_CALENDAR = {"W": "week", "W-SUN": "week", "MS": "month"}


def _keys(by: str | Sequence[str] | None) -> list[str]:
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    for key in keys:
        if not _COLUMN.match(key) or key in ("period", *RATE_COLUMNS):
            raise ValueError(f"cannot group the rates by {key!r}: give operation columns such as source_name")
    return keys


def _bucket(freq: str, dialect: str) -> str:
    """The start (UTC) of the bucket of ``created_at``, as ``time_buckets`` has it."""
    calendar = _CALENDAR.get(freq)
    if calendar == "month":
        return (
            "date_trunc('month', timezone('UTC', created_at))"
            if dialect == "duckdb"
            else "date_trunc('MONTH', created_at)"
        )
    if calendar == "week":  # pandas' weeks start on Sunday
        if dialect == "duckdb":
            day = "date_trunc('day', timezone('UTC', created_at))"
            return f"({day} - to_days(CAST(dayofweek(timezone('UTC', created_at)) AS INTEGER)))"
        return "date_sub(to_date(created_at), dayofweek(created_at) - 1)"
    try:
        seconds = pd.Timedelta(to_offset(freq)).total_seconds()  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise ValueError(f"cannot bucket by {freq!r}: give a fixed size (h, D, 15min) or W or MS") from None
    micros = int(seconds * 1_000_000)
    if micros <= 0:
        raise ValueError(f"cannot bucket by {freq!r}")
    if dialect == "duckdb":
        return f"make_timestamp(CAST(floor(epoch_us(created_at) / {micros}) AS BIGINT) * {micros})"
    return f"timestamp_micros(CAST(floor(unix_micros(created_at) / {micros}) AS BIGINT) * {micros})"


def rates_sql(
    table: str,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    *,
    where: str | None = None,
    dialect: str = "duckdb",
) -> str:
    """The query of the outcome rates over ``table`` (the store's ``operations`` or its Parquet).

    Args:
        table: the table or view of operations (``status``, ``created_at`` and the ``by`` columns).
        by: the group columns.
        freq: a time bucket of ``created_at`` (a fixed size such as ``h``, ``D``, ``15min``; ``W``; ``MS``).
        where: a condition on the rows (SQL).
        dialect: ``duckdb`` or ``spark``.
    """
    if dialect not in ("duckdb", "spark"):
        raise ValueError(f"unknown dialect {dialect!r} (duckdb, spark)")
    keys = _keys(by)
    groups = keys + (["period"] if freq else [])
    select = [*keys, *([f"{_bucket(freq, dialect)} AS period"] if freq else [])]
    inner = ", ".join(
        [
            *select,
            "count(*) AS n",
            "sum(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS successes",
            "sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failures",
        ]
    )
    group = f" GROUP BY {', '.join(groups)}" if groups else ""
    counts = f"SELECT {inner} FROM {table}{' WHERE ' + where if where else ''}{group}"
    z, z2 = repr(Z_95), repr(Z_95 * Z_95)
    # the Wilson interval, as wilson_interval computes it (NULL where nothing settled)
    p = "(CAST(successes AS DOUBLE) / NULLIF(settled, 0))"
    m = "CAST(NULLIF(settled, 0) AS DOUBLE)"
    denom = f"(1.0 + {z2} / {m})"
    centre = f"(({p} + {z2} / (2.0 * {m})) / {denom})"
    half = f"(({z} / {denom}) * sqrt({p} * (1.0 - {p}) / {m} + {z2} / (4.0 * {m} * {m})))"
    low = f"(CASE WHEN successes = 0 THEN 0.0 ELSE greatest(0.0, least(1.0, {centre} - {half})) END)"
    high = f"(CASE WHEN successes = settled THEN 1.0 ELSE greatest(0.0, least(1.0, {centre} + {half})) END)"
    low = f"(CASE WHEN settled = 0 THEN NULL ELSE {low} END)"
    high = f"(CASE WHEN settled = 0 THEN NULL ELSE {high} END)"
    outer = ", ".join(
        [
            *groups,
            "n",
            "successes",
            "failures",
            "n - successes - failures AS pending",
            "settled",
            f"{p} AS rate",
            f"{low} AS ci_low",
            f"{high} AS ci_high",
            "CAST(failures AS DOUBLE) / NULLIF(settled, 0) AS failure_rate",
            f"1.0 - {high} AS failure_ci_low",
            f"1.0 - {low} AS failure_ci_high",
            f"settled < {SMALL_SAMPLE} AS small_sample",
        ]
    )
    with_settled = f"SELECT *, successes + failures AS settled FROM ({counts}) c"
    return f"SELECT {outer} FROM ({with_settled}) s"


def finish(raw: pd.DataFrame, by: str | Sequence[str] | None = None, freq: str | None = None) -> pd.DataFrame:
    """The query's result in ``outcome_rates``' order (``rates_over_time``' with ``freq``), typed alike."""
    keys = _keys(by)
    out = raw.copy()
    for col in ("n", "successes", "failures", "pending", "settled"):
        out[col] = out[col].fillna(0).astype("int64")
    for col in ("rate", "ci_low", "ci_high", "failure_rate", "failure_ci_low", "failure_ci_high"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["small_sample"] = out["small_sample"].astype(bool)
    for key in keys:
        out[key] = out[key].astype("object").where(out[key].notna(), None)
    if freq:
        out["period"] = pd.to_datetime(out["period"], utc=True).astype("datetime64[ns, UTC]")
        if len(out):
            out = _with_empty_buckets(out, keys, freq)
        return out.sort_values([*keys, "period"], kind="stable", na_position="last").reset_index(drop=True)
    if not keys:
        return out.reset_index(drop=True)
    out = out.sort_values(keys, kind="stable", na_position="last")
    return out.sort_values(["failures", "n"], ascending=False, kind="stable").reset_index(drop=True)


def _with_empty_buckets(out: pd.DataFrame, keys: list[str], freq: str) -> pd.DataFrame:
    grid = pd.DataFrame({"period": period_grid(out["period"].min(), out["period"].max(), freq)})
    grid["period"] = grid["period"].astype("datetime64[ns, UTC]")
    if keys:
        grid = out[keys].drop_duplicates().merge(grid, how="cross")
    full = grid.merge(out, on=[*keys, "period"], how="left")
    empty = full["n"].isna()
    for col in ("n", "successes", "failures", "pending", "settled"):
        full[col] = full[col].fillna(0).astype("int64")
    full.loc[empty, "small_sample"] = True
    full["small_sample"] = full["small_sample"].astype(bool)
    for col in ("rate", "ci_low", "ci_high", "failure_rate", "failure_ci_low", "failure_ci_high"):
        full[col] = full[col].astype("float64")
    return full


def store_rates(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    since: Any = None,
    until: Any = None,
) -> pd.DataFrame:
    """The rates of the store's operations created in ``[since, until)``, computed by DuckDB."""
    where, params = [], []
    if since is not None:
        where.append("created_at >= ?")
        params.append(as_utc(since))
    if until is not None:
        where.append("created_at < ?")
        params.append(as_utc(until))
    sql = rates_sql("operations", by, freq, where=" AND ".join(where) or None)
    raw = con.execute(sql, params).df()
    if freq:
        raw["period"] = raw["period"].astype(np.dtype("datetime64[ns]")).dt.tz_localize("UTC")
    return finish(raw, by, freq)
