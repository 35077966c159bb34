"""Reliability tables made readable: rates as percentages with their interval, seconds rounded, small samples
marked. For reports and notebooks; the analysis functions keep returning plain numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from catena_nb._html import neutralize_bidi
from catena_nb.frames.checks import FRAME_KINDS, kind_of

SMALL_SAMPLE_MARK = " (small sample)"


def _interval_columns(column: str, columns: Iterable[str]) -> tuple[str, str] | None:
    """The ``(low, high)`` columns that bound ``column``: ``rate`` -> ``ci_low``/``ci_high``,
    ``failure_rate`` -> ``failure_ci_low``/..., ``first_attempt_rate`` -> ``first_ci_low``/..."""
    present = set(columns)
    stem = column.removesuffix("rate").removesuffix("share").rstrip("_")
    candidates = [stem, stem.split("_")[0]] if stem else [""]
    for prefix in candidates:
        low, high = f"{prefix}_ci_low".lstrip("_"), f"{prefix}_ci_high".lstrip("_")
        if low in present and high in present:
            return low, high
    return None


def _percent(value: Any) -> str:
    return "" if pd.isna(value) else f"{float(value):.1%}"


def format_table(df: pd.DataFrame, *, digits: int = 2) -> pd.DataFrame:
    """A copy of a reliability table for reading: each rate or share as ``"5.6% (5.3–5.9%)"`` with its 95%
    interval folded in, durations (``*_s``) in seconds and other decimals with ``digits`` decimals (whole
    numbers as integers), and ``n`` marked where the table flags a small sample. Text from the API (TSP
    names, connections, error types) keeps its value, with bidi controls shown as ``⟨U+202E⟩`` (pandas
    escapes the HTML of a table, not these).

    Args:
        df: the result of ``outcome_rates``, ``error_breakdown``, ``retry_effect``, ``latency_summary``,
            ``delivery_funnel``, ``find_incidents`` or ``rates_over_time`` (or any frame with such columns).
        digits: decimals for durations.

    Returns:
        A DataFrame of strings and counts; the interval columns are gone into the rate they bound.

    Raises:
        TypeError: ``df`` is not a DataFrame, or is an operations, logs or messages frame (which it would
            show as it is: format the table an analysis function makes of it).
        ValueError: ``df`` has no columns.

    Example:
        >>> format_table(outcome_rates(ops_df, by="source_name"))  # doctest: +SKIP
    """
    _check_table(df)
    out = df.copy()
    folded: set[str] = set()
    for column in list(out.columns):
        if not isinstance(column, str) or not column.endswith(("rate", "share")):
            continue
        if not pd.api.types.is_numeric_dtype(out[column]):
            continue  # text already (a column named after a TSP "...rate", say): shown as it is
        bounds = _interval_columns(column, out.columns)
        # as text even when there are no rows (an empty map keeps the float dtype)
        values = out[column].map(_percent).astype(object)
        if bounds is not None:
            low, high = (out[b].map(_percent).astype(object) for b in bounds)
            values = values.where(values == "", values + " (" + low.str.rstrip("%") + "–" + high + ")")
            folded.update(bounds)
        out[column] = values
    out = out.drop(columns=sorted(folded))
    seconds = [
        c
        for c in out.columns
        if isinstance(c, str) and c.endswith("_s") and pd.api.types.is_numeric_dtype(out[c])
    ]
    for column in seconds:
        out[column] = out[column].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f} s")
        # a duration with its interval (time_to_settle's median_s, median_ci_low, median_ci_high)
        ci = (f"{column[:-2]}_ci_low", f"{column[:-2]}_ci_high")
        if ci[0] in out.columns and ci[1] in out.columns:
            limits = [out.pop(c).map(lambda v: "n/a" if pd.isna(v) else f"{v:.{digits}f} s") for c in ci]
            with_ci = out[column] + " (" + limits[0] + "–" + limits[1] + ")"
            out[column] = out[column].where(out[column] == "", with_ci)
            folded.add(column)
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            values = out[column]
            whole = values.dropna().mod(1).eq(0).all()
            out[column] = values.astype("Int64") if whole else values.round(digits)
    if "small_sample" in out.columns:
        small = out.pop("small_sample").fillna(False).astype(bool)
        if "n" in out.columns and small.any():
            out["n"] = out["n"].astype("string").where(~small, out["n"].astype("string") + SMALL_SAMPLE_MARK)
    rated = _rated(df) | (folded & set(out.columns))
    out = out.rename(columns=lambda c: f"{c} (95% CI)" if isinstance(c, str) and c in rated else c)
    return _shown_text(out)


_NEEDS = (
    "format_table needs the table of an analysis function (cn.outcome_rates(ops_df), "
    "cn.error_breakdown(...), cn.retry_effect(...), cn.latency_summary(...), cn.find_incidents(...)...) "
    "as `df`"
)


def _check_table(df: Any) -> None:
    if not isinstance(df, pd.DataFrame):
        got = "None" if df is None else f"a {type(df).__name__}"
        raise TypeError(f"{_NEEDS}; got {got}")
    kind = kind_of(df)
    if kind in FRAME_KINDS:
        raise TypeError(f"{_NEEDS}; this is {'an' if kind == 'operations' else 'a'} {kind} frame itself")
    if not len(df.columns):
        raise ValueError(f"{_NEEDS}; this frame has no columns")


def _visible(value: Any) -> Any:
    return neutralize_bidi(value) if isinstance(value, str) else value


def _has_bidi(values: Iterable[Any]) -> bool:
    return any(isinstance(v, str) and neutralize_bidi(v) != v for v in values)


def _shown_text(out: pd.DataFrame) -> pd.DataFrame:
    """``out`` with bidi controls shown in its text cells, index and column names (others untouched)."""
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            if _has_bidi(values.cat.categories):
                out[column] = values.astype(object).map(_visible).astype("category")
        elif (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)) and _has_bidi(values):
            out[column] = values.map(_visible).astype(values.dtype)
    if _has_bidi(out.columns):
        out.columns = out.columns.map(_visible)
    if _has_bidi(out.index):
        out.index = out.index.map(_visible)
    return out


def _rated(df: pd.DataFrame) -> set[str]:
    return {
        c
        for c in df.columns
        if isinstance(c, str)
        and c.endswith(("rate", "share"))
        and _interval_columns(c, df.columns) is not None
    }
