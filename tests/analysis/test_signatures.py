"""error_signatures and signature_of: the few causes behind many error texts."""

from __future__ import annotations

import datetime as dt
import json
import random

import pandas as pd
import pytest

import catena_nb as cn
from catena_nb._redact import MASK, Secret
from catena_nb.analysis.masks import TokenMemo, pattern_mask, quick_mask, quick_url, url_cut
from catena_nb.analysis.signatures import signature_key, signatures_of
from catena_nb.frames.checks import mark
from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.world import build_world
from tests.support.error_texts import CAUSES, variants

VARIANTS = 25


def test_the_same_cause_with_other_ids_and_values_shares_one_signature() -> None:
    """Each of the causes, written 25 times with fresh request ids, user ids, values and URLs, gives one
    (signature, HTTP status, TSP error code)."""
    for i, (name, writer) in enumerate(CAUSES.items()):
        keys = {signature_key(text) for text in variants(writer, VARIANTS, seed=i)}
        assert len(keys) == 1, (name, keys)


def test_two_different_causes_never_share_a_signature() -> None:
    """Every cause (each TSP profile's sandbox texts, and Samsara/Motive/Geotab-style bodies) has a key of
    its own."""
    seen: dict[tuple[str, int | None, str | None], str] = {}
    for i, (name, writer) in enumerate(CAUSES.items()):
        key = signature_key(variants(writer, 1, seed=i)[0])
        assert key not in seen, (name, seen.get(key), key)
        seen[key] = name
    assert len(seen) == len(CAUSES) > 100


@pytest.mark.parametrize(
    ("text", "signature"),
    [
        (
            "Client error '404 Not Found' for url 'https://api.samsara.com/v1/drivers/281474?x=1'",
            "Client error '<status> Not Found' for url 'https://api.samsara.com/v1/drivers/<id>'",
        ),
        (
            "Server error '503 Service Unavailable' for url 'https://my12.geotab.com/apiv1'",
            "Server error '<status> Service Unavailable' for url 'https://my<n>.geotab.com/apiv1'",
        ),
        (
            "Validation error: sender_id '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' is not a user",
            "Validation error: sender_id '<str>' is not a user",
        ),
        ("ConnectError:   [Errno 111]\n Connection refused", "ConnectError: [Errno <n>] Connection refused"),
        (
            'Response: {"requestId": "8f3a2b1c9d4e5f60", "message": "Driver 4821 not found", "errorCode": 7}',
            'Response: {"errorCode": "<code>", "message": "Driver <n> not found", "requestId": "<str>"}',
        ),
        ("field 'recipient_id' is required", "field 'recipient_id' is required"),
        ("user 'Bob Smith' at 2026-11-01T10:00:00Z", "user '<str>' at <time>"),
    ],
)
def test_signature_of_templates_urls_ids_numbers_and_values(text: str, signature: str) -> None:
    """URLs to host and path, ids, numbers, quoted values and times to placeholders, whitespace folded;
    field names and the reason phrase kept."""
    assert cn.signature_of(text) == signature


def test_status_and_code_are_columns_not_template() -> None:
    """The HTTP status and the TSP's code are read apart: a 401 and a 403 body alike differ by status."""
    body = '{"error_code": "invalid_driver", "error_message": "Driver 12 is not active"}'
    a = signature_key(f"HTTP 401: {body}")
    b = signature_key(f"HTTP 403: {body}")
    assert a[0] == b[0]
    assert (a[1], b[1]) == (401, 403)
    assert a[2] == b[2] == "invalid_driver"
    assert signature_key('{"code": 429, "message": "slow down"}')[1:] == (429, None)  # a status, not a code


