"""Print the checks of time_to_settle and error_signatures:

1. time_to_settle against ``scipy.stats.ecdf`` on ``CensoredData``: random groups with ties and heavy
   censoring (the cases of ``tests/support/km_reference.py``), the largest absolute differences of the
   survival values, of the log-log band, and of the median, its interval and p90;
2. the causes of ``tests/support/error_texts.py``: each written many times with fresh ids and values, one
   signature per cause, and no two causes sharing one;
3. error_signatures on a 30-day sandbox history (``cn.Sandbox(seed=7, history=30, anchor="2026-11-01")``):
   how many raw texts, how many signatures per TSP, and that no signature there mixes two causes (a cause:
   the TSP and its text with its UUIDs, hex ids and numbers masked, the parts of the sandbox's texts that
   vary per call: sim/errortexts.py).

Usage: python scripts/settle_signatures_checks.py [--cases 2000] [--variants 200]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the reference cases live with the tests

import catena_nb as cn
from catena_nb.analysis.signatures import signature_key
from tests.support.error_texts import CAUSES, variants
from tests.support.km_reference import crosscheck


def _scipy(cases: int) -> bool:
    total_groups = total_steps = 0
    worst = 0.0
    for seed in range(5):
        check = crosscheck(seed=seed, cases=cases // 5)
        total_groups += check.groups
        total_steps += check.steps
        worst = max(worst, check.survival, check.band, check.quantiles)
        print(
            f"  seed {seed}: {check.groups} groups, {check.steps} survival steps; max |diff| survival "
            f"{check.survival:.3g}, band {check.band:.3g}, median/CI/p90 {check.quantiles:.3g}"
        )
    print(f"  {total_groups} groups ({total_steps} steps) compared: max |diff| {worst:.3g} (bar 1e-9)")
    return worst < 1e-9


def _causes(n: int) -> bool:
    keys: dict[tuple[str, int | None, str | None], list[str]] = {}
    split = 0
    for i, (name, writer) in enumerate(CAUSES.items()):
        found = {signature_key(text) for text in variants(writer, n, seed=i)}
        split += len(found) != 1
        for key in found:
            keys.setdefault(key, []).append(name)
    shared = {key: names for key, names in keys.items() if len(set(names)) > 1}
    print(
        f"  {len(CAUSES)} causes x {n} texts each: {len(keys)} signatures; {split} causes split over more "
        f"than one, {len(shared)} signatures shared by two causes"
    )
    return split == 0 and not shared


_VARYING = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]*\d[0-9a-f]*\b|\d+"


def _history() -> bool:
    with cn.Sandbox(seed=7, history=30, anchor="2026-11-01") as sb:
        client = cn.CatenaClient(base_url=sb.url, token=sb.token)
        with client:
            ops = client.operations.list(since="2026-10-01T00:00:00Z", until="2026-11-02T00:00:00Z").to_list()
    _, logs = cn.operation_frames(ops)
    texts = logs["error_details"].dropna()
    table = cn.error_signatures(logs, by="source_name")
    distinct = texts.nunique()
    print(f"  {len(ops):,} operations, {len(logs):,} logs, {len(texts):,} error texts, {distinct} distinct")
    per_tsp = table.groupby("source_name", observed=True).agg(
        signatures=("signature", "size"), attempts=("n", "sum")
    )
    for tsp, row in per_tsp.iterrows():
        print(f"  {tsp:10} {row['signatures']:3} signatures over {row['attempts']:,} failed attempts")
    # a cause here is the TSP and its text with what varies per call masked (sim/errortexts.py: request and
    # correlation ids, driver and user ids, references, lengths): each must have one signature key, and no
    # key more than one cause
    work = logs.loc[logs["error_details"].notna()].copy()
    work["cause"] = work["error_details"].astype(str).str.replace(_VARYING, "#", regex=True)
    keys = {text: signature_key(text) for text in work["error_details"].astype(str).unique()}
    work["key"] = [keys[t] for t in work["error_details"].astype(str)]
    pairs = work[["source_name", "cause", "key"]].drop_duplicates()
    causes = pairs.groupby(["source_name", "cause"], observed=True)["key"].nunique()
    shared = pairs.groupby(["source_name", "key"], observed=True)["cause"].nunique()
    mixed = work.groupby(["source_name", "key"], observed=True)["error_type"].nunique()
    print(
        f"  {len(causes)} causes (TSP, text with ids and numbers masked): {int((causes > 1).sum())} "
        f"with more than one signature; {len(shared)} signatures, {int((shared > 1).sum())} shared by two "
        f"causes, {int((mixed > 1).sum())} holding two error_types"
    )
    counted = int(table["n"].sum()) == len(texts)
    return counted and all(bool((counts == 1).all()) for counts in (causes, shared, mixed))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=200)
    args = parser.parse_args(argv)
    print("time_to_settle against scipy.stats.ecdf(CensoredData):")
    ok = _scipy(args.cases)
    print("error signatures of the causes table:")
    ok &= _causes(args.variants)
    print("error_signatures on cn.Sandbox(seed=7, history=30, anchor='2026-11-01'):")
    ok &= _history()
    print("all checks passed" if ok else "A CHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
