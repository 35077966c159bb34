"""Readable reliability tables."""

from __future__ import annotations

import pandas as pd

from catena_nb.analysis import format_table


def test_rates_fold_their_interval_and_small_samples_are_marked() -> None:
    """A rate shows as a percentage with its 95% interval, and n says when the sample is small."""
    df = pd.DataFrame(
        {
            "source_name": ["a", "b"],
            "n": [3, 300],
            "failure_rate": [0.0, 10 / 300],
            "failure_ci_low": [0.0, 0.0183],
            "failure_ci_high": [0.5617, 0.0603],
            "small_sample": [True, False],
        }
    )
    out = format_table(df)
    assert list(out.columns) == ["source_name", "n", "failure_rate (95% CI)"]
    assert out["failure_rate (95% CI)"].tolist() == ["0.0% (0.0–56.2%)", "3.3% (1.8–6.0%)"]
    assert out["n"].tolist() == ["3 (small sample)", "300"]


def test_interval_columns_are_found_by_prefix() -> None:
    """`rate` pairs with `ci_low`, `first_attempt_rate` with `first_ci_low`, a lone share has none."""
    df = pd.DataFrame(
        {
            "rate": [0.5],
            "ci_low": [0.25],
            "ci_high": [0.75],
            "first_attempt_rate": [0.9],
            "first_ci_low": [0.8],
            "first_ci_high": [0.95],
            "rescued_share": [0.125],
            "p95_s": [3.14159],
        }
    )
    out = format_table(df).iloc[0].to_dict()
    assert out == {
        "rate (95% CI)": "50.0% (25.0–75.0%)",
        "first_attempt_rate (95% CI)": "90.0% (80.0–95.0%)",
        "rescued_share": "12.5%",
        "p95_s": "3.14 s",
    }


def test_missing_values_stay_blank() -> None:
    """A rate that cannot be computed (no settled operation) is blank, not 'nan%'."""
    df = pd.DataFrame({"rate": [float("nan")], "ci_low": [float("nan")], "ci_high": [float("nan")]})
    assert format_table(df)["rate (95% CI)"].tolist() == [""]


def test_only_rates_get_an_interval_label_and_floats_are_rounded() -> None:
    """A count next to an interval keeps its name; whole floats become integers, others are rounded."""
    df = pd.DataFrame(
        {
            "first_attempt_successes": [7958],
            "first_attempt_rate": [0.917],
            "first_ci_low": [0.911],
            "first_ci_high": [0.923],
            "mean_attempts": [1.039774],
            "max_attempts": [4.0],
        }
    )
    out = format_table(df)
    assert list(out.columns) == [
        "first_attempt_successes",
        "first_attempt_rate (95% CI)",
        "mean_attempts",
        "max_attempts",
    ]
    assert out["mean_attempts"].tolist() == [1.04]
    assert str(out["max_attempts"].dtype) == "Int64"


def test_a_pivot_with_tsp_names_as_headers_shows_their_bidi_controls() -> None:
    """The audit's daily pivot has TSP names as column headers: they show a U+202E, not apply it."""
    table = pd.DataFrame(
        {"samsara": ["1.0%"], "\u202eevil": ["2.0%"]}, index=pd.Index(["2026-10-01"], name="day")
    )
    table.columns = pd.CategoricalIndex(table.columns, name="source_name")
    html = format_table(table).to_html()  # what a notebook shows, as HTML
    assert "\u202e" not in html
    assert "⟨U+202E⟩evil" in html