def _logs(texts: list[str | None], statuses: list[int | None], tsps: list[str]) -> pd.DataFrame:
    n = len(texts)
    frame = pd.DataFrame(
        {
            "log_id": [f"l{i}" for i in range(n)],
            "attempt": 1,
            "operation_id": [f"op{i // 2}" for i in range(n)],
            "created_at": pd.Timestamp("2026-11-01T00:00:00Z") + pd.to_timedelta(range(n), unit="min"),
            "error_type": pd.Categorical(["tsp"] * n),
            "error_details": pd.array(texts, dtype="string"),
            "http_status": pd.array(statuses, dtype="Int64"),
            "source_name": pd.Categorical(tsps),
        }
    )
    return mark(frame, "logs")


def test_error_signatures_counts_per_group() -> None:
    """Per group and cause: attempts, distinct operations, first and last seen, the first text as example."""
    texts: list[str | None] = [
        f'HTTP 503 {{"message": "busy", "requestId": "r{i}a{i}b{i}"}}' for i in range(6)
    ]
    texts += ["ReadTimeout: The read operation timed out", None, ""]
    statuses: list[int | None] = [None] * 9
    logs = _logs(texts, statuses, ["samsara"] * 4 + ["motive"] * 5)
    table = cn.error_signatures(logs, by="source_name")
    assert table.attrs["catena_nb"] == "error_signatures"
    assert list(table.columns) == [
        "source_name", "error_type", "http_status", "error_code", "signature",
        "n", "operations", "first_seen", "last_seen", "example",
    ]  # fmt: skip
    samsara = table.loc[table["source_name"] == "samsara"].iloc[0]
    assert (samsara["n"], samsara["operations"], samsara["http_status"]) == (4, 2, 503)
    assert samsara["example"] == texts[0]
    assert samsara["first_seen"] < samsara["last_seen"]
    assert table["n"].sum() == 7  # the empty and missing texts are no error text
    assert table["n"].tolist() == sorted(table["n"], reverse=True)


def test_the_logged_status_wins_over_the_text() -> None:
    """A log's own http_status is kept; the text's status fills only where the log has none."""
    logs = _logs(["HTTP 503 busy", "HTTP 503 busy"], [502, None], ["a", "a"])
    table = cn.error_signatures(logs)
    assert sorted(table["http_status"].tolist()) == [502, 503]


def test_examples_and_signatures_are_redacted() -> None:
    """A secret the process holds never shows in a signature or an example."""
    secret = Secret("sk_live_abcdefghijklmnop")
    logs = _logs([f"Client error '401 Unauthorized' with key {secret.get()}"], [401], ["a"])
    table = cn.error_signatures(logs)
    example, signature = str(table.loc[0, "example"]), str(table.loc[0, "signature"])
    assert secret.get() not in example
    assert MASK in example
    assert secret.get() not in signature


def test_error_signatures_on_a_sandbox_history() -> None:
    """A 3-day history: every TSP's failed attempts fall into a few signatures, each with its status."""
    history = generate_history(build_world(3), 3, 3, dt.date(2026, 11, 1))
    _, logs = cn.operation_frames(history.operations)
    table = cn.error_signatures(logs, by="source_name")
    raw = logs["error_details"].dropna()
    assert table["n"].sum() == len(raw)
    assert table["signature"].nunique() < raw.nunique()
    assert (table.groupby("source_name", observed=True).size() <= 25).all()
    http = table.loc[table["signature"].str.contains("<status>")]
    assert http["http_status"].notna().all()


def test_empty_logs_give_an_empty_table() -> None:
    """The logs frame of no records gives a table without rows, with the columns."""
    table = cn.error_signatures(cn.logs_frame([]), by="source_name")
    assert len(table) == 0
    assert "signature" in table.columns


def test_signature_of_refuses_what_is_not_text() -> None:
    """signature_of(None) and other non-texts raise a TypeError naming what it needs."""
    with pytest.raises(TypeError, match="signature_of needs an error text"):
        cn.signature_of(None)  # type: ignore[arg-type]


