"""Benchmark: reading the API's timestamps, numpy's parser against pandas'.

800,000 timestamps in the API's forms (``Z`` and ``+00:00``, with and without a fraction), read to
microseconds since the epoch three ways: the frames' reader (``catena_nb.frames._timestamps``: the text of a
chunk laid out as fixed-width bytes, the zone cut off, numpy's ``astype("M8[us]")``), numpy on the text with
its zone stripped in Python (``np.array(stripped, dtype="datetime64[us]")``), and
``pandas.to_datetime(format="ISO8601")``. Each is timed on the whole array and a chunk of 4,096 at a time,
as the frames read them; every result is checked against pandas'.

Run: ``.venv/bin/python benchmarks/timestamps.py [n]``
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from catena_nb.frames import _operations, _timestamps

FORMS = {
    "fraction, Z": ("%Y-%m-%dT%H:%M:%S.%f", "Z"),
    "fraction, +00:00": ("%Y-%m-%dT%H:%M:%S.%f", "+00:00"),
    "seconds, Z": ("%Y-%m-%dT%H:%M:%S", "Z"),
    "seconds, +00:00": ("%Y-%m-%dT%H:%M:%S", "+00:00"),
}
Reader = Callable[[npt.NDArray[Any]], npt.NDArray[np.int64]]


def make(n: int, form: str, seed: int = 0) -> npt.NDArray[Any]:
    rng = random.Random(seed)
    pattern, zone = FORMS[form]
    t0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    text = [(t0 + dt.timedelta(seconds=i * 3.7 + rng.random())).strftime(pattern) + zone for i in range(n)]
    return np.array(text, dtype=object)


def frames_reader(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    return _timestamps.microseconds(values)


def numpy_stripped(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    stripped = [s[:-1] if s[-1] == "Z" else s[:-6] for s in values.tolist()]
    return np.array(stripped, dtype="datetime64[us]").view(np.int64)


def pandas_iso(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    parsed = pd.to_datetime(values, utc=True, format="ISO8601")
    return np.asarray(pd.DatetimeIndex(parsed).as_unit("us").asi8)


READERS: dict[str, Reader] = {
    "frames (numpy, fixed width)": frames_reader,
    "numpy, zone stripped": numpy_stripped,
    "pandas ISO8601": pandas_iso,
}


def chunked(reader: Reader) -> Reader:
    def run(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        step = _operations.CHUNK
        return np.concatenate([reader(values[i : i + step]) for i in range(0, len(values), step)])

    return run


def best(reader: Reader, values: npt.NDArray[Any], repeat: int = 5) -> float:
    fastest = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        reader(values)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def main(n: int = 800_000) -> int:
    print(f"{n:,} timestamps per form; seconds, best of 5 (whole array / {_operations.CHUNK:,} at a time)")
    print(f"{'form':18s}" + "".join(f"{name:>32s}" for name in READERS))
    mixed = np.concatenate([make(n // len(FORMS), form, seed=i) for i, form in enumerate(FORMS)])
    np.random.default_rng(0).shuffle(mixed)
    for form, values in [*((f, make(n, f)) for f in FORMS), ("all four, mixed", mixed)]:
        expected = pandas_iso(values)
        cells = []
        for reader in READERS.values():
            assert np.array_equal(reader(values), expected)
            cells.append(f"{best(reader, values):.3f} / {best(chunked(reader), values):.3f}")
        print(f"{form:18s}" + "".join(f"{cell:>32s}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 800_000))
