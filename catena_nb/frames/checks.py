"""What a frame is, and the one check every analysis, chart and widget function makes of its input.

Each frame says what it is in ``df.attrs["catena_nb"]``: ``"operations"``, ``"logs"`` or ``"messages"``
(set by :func:`catena_nb.operations_frame`, :func:`~catena_nb.logs_frame`, :func:`~catena_nb.messages_frame`
and the audit store's reads); the tables of the analysis carry the name of the function that made them
(``"outcome_rates"``...). pandas (3.x) keeps ``attrs`` through filtering, ``loc``, ``assign``, sorting,
``groupby`` and a ``concat`` of frames with the same mark, and drops them from a ``concat`` or ``merge`` of
frames whose marks differ (or of a marked frame with an unmarked one) and from ``pd.DataFrame(df)``. A frame
without the mark is told by its columns (a logs frame has ``log_id`` and ``attempt``, a messages frame
``message_id``, an operations frame ``operation_id`` and ``attempts``), and one that shows none of these is
taken for what the function needs when it has the columns the function reads.

:func:`require` raises, before any work, a ``TypeError`` for what is not a frame of the kind needed (``None``,
a dict, a list, a logs frame where operations are needed, two frames passed the wrong way round) and a
``ValueError`` for a frame of that kind that cannot be read (columns missing, times without a time zone or
missing, a ``by`` naming no column). Each message names the function, the frame it expected and how to make
it::

    plot_attempts needs an operations frame (cn.operations_frame(ops)) as `data`; this is a logs frame
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import pandas as pd

__all__ = [
    "ATTR",
    "FRAME_KINDS",
    "Kind",
    "kind_of",
    "mark",
    "mark_table",
    "require",
    "require_by",
    "require_frame_or_table",
    "table_of",
]

ATTR = "catena_nb"  # the key of ``DataFrame.attrs`` that says what a frame is
Kind = Literal["operations", "logs", "messages"]
FRAME_KINDS: tuple[Kind, ...] = ("operations", "logs", "messages")

# how to make each frame, as the messages tell it
MAKERS: dict[str, str] = {
    "operations": "cn.operations_frame(ops)",
    "logs": "cn.logs_frame(ops)",
    "messages": "cn.messages_frame(messages)",
}
# the columns that tell a frame without its mark apart: every one of a set present
_SIGNATURES: dict[str, tuple[frozenset[str], ...]] = {
    "operations": (frozenset({"operation_id", "attempts"}), frozenset({"operation_id", "first_attempt_ok"})),
    "logs": (frozenset({"log_id", "attempt"}),),
    "messages": (frozenset({"message_id"}), frozenset({"delivered_at", "read_at", "sender_id"})),
}
_SHOWN_COLUMNS = 12  # columns named in a message about a ``by`` that names none


def mark(frame: pd.DataFrame, kind: Kind) -> pd.DataFrame:
    """Mark ``frame`` as a frame of ``kind`` (in place); returns it."""
    frame.attrs[ATTR] = kind
    return frame


def mark_table(table: pd.DataFrame, function: str) -> pd.DataFrame:
    """Mark ``table`` as the result of the analysis function ``function`` (in place); returns it.

    Without this, a table would keep the ``"operations"`` mark of the frame it was computed from.
    """
    table.attrs = {ATTR: function}
    return table


def kind_of(frame: pd.DataFrame) -> str | None:
    """What ``frame`` is: its mark (a frame kind, or the name of the function whose table it is), else the
    frame kind its columns show, else None."""
    marked = frame.attrs.get(ATTR)
    if isinstance(marked, str) and marked:
        return marked
    columns = set(frame.columns)
    shown = [kind for kind, sets in _SIGNATURES.items() if any(s <= columns for s in sets)]
    return shown[0] if len(shown) == 1 else None


def table_of(data: Any, function: str, columns: Iterable[str]) -> bool:
    """Whether ``data`` is the table of the analysis function ``function``: marked so, or (without a mark of
    its own) holding its ``columns``."""
    if not isinstance(data, pd.DataFrame):
        return False
    marked = data.attrs.get(ATTR)
    if marked == function:
        return True
    return kind_of(data) is None and set(columns) <= set(data.columns)


def _a(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def _expected(function: str, kind: Kind, argument: str, table: str | None) -> str:
    also = f", or the table of {table}," if table else ""
    return f"{function} needs {_a(kind)} {kind} frame ({MAKERS[kind]}){also} as `{argument}`"


def _what(value: Any) -> str:
    if value is None:
        return "got None"
    if isinstance(value, pd.Series):
        return "got a Series, not a frame"
    name = type(value).__name__
    if isinstance(value, Mapping | list | tuple):
        return f"got a {name}: records become a frame through the function named"
    return f"got {_a(name)} {name}"


def _this_is(kind: str) -> str:
    if kind in FRAME_KINDS:
        return f"this is {_a(kind)} {kind} frame"
    return f"this is the table of cn.{kind}, not a frame"


def require(
    value: Any,
    kind: Kind,
    function: str,
    argument: str,
    *,
    columns: Iterable[str] = (),
    times: Iterable[str] = (),
    others: Mapping[str, Any] | None = None,
    table: str | None = None,
) -> pd.DataFrame:
    """Check that ``value`` is a frame of ``kind`` that ``function`` can read; returns it.

    Args:
        value: what was passed.
        kind: the frame needed.
        function: the public function checking its input (named in the message).
        argument: the argument's name (named in the message).
        columns: the columns the function reads.
        times: of those, the ones it reads as times: they must be time-zone aware, with no NaT.
        others: the function's other frame arguments by name, to say so when two were swapped.
        table: an analysis table the function takes instead (``"cn.outcome_rates(ops_df)"``), for the message.

    Raises:
        TypeError: ``value`` is not a DataFrame, or is a frame of another kind (or an analysis table).
        ValueError: a column the function reads is missing, or a time column is naive, not times, or NaT.
    """
    expected = _expected(function, kind, argument, table)
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{expected}; {_what(value)}")
    found = kind_of(value)
    if found is not None and found != kind:
        swapped = [
            name
            for name, other in (others or {}).items()
            if isinstance(other, pd.DataFrame) and kind_of(other) == kind
        ]
        hint = f" (did you swap `{argument}` and `{swapped[0]}`?)" if swapped else ""
        raise TypeError(f"{expected}; {_this_is(found)}{hint}")
    needed = list(dict.fromkeys([*columns, *times]))
    if not len(value.columns):
        raise ValueError(
            f"{expected}; this frame has no columns (an empty frame of this kind is "
            f"{MAKERS[kind].split('(')[0]}([]))"
        )
    missing = [c for c in needed if c not in value.columns]
    if missing:
        raise ValueError(f"{expected}; this frame lacks the column(s) {', '.join(map(repr, missing))}")
    for column in dict.fromkeys(times):
        _require_times(value, column, f"{expected} with UTC times in {column!r}")
    return value


def require_frame_or_table(
    value: Any,
    kind: Kind,
    function: str,
    argument: str,
    tables: Mapping[str, Iterable[str]],
    *,
    columns: Iterable[str] = (),
    times: Iterable[str] = (),
    others: Mapping[str, Any] | None = None,
) -> str | None:
    """For a chart, which takes a frame or the table an analysis function made of it: the name of the
    function whose table ``value`` is (``tables``: name -> the columns the chart reads of it), or None when
    it is a frame of ``kind`` (checked as :func:`require` does).

    Raises:
        TypeError, ValueError: as :func:`require`, the message naming the tables too.
    """
    for name, needed in tables.items():
        if table_of(value, name, needed):
            return name
    made = " or ".join(f"cn.{name}(...)" for name in tables)
    require(value, kind, function, argument, columns=columns, times=times, others=others, table=made)
    return None


def _require_times(frame: pd.DataFrame, column: str, needs: str) -> None:
    values = frame[column]
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        missing = int(values.isna().sum())
        if missing:
            raise ValueError(
                f"{needs}; {missing:,} of {len(values):,} rows have none (NaT): drop them first "
                f"(df.dropna(subset=[{column!r}]))"
            )
        return
    if pd.api.types.is_datetime64_dtype(dtype):
        raise ValueError(
            f"{needs}; these have no time zone: localize them first "
            f"(df[{column!r}] = df[{column!r}].dt.tz_localize('UTC'))"
        )
    if not len(values):
        return  # an empty column of any dtype holds no wrong time
    raise ValueError(
        f"{needs}; these are {dtype}, not times: convert them first "
        f"(df[{column!r}] = pd.to_datetime(df[{column!r}], utc=True))"
    )


def require_by(
    frame: pd.DataFrame, by: Any, function: str, argument: str = "ops_df", kind: Kind = "operations"
) -> None:
    """Check that every key of ``by`` (a column name, a ``pd.Grouper``, or a list of these) is a column of
    ``frame`` (the ``kind`` frame passed as ``argument``), and that a ``pd.Grouper`` groups a time column.

    Raises:
        TypeError: a key that is neither a column name nor a ``pd.Grouper``.
        ValueError: a key naming no column of ``frame``, or a ``pd.Grouper`` over no time column, or over
            naive or missing times.
    """
    if by is None:
        return
    expected = _expected(function, kind, argument, None)
    keys: Sequence[Any] = [by] if isinstance(by, str | pd.Grouper) else by
    if not isinstance(keys, list | tuple):
        raise TypeError(
            f"{expected} and by= a column name, a pd.Grouper or a list of these; by is "
            f"{_a(type(by).__name__)} {type(by).__name__}"
        )
    for key in keys:
        if isinstance(key, pd.Grouper):
            name = key.key
            if name is None or name not in frame.columns:
                raise ValueError(
                    f"{expected}; by=pd.Grouper(key={name!r}, ...) names no column of it: give its time "
                    f"column, e.g. pd.Grouper(key='created_at', freq='D')"
                )
            _require_times(frame, name, f"{expected} with UTC times in {name!r} to group by time")
        elif isinstance(key, str):
            if key not in frame.columns:
                raise ValueError(
                    f"{expected}; by={key!r} names no column of it (its columns include "
                    f"{_some_columns(frame)})"
                )
        else:
            raise TypeError(
                f"{expected} and by= a column name, a pd.Grouper or a list of these; {key!r} is "
                f"{_a(type(key).__name__)} {type(key).__name__}"
            )


def _some_columns(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:_SHOWN_COLUMNS])
    return shown + (f" and {len(names) - _SHOWN_COLUMNS} more" if len(names) > _SHOWN_COLUMNS else "")
