"""Cross-check: compare_periods' statistics against statsmodels on many random two-window counts.

A fifth of the cases each have no failure after (k1 = 0), none before (k0 = 0), all failed after (k1 = n1)
or all failed before (k0 = n0). Prints the number of cases and the largest absolute differences from
statsmodels: Newcombe's interval (``confint_proportions_2indep(method="newcomb")``), the score test's p-value
(``test_proportions_2indep(method="score")``), the risk ratio's score interval (``compare="ratio",
method="score"``, on log scale, where statsmodels' closed form holds: 0 < k < n in both windows) and how far
statsmodels' own score test at our ratio bounds is from p = 0.05 (every finite bound), and whether the
Benjamini–Hochberg q-values equal ``multipletests(method="fdr_bh")`` exactly.

Run: ``.venv/bin/python benchmarks/compare_crosscheck.py [cases]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the cases live with the tests that use them

from tests.support.comparisons import agreement, random_counts


def main(cases: int) -> None:
    found = agreement(random_counts(cases, seed=0, max_n=2000), bh_sets=200)
    print(f"{found.cases:,} random cases (n up to 2,000; 0 and n counts in four fifths of them)")
    rows = [
        ("Newcombe interval, max |diff|", found.newcombe, f"{found.cases:,} cases (bar 1e-9)"),
        ("score test p-value, max |diff|", found.score_p, f"{found.score_cases:,} cases (bar 1e-6)"),
        ("risk ratio interval, max |log diff|", found.ratio_log, f"{found.ratio_cases:,} cases (0 < k < n)"),
        ("statsmodels' p at our ratio bounds, max |p - 0.05|", found.ratio_inversion,
         f"{found.inversion_cases:,} bounds"),
    ]  # fmt: skip
    for name, value, over in rows:
        print(f"{name:52} {value:.3g} over {over}")
    print(
        f"{'Benjamini-Hochberg q-values equal exactly':52} {found.bh_equal} over {found.bh_groups:,} p-values"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
