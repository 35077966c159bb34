"""Change detection on binomial counts: a Bernoulli CUSUM per series, its threshold by simulation, and the
maximum-likelihood period of each alarm.

The series is one group's time buckets: ``n[t]`` settled operations and ``x[t]`` failures in bucket ``t``.
:func:`detect` finds the periods in which the failure rate rose above the baseline ``p0``:

1. **The CUSUM.** Page's (1954) cumulative sum of the log-likelihood ratio of a raised rate ``p1`` against
   ``p0``, for Bernoulli trials (Reynolds & Stoumbos 1999) summed per bucket:
   ``w[t] = x[t] log(p1/p0) + (n[t] - x[t]) log((1 - p1)/(1 - p0))``, ``S[t] = max(0, S[t-1] + w[t])``,
   an alarm when ``S[t] > h``. ``p1`` has the odds of ``p0`` times ``ratio`` (the risk-adjusted CUSUM's
   parameterisation, Steiner et al. 2000), so it stays below 1 for any baseline. Each bucket weighs in by
   its ``n``: a night bucket of two sends moves ``S`` by at most ``2 log(p1/p0)``, so it cannot raise an
   alarm alone, while a busy hour at a high rate can.
2. **The threshold.** ``h`` is the ``1 - false_alarm`` quantile of ``max_t S[t]`` over ``simulations``
   series drawn under the baseline with the series' own ``n[t]`` (Monte Carlo, seeded, so the same data
   give the same answer): the chance of any false alarm over the whole series is ``false_alarm``, however
   long the series and however uneven its volumes. The usual average-run-length tables assume a constant
   ``n`` per bucket, which a day-night rhythm of 2 to 40 operations an hour is not.
3. **The period.** The CUSUM knows *that* the rate rose, not exactly when it rose and fell back: its
   statistic lingers long after a loud incident ends. Around each alarm the period ``[a, b]`` is the one
   that maximises the binomial likelihood ratio of its own rate against the baseline (the epidemic
   change-point model, Levin & Kline 1985), with ``a`` from a few buckets before the CUSUM's last zero to
   the alarm and ``b`` from there to where the CUSUM returns to zero. The CUSUM restarts after the period;
   an alarm in the bucket right after it extends it (the same incident, going on at another level).

Why this method rather than the others the literature offers: a Bayesian online changepoint detector
(Adams & MacKay 2007) needs a hazard rate and priors an analyst would have to defend, and reports
posterior run lengths rather than an alarm with a stated false-alarm rate; a penalised segmentation with a
binomial cost (PELT, Killick et al. 2012) segments the whole series well but its penalty has no direct
false-alarm meaning. The CUSUM is the optimal detector for a shift of the design size (Moustakides 1986),
its threshold says how often it cries wolf, and the likelihood step gives the onset and end to the bucket.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DEFAULT_FALSE_ALARM = 0.01
DEFAULT_SIMULATIONS = 1000
_START_SLACK = 3  # buckets before the CUSUM's last zero where an onset may still lie
_SEED = 20_070_101  # the simulations' seed: the same data always get the same threshold
_CHUNK = 2_000_000  # simulated buckets drawn at once (memory bound of the threshold's simulation)


@dataclass(frozen=True)
class Segment:
    """A period ``[start, stop)`` of bucket positions whose failure rate rose above the baseline."""

    start: int
    stop: int
    alarm: int  # the bucket at which the CUSUM crossed its threshold


def raised_rate(p0: float, ratio: float) -> float:
    """The rate whose odds are ``ratio`` times those of ``p0``."""
    odds = ratio * p0 / (1.0 - p0)
    return odds / (1.0 + odds)


def increments(n: FloatArray, x: FloatArray, p0: float, p1: float) -> FloatArray:
    """The log-likelihood ratio of ``p1`` against ``p0`` of each bucket's counts."""
    up, down = np.log(p1 / p0), np.log((1.0 - p1) / (1.0 - p0))
    out: FloatArray = x * up + (n - x) * down
    return out


def cusum(w: FloatArray) -> FloatArray:
    """``S[t] = max(0, S[t-1] + w[t])`` from ``S[-1] = 0``, without a Python loop.

    With ``C`` the cumulative sum of ``w`` (and ``C[-1] = 0``), ``S[t] = C[t] - min(0, min_{s<=t} C[s])``.
    """
    c = np.cumsum(w, axis=-1)
    low = np.minimum(np.minimum.accumulate(c, axis=-1), 0.0)
    out: FloatArray = c - low
    return out