def test_error_signatures_by_day() -> None:
    """by= a pd.Grouper of created_at: the causes per day, each attempt counted once."""
    history = generate_history(build_world(3), 3, 3, dt.date(2026, 11, 1))
    _, logs = cn.operation_frames(history.operations)
    table = cn.error_signatures(logs, by=[pd.Grouper(key="created_at", freq="D"), "source_name"])
    assert table["created_at"].nunique() == 3
    assert table["n"].sum() == logs["error_details"].notna().sum()


def _tokens_of_every_shape() -> list[str]:
    """The tokens of every cause's texts, and each of a set of values written inside every neighbour the
    quick path allows or refuses."""
    tokens = {
        t
        for i, writer in enumerate(CAUSES.values())
        for text in variants(writer, 5, seed=i)
        for t in text.split()
    }
    values = [
        "0",
        "7",
        "42",
        "099",
        "100",
        "404",
        "599",
        "600",
        "1000",
        "12345678",
        "4040",
        "٣٤٥",
        "8f3a2b1c",
        "8f3a2b1c9d",
        "ab12cd",
        "abc12345",
        "abcdefgh1",
        "1a2b3c4d",
        "req_8f3a2b1c",
        "v2",
        "OAuth2",
        "19d03df4-bfa2-4a24-ac24-06e8b5cf53b7",
        "19D03DF4-BFA2-4A24-AC24-06E8B5CF53B7",
        "19d03df4-bfa2-4a24-ac24-06e8b5cf53b",
        "2026-11-01",
        "2026-11-01T12:00:00Z",
        "a@b.com",
        "x?y=1",
        "#12",
        "https://api.samsara.com/fleet/drivers/646120321103655/messages?limit=203",
        "https://my12.geotab.com/apiv1",
        "http://a-1.b/x/404/v2/19d03df4-bfa2-4a24-ac24-06e8b5cf53b7#frag",
        "https://api.x.com/v1/users/abc12345/x.json?k=1,2",
        "https://x.io/p?q='1'",
        "https://u:p@h.com/1",
        "https://h.com/a/b12345678/2026-11-01T12:00:00Z/v1.2",
    ]
    around = ["", "'", '"', "(", "[", "{", ",", ":", ";", "-", ".", "<", ">", "\\", "/", "a", "_", "@", "é"]
    for value in values:
        for left in around:
            for right in around:
                tokens.add(f"{left}{value}{right}")
                tokens.add(f'{left}"{value}"{right},')
    return sorted(tokens)


def test_the_quick_masks_give_what_the_patterns_give() -> None:
    """A token the quick path masks (a number, a UUID or an id between quotes, brackets or commas, a URL
    part by part) is masked exactly as the patterns mask it; the others are left to the patterns."""
    quick = 0
    for token in _tokens_of_every_shape():
        masked = quick_url(token) if "://" in token else quick_mask(token)
        if masked is not None:
            quick += 1
            assert masked == pattern_mask(token), token
    assert quick > 500  # the shapes it is there for are taken quickly


def test_the_memo_masks_every_token_as_the_patterns_do() -> None:
    """Through the memo (URLs cut first, then masked part by part, each part an entry), every token of
    every shape is masked as the patterns mask it alone, whatever was looked up before it."""
    tokens = _tokens_of_every_shape()
    for order in (tokens, tokens[::-1]):
        memo = TokenMemo()
        for token in order:
            assert memo[token] == pattern_mask(token), token
    assert all(url_cut(url_cut(t)) == url_cut(t) for t in tokens if "://" in t)  # a cut URL is cut


def test_signatures_of_many_texts_are_signature_of_each() -> None:
    """The batch form gives each text's own signature, in order, repeated texts and causes included."""
    texts = [text for i, writer in enumerate(CAUSES.values()) for text in variants(writer, 3, seed=i)]
    texts += texts[:50]
    assert signatures_of(texts) == [cn.signature_of(text) for text in texts]


