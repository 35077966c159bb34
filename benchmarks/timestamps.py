"""Benchmark: reading the API's timestamps, pandas' ISO 8601 parser (what the frames use) against numpy's.

800,000 timestamps in the API's forms (``Z`` and ``+00:00``, with and without a fraction, and all four
mixed), read to microseconds since the epoch three ways:

- pandas: ``pandas.to_datetime(format="ISO8601", utc=True)``, the frames' reader (``frames._columns``);
- numpy: ``np.array(stripped, dtype="datetime64[us]")``, the zone stripped in Python first (numpy refuses
  zones), which holds only for the ``Z`` and ``+00:00`` forms;
- numpy, fixed width: the chunk's text joined and laid out as one row of bytes per timestamp, the zone cut
  off, ``astype("datetime64[us]")`` (one width per chunk, zones of +00:00 only, and no check of the layout:
  what a reader built on it would still have to add; given rows of several widths that happen to add up,
  numpy 2.4's cast crashed the interpreter).

Each is timed on the whole array and 4,096 at a time, as the frames read a chunk; every result is checked
against pandas'. The last lines time the frames themselves on the 200,000 operations of
``benchmarks/frames.py`` with both kinds of timestamp reader in turn.

Run: ``.venv/bin/python benchmarks/timestamps.py [n]``
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from frames import make_operations  # benchmarks/frames.py, beside this file

from catena_nb.frames import _columns, _operations, operation_frames

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


_FRAMES_READER = _columns.microseconds


def pandas_iso(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    return _FRAMES_READER(values)


def numpy_stripped(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    stripped = [s[:-1] if s[-1] == "Z" else s[:-6] for s in values.tolist()]
    us: npt.NDArray[np.int64] = np.array(stripped, dtype="datetime64[us]").view(np.int64)
    return us


def numpy_fixed_width(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    text = ("\n".join(values.tolist()) + "\n").encode("ascii")
    width, rest = divmod(len(text), len(values))
    if rest:  # several widths: not a form this reader takes
        return numpy_stripped(values)
    rows = np.frombuffer(text, dtype=np.uint8).reshape(len(values), width)
    if not np.all(rows[:, -1] == ord("\n")):  # several widths that add up: garbage rows would crash numpy
        return numpy_stripped(values)
    date_width = width - (2 if text[width - 2] == ord("Z") else 7)
    dates = rows[:, :date_width].copy().view(f"S{date_width}").ravel()
    us: npt.NDArray[np.int64] = dates.astype("datetime64[us]").view(np.int64)
    return us


READERS: dict[str, Reader] = {
    "pandas ISO8601 (frames)": pandas_iso,
    "numpy, zone stripped": numpy_stripped,
    "numpy, fixed width": numpy_fixed_width,
}


def chunked(reader: Reader) -> Reader:
    def run(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        step = _operations.CHUNK
        return np.concatenate([reader(values[i : i + step]) for i in range(0, len(values), step)])

    return run


def best(reader: Callable[[Any], Any], values: Any, repeat: int = 5) -> float:
    fastest = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        reader(values)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def frames_with(reader: Reader, ops: list[dict[str, Any]]) -> float:
    """The best time of ``operation_frames(ops)`` with ``reader`` in place of the frames' timestamp reader."""
    saved = _columns.microseconds
    _columns.microseconds = reader  # type: ignore[assignment]  # a stand-in, for the time of the run
    try:
        return best(operation_frames, ops, repeat=3)
    finally:
        _columns.microseconds = saved


def main(n: int = 800_000) -> int:
    print(f"{n:,} timestamps per form; seconds, best of 5 (whole array / {_operations.CHUNK:,} at a time)")
    print(f"{'form':18s}" + "".join(f"{name:>28s}" for name in READERS))
    mixed = np.concatenate([make(n // len(FORMS), form, seed=i) for i, form in enumerate(FORMS)])
    np.random.default_rng(0).shuffle(mixed)
    for form, values in [*((f, make(n, f)) for f in FORMS), ("all four, mixed", mixed)]:
        expected = pandas_iso(values)
        cells = []
        for reader in READERS.values():
            assert np.array_equal(reader(values), expected)
            cells.append(f"{best(reader, values):.3f} / {best(chunked(reader), values):.3f}")
        print(f"{form:18s}" + "".join(f"{cell:>28s}" for cell in cells))

    ops = make_operations(200_000)
    print("operation_frames of 200,000 operations, best of 3, in turns:")
    t_pandas = t_numpy = float("inf")
    for _ in range(2):
        t_pandas = min(t_pandas, frames_with(pandas_iso, ops))
        t_numpy = min(t_numpy, frames_with(_fixed_width_or_pandas, ops))
    print(f"  pandas ISO8601: {t_pandas:.3f} s   numpy fixed width: {t_numpy:.3f} s")
    return 0


def _fixed_width_or_pandas(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """numpy's fixed-width reading where it takes the chunk (the frames' other values go to pandas)."""
    try:
        return numpy_fixed_width(values)
    except (TypeError, ValueError, UnicodeEncodeError, AttributeError, IndexError):
        return pandas_iso(values)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 800_000))