def threshold(
    n: FloatArray,
    p0: float,
    p1: float,
    *,
    false_alarm: float = DEFAULT_FALSE_ALARM,
    simulations: int = DEFAULT_SIMULATIONS,
) -> float:
    """The CUSUM threshold that a series of these volumes at rate ``p0`` crosses with chance
    ``false_alarm``."""
    n = n[n > 0]  # an empty bucket moves nothing
    if not len(n):
        return float("inf")
    # the same series come back: a TSP of one connection is that connection's series too, and one baseline
    # serves several rounds of the incidents' search
    volumes = np.asarray(n, dtype=np.float64).tobytes()
    return _simulated(volumes, float(p0), float(p1), float(false_alarm), int(simulations))


@functools.lru_cache(maxsize=256)
def _simulated(volumes: bytes, p0: float, p1: float, false_alarm: float, simulations: int) -> float:
    n = np.frombuffer(volumes, dtype=np.float64)
    rng = np.random.default_rng(_SEED)
    counts = n.astype(np.int64)
    up, down = np.log(p1 / p0), np.log((1.0 - p1) / (1.0 - p0))
    # single precision halves the memory traffic; its rounding (1e-7 of the sums) is far below the
    # simulation's own error in the quantile
    step = np.float32(up - down)
    drift = (n * down).astype(np.float32)
    peaks = np.empty(simulations)
    rows = max(1, _CHUNK // len(n))
    for first in range(0, simulations, rows):
        k = min(rows, simulations - first)
        x = rng.binomial(counts, p0, size=(k, len(n))).astype(np.float32)
        peaks[first : first + k] = cusum(x * step + drift).max(axis=1)
    return float(np.quantile(peaks, 1.0 - false_alarm, method="higher"))


def _best_period(
    n: FloatArray, x: FloatArray, p0: float, starts: range, stops: range
) -> tuple[int, int] | None:
    """The ``[a, b)`` (a in ``starts``, b in ``stops``) of the highest likelihood ratio of its own rate."""
    cn = np.concatenate(([0.0], np.cumsum(n)))
    cx = np.concatenate(([0.0], np.cumsum(x)))
    a = np.asarray(starts)[:, None]
    b = np.asarray(stops)[None, :]
    total_n = cn[b] - cn[a]
    total_x = cx[b] - cx[a]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = total_x / total_n
        ll = _xlogy(total_x, rate / p0) + _xlogy(total_n - total_x, (1.0 - rate) / (1.0 - p0))
    ll = np.where((b > a) & (total_n > 0) & (rate > p0), ll, -np.inf)
    if not np.isfinite(ll).any():
        return None
    i, j = np.unravel_index(int(np.argmax(ll)), ll.shape)
    return int(starts[i]), int(stops[j])


def _xlogy(x: FloatArray, y: FloatArray) -> FloatArray:
    """``x * log(y)``, 0 where ``x`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(x > 0, x * np.log(np.where(x > 0, y, 1.0)), 0.0)
    return out


def detect(n: FloatArray, x: FloatArray, p0: float, p1: float, h: float) -> list[Segment]:
    """The periods of one series in which the rate rose from ``p0`` (CUSUM alarms at ``h``, then the
    likelihood's period around each), in time order."""
    segments: list[Segment] = []
    w = increments(n, x, p0, p1)
    begin, size = 0, len(n)
    while begin < size:
        s = cusum(w[begin:])
        above = np.flatnonzero(s > h)
        if not len(above):
            break
        alarm = begin + int(above[0])
        # the CUSUM's last zero before the alarm: where the evidence started to pile up
        zeros = np.flatnonzero(s[: alarm - begin + 1] <= 0.0)
        onset = begin + (int(zeros[-1]) + 1 if len(zeros) else 0)
        back = np.flatnonzero(s[alarm - begin :] <= 0.0)
        settle = alarm + int(back[0]) if len(back) else size
        found = _best_period(
            n, x, p0, range(max(begin, onset - _START_SLACK), alarm + 1), range(onset + 1, settle + 1)
        )
        start, stop = found if found is not None else (onset, alarm + 1)
        stop = max(stop, alarm + 1)
        if segments and start <= segments[-1].stop:
            # an alarm right where the last period ended: the same incident going on at another level
            # (an outage's last partial hour, retries draining), so the periods join
            last = segments.pop()
            start, alarm = last.start, last.alarm
        segments.append(Segment(start=start, stop=stop, alarm=alarm))
        begin = stop
    return segments