def test_codes_read_once_per_masked_text_are_each_texts_own() -> None:
    """The TSP's code read from a masked text where the masks left it whole is each text's own, in texts
    of every cause and where the masks change a value's length or its spaces (an e-mail, a long URL query,
    a value past 80 characters, a run of spaces, a number, a status under ``code``)."""
    import numpy as np

    from catena_nb.analysis.masks import mask_all
    from catena_nb.analysis.signatures import _code_of, _codes_of

    texts = [text for i, writer in enumerate(CAUSES.values()) for text in variants(writer, 4, seed=i)]
    long = "x" * 70
    texts += [
        f'{{"errorCode": "{long}-a@b.co-{long}", "code": "Plain"}}',
        f'{{"errorCode": "{"y" * 76}a@b.co", "subCode": "Plain"}}',
        f'{{"errorCode": "https://h.com/p?q={"1" * 80}", "reasonCode": "Plain"}}',
        f'{{"errorCode": "https://h.com/p?q={"1" * 20}"}}',
        '{"errorCode": "two  spaces", "code": "Plain"}',
        '{"errorCode":\n"SPLIT"}',
        '{"code": 404, "errorCode": "Plain"}',
        '{"code": 4040, "errorCode": "Plain"}',
        '{"error_code": "OMN-500"}',
        '{"error_code": "OMN-501"}',
        '{"code": -32000, "message": "x"}',
        '{"code": -32001, "message": "x"}',
        '{"errorCode": 0}',
        '{"errorCode": 7}',
        '{"errorCode": "0"}',
        '{"errorCode": "A.0"}',
        '{"errorCode": "E-0"}',
        '{"errorCode": "1.5"}',
        '{"errorCode": 12.0}',
        f'{{"faultCode": "{"z" * 81}", "code": "Plain"}}',
        f'{{"faultCode": "{"7" * 85}", "code": "Plain"}}',
        '{"errorCode": "deadbeef-dead-beef-dead-beefdeadbeef"}',
        '{"mode": "x"}',
    ]
    rng = random.Random(18)  # and bodies of random shapes: values around the 80-character limit, unquoted
    pieces = [
        "a", "Z", "_", "-", ".", "0", "7", "12", "404", " ", "  ", "\n", "@", "x@y.io", "<", ">", "?", "#",
        "/", "\\", '"', ",", ":", "://", "https://h1.com/p?q=1", "é", "١٢",
        "19d03df4-bfa2-4a24-ac24-06e8b5cf53b7",
        "2026-11-01T12:00:00Z", "req_8f3a2b1c", "deadbeef", "-32000", "3.5",
    ]  # fmt: skip
    keys = ["code", "errorCode", "subCode", "message", "ERROR_CODE", "reason_code", "status"]
    for _ in range(3000):
        fields = []
        for _ in range(rng.randint(1, 3)):
            value = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
            value = value[: rng.choice([3, 5, 40, 79, 80, 81, 90, 200])]
            shape = rng.random()
            written = json.dumps(value) if shape < 0.5 else f'"{value}"' if shape < 0.7 else value
            colon = rng.choice([": ", ":", " : ", ":\n  "])
            fields.append(f'"{rng.choice(keys)}"{colon}{written}')
        texts.append(rng.choice(["", "Error "]) + "{" + ", ".join(fields) + "}")
    masked_codes, masked = pd.factorize(np.asarray(mask_all(texts), dtype=object))
    assert _codes_of(texts, list(masked), masked_codes) == [_code_of(t) for t in texts]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"errorCode": "DriverNotFound", "message": "x"}', "DriverNotFound"),
        ('{"ERROR_CODE": "Bad_Value"}', "Bad_Value"),
        ('{"code": 404, "errorCode": "E-17"}', "E-17"),  # a status under "code" is not the TSP's code
        ('{"code": -32000, "message": "Upstream timeout"}', "-32000"),
        ('{"message": "Fahrer « Jörg » unbekannt", "faultCode": "Unbekannt"}', "Unbekannt"),
        ('{"mode": "x", "node": "y"}', None),
    ],
)
def test_the_tsp_code_keeps_its_case_whatever_the_keys_case(text: str, code: str | None) -> None:
    assert signature_key(text)[2] == code
