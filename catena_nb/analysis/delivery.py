"""Did the messages reach the drivers: the funnel from send to TSP, to delivered, to read."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from catena_nb.analysis.grouping import By, counts_by, flag, keys_of, names_of
from catena_nb.analysis.intervals import safe_ratio, wilson_interval
from catena_nb.frames.checks import mark_table, require, require_by

FUNNEL_STAGES = ("created", "accepted", "delivered", "read")


def delivery_funnel(ops_df: pd.DataFrame, messages_df: pd.DataFrame, by: By = None) -> pd.DataFrame:
    """From send to driver: created → accepted by the TSP → delivered → read.

    An operation is *accepted* when its status is ``success``; *delivered* when the message it created (the
    message whose ``message_id`` is the operation's ``resource_id``) is ``delivered`` or ``read``, or has a
    ``delivered_at``; *read* when that message is ``read`` or has a ``read_at``. Pending operations count as
    created but not accepted (filter them out first to look at settled sends only).

    Args:
        ops_df: an operations frame of message sends.
        messages_df: a messages frame (:func:`catena_nb.messages_frame`) covering the same period.
        by: an optional grouping of the operations.

    Returns:
        Four rows per group, one per stage (``stage`` is an ordered category): ``n``, ``share`` (of created)
        with its Wilson ``ci_low``/``ci_high``, and ``step_rate`` (of the previous stage) with
        ``step_ci_low``/``step_ci_high``.

    Raises:
        TypeError: ``ops_df`` is not an operations frame, or ``messages_df`` not a messages frame (or the
            two were swapped).
        ValueError: a column either needs is missing, or ``by`` names no column of ``ops_df``.
    """
    check_funnel(ops_df, messages_df, by, "delivery_funnel")
    keys = keys_of(by)
    names = names_of(keys)
    status = messages_df["status"]
    delivered_mask = status.isin(("delivered", "read")) | messages_df["delivered_at"].notna()
    read_mask = flag(status, "read") | messages_df["read_at"].notna()
    delivered_ids = messages_df.loc[delivered_mask.to_numpy(dtype=bool), "message_id"].dropna()
    read_ids = messages_df.loc[read_mask.to_numpy(dtype=bool), "message_id"].dropna()
    accepted = flag(ops_df["status"], "success")
    resource = ops_df["resource_id"]
    delivered = accepted & resource.isin(set(delivered_ids)).fillna(False).astype(bool)
    read = delivered & resource.isin(set(read_ids)).fillna(False).astype(bool)
    work = ops_df.assign(
        created=1,
        accepted=accepted.astype("int64"),
        delivered=delivered.astype("int64"),
        read=read.astype("int64"),
    )
    stages = list(FUNNEL_STAGES)
    wide = counts_by(work, keys, stages)
    long = wide.melt(id_vars=names, value_vars=stages, var_name="stage", value_name="n")
    long["stage"] = pd.Categorical(long["stage"], categories=stages, ordered=True)
    long = long.sort_values([*names, "stage"], kind="stable").reset_index(drop=True)
    n = long["n"].to_numpy(dtype=np.float64)
    if names:
        grouped = long.groupby(names, dropna=False, observed=True, sort=False)["n"]
        created = grouped.transform("first").to_numpy(dtype=np.float64)
        previous = grouped.shift(1).to_numpy(dtype=np.float64)
    else:
        created = np.full(len(long), n[0] if len(n) else 0.0)
        previous = np.concatenate(([np.nan], n[:-1])) if len(n) else n
    previous = np.where(np.isnan(previous), n, previous)  # "created" is its own previous stage
    long["n"] = long["n"].astype("int64")
    long["share"] = safe_ratio(n, created)
    long["ci_low"], long["ci_high"] = wilson_interval(n, created)
    long["step_rate"] = safe_ratio(n, previous)
    long["step_ci_low"], long["step_ci_high"] = wilson_interval(n, previous)
    return mark_table(long, "delivery_funnel")


def check_funnel(ops_df: Any, messages_df: Any, by: By, function: str, argument: str = "ops_df") -> None:
    """The input checks of :func:`delivery_funnel` (its chart makes them too, under its own name)."""
    others = {"messages_df": messages_df}
    require(ops_df, "operations", function, argument, columns=["status", "resource_id"], others=others)
    columns = ["message_id", "status", "delivered_at", "read_at"]
    require(messages_df, "messages", function, "messages_df", columns=columns, others={argument: ops_df})
    require_by(ops_df, by, function, argument)
