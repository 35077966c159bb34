"""The ids of the sandbox's records: UUIDs as the real API writes them, and TSP-side ids in each TSP's style.

Seeded ids (``stable_uuid``, ``SeededIds``, ``source_id_for``) depend only on their inputs, so the same seed
gives the same ids on any machine and any day; ``new_uuid7`` is for records made live.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid


def stable_uuid(seed: int, kind: str, *parts: object) -> str:
    """A UUID-formatted id that depends only on ``(seed, kind, *parts)``."""
    digest = hashlib.blake2b(f"{seed}\x1f{kind}\x1f{parts!r}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=5))


def stable_int(*parts: object) -> int:
    """A non-negative 64-bit integer that depends only on ``parts``."""
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def uuid7_at(ms: int, rand: int) -> str:
    """A UUID version 7 string for the millisecond ``ms`` with 74 bits of ``rand``."""
    return "%08x-%04x-7%03x-%04x-%012x" % (  # noqa: UP031 - %-formatting is the fastest here (history)
        ms >> 16 & 0xFFFF_FFFF,
        ms & 0xFFFF,
        rand >> 62 & 0xFFF,
        0x8000 | (rand >> 48 & 0x3FFF),
        rand & 0xFFFF_FFFF_FFFF,
    )


def new_uuid7() -> str:
    """A fresh time-ordered id, like the real API's operation and message ids."""
    return uuid7_at(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big"))


class SeededIds:
    """UUID version 7 ids for one kind of record: the record's millisecond plus a mixed counter (unique).

    Args:
        seed: salts the random bits, so that another seed gives other ids.
        kind: salts them too, so that operations, logs and messages never share an id.
        start_ms: the millisecond that ``t = 0`` stands for.
    """

    _MASK = (1 << 74) - 1

    def __init__(self, seed: int, kind: str, start_ms: int) -> None:
        digest = hashlib.blake2b(f"{seed}|ids|{kind}".encode(), digest_size=16).digest()
        self._salt = int.from_bytes(digest, "big") & self._MASK
        self._start_ms = start_ms
        self._n = 0

    def __call__(self, t: float) -> str:
        """The next id, for a record made ``t`` seconds after ``start_ms``."""
        self._n += 1
        # an odd multiplier is a bijection modulo 2**74, so distinct counters give distinct bits
        return uuid7_at(
            self._start_ms + int(t * 1000), (self._n * 0x9E3779B97F4A7C15F39 + self._salt) & self._MASK
        )


def source_id_for(style: str, n: int) -> str:
    """A TSP-side id in the TSP's own style, made from the non-negative integer ``n``."""
    if style == "samsara":  # numeric ids (the seed page shows "51477344", "98765432")
        return str(10_000_000 + n % 90_000_000)
    if style == "motive":  # numeric, seven digits
        return str(1_000_000 + n % 9_000_000)
    if style == "geotab":  # short base-36 entity ids such as "b2F7"
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        out = ["b"]
        for _ in range(5):
            n, r = divmod(n, len(alphabet))
            out.append(alphabet[r])
        return "".join(out)
    if style == "hos247":  # dashed, as its driver ids
        return f"H247-{n % 1_000_000:06d}"
    # omnitracs-style prefixed alphanumerics
    return f"OMX{n % 10_000_000:07d}"
