"""What the pre-seeded history's traffic looks like: volumes, the daily rhythm, the mix, and the texts."""

from __future__ import annotations

import random

# Operations per weekday per connection, in the world's connection order; weekends carry less.
DAILY_VOLUME = (560, 400, 450, 300, 370, 280)
WEEKEND_FACTOR = 0.45
# Share of traffic per UTC hour: the fleets are in North America, so the working day is 12:00-01:00 UTC.
HOURLY_SHARE = (3, 2, 1.5, 1, 1, 1, 1, 1.5, 2, 3, 5, 8, 10, 11, 11, 10, 10, 10, 9, 9, 8, 7, 6, 4)
SYNC_SHARE = 0.15
GROUP_SHARE = 0.04
PRIORITIES = ("low", "low", "medium", "medium", "medium", "high", None, None)

_SHORT = (
    "Delivery confirmed at warehouse {x}",
    "Please call dispatch when you reach stop {n}",
    "Load {n} is ready for pickup at dock {x}",
    "Running late? Update your ETA for order {n}",
    "Reefer temp alarm on trailer {n}, please check",
    "Take I-{m} north, detour on route {n}",
    "Your next pickup is {n} at gate {x}",
    "Fuel stop approved at exit {m}",
    "BOL for shipment {n} signed, thanks",
    "HOS reset needed before load {n}",
    "Customer {x} asks for a 30 min earlier arrival",
    "Drop trailer {n} at yard {x}",
    "OK",
    "Copy that",
)
_SENTENCES = (
    "The consignee changed the receiving hours to 06:00-14:00 for the rest of the week.",
    "Please make sure the seal number on the paperwork matches the one on the trailer doors.",
    "If the dock is full, wait in the staging lot and message dispatch with your position.",
    "Weather service expects heavy snow on the pass tonight, so chain up before the summit.",
    "Scale the load at the first open station and send a photo of the ticket.",
    "The customer will only accept pallets wrapped in clear film; refuse any damaged freight.",
    "Your detention clock starts two hours after the appointment time, log the arrival precisely.",
    "Call the broker before leaving the shipper if the piece count differs from the order.",
)


def text_pool(rng: random.Random) -> list[str]:
    """300 message texts: 75% short (at most 160 characters), 20% medium (161-480), 5% long (481-1400)."""
    pool: list[str] = []
    for i in range(300):
        n = rng.randint(1000, 99999)
        template = rng.choice(_SHORT)
        short = template.format(n=n, m=rng.randint(5, 95), x=rng.choice("ABCDEFGH"))
        if i < 225:
            pool.append(short)
            continue
        target = rng.randint(161, 480) if i < 285 else rng.randint(481, 1400)
        parts = [short + "."]
        while sum(len(p) + 1 for p in parts) < target:
            parts.append(rng.choice(_SENTENCES))
        pool.append(" ".join(parts)[:target])
    return pool
