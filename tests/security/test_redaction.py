"""The one redaction: each credential shape and each form of a known secret is masked, wherever it shows."""

from __future__ import annotations

import base64
import gc
import json
import logging
from urllib.parse import quote, quote_plus

import httpx
import pytest

from catena_nb._redact import MASK, RedactingFilter, Secret, clip, redact, redact_data, redact_headers
from catena_nb.client import CatenaClient
from catena_nb.client.pagination import Page
from catena_nb.errors import (
    APIConnectionError,
    AuthenticationError,
    RateLimitError,
    ResponseValidationError,
    status_error,
)
from catena_nb.models import ResourceOperation
from catena_nb.notebook import _panes as parts

VALUE = "s3cr3t-Vx9q+/=&\"'<>%"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlLXZhbHVlLTEyMw"


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Authorization: Bearer tok-123abc\nnext line", "tok-123abc"),
        ('{"Authorization": "Bearer tok-9", "x": 1}', "tok-9"),
        ("authorization=Bearer%20tok-url&x=1", "tok-url"),
        ("<td>Authorization</td><td>Bearer abc.def-ghi</td>", "abc.def-ghi"),
        ("(b'x-echo', b'Bearer zzz-top')", "zzz-top"),
        ('{"access_token": "at-1", "refresh_token": "rt-2", "id_token": "it-3"}', "at-1"),
        ('{"access_token": "at-1", "refresh_token": "rt-2", "id_token": "it-3"}', "rt-2"),
        ("grant_type=client_credentials&client_secret=cs%2Bx%2F&scope=organization", "cs%2Bx%2F"),
        ('{\\"client_secret\\":\\"nested-1\\"}', "nested-1"),
        (f"a JWT {JWT} in prose", JWT),
        ("Basic " + base64.b64encode(b"cid:pw-123").decode(), base64.b64encode(b"cid:pw-123").decode()),
    ],
)
def test_each_credential_shape_is_masked(text: str, gone: str) -> None:
    """Bearer and Basic values, Authorization headers, token and secret fields, JWTs: masked."""
    out = redact(text)
    assert gone not in out
    assert MASK in out


def test_a_challenge_and_plain_prose_stay_readable() -> None:
    """`Bearer realm="…"` challenges and ordinary words are left as they are."""
    text = 'WWW-Authenticate: Bearer realm="catena", error="invalid_token" — basic information, no token'
    assert redact(text) == text


def test_every_form_of_a_live_secret_is_masked_and_forgotten_with_it() -> None:
    """Raw, URL-encoded, JSON- and HTML-escaped, bytes repr, base64 and Basic forms; gone with the Secret."""
    secret = Secret(VALUE, user="cid")
    forms = [
        VALUE,
        quote(VALUE, safe=""),
        quote(VALUE),
        quote_plus(VALUE),
        json.dumps(VALUE)[1:-1],
        "s3cr3t-Vx9q+/=&amp;&quot;&#x27;&lt;&gt;%",
        repr(VALUE.encode())[2:-1],
        base64.b64encode(VALUE.encode()).decode(),
        base64.urlsafe_b64encode(VALUE.encode()).decode().rstrip("="),
        base64.b64encode(f"cid:{VALUE}".encode()).decode(),
    ]
    for form in forms:
        assert redact(f"echo [{form}] end") == f"echo [{MASK}] end", form
    assert repr(secret) == "Secret('**********')"
    del secret
    gc.collect()
    assert VALUE in redact(f"echo [{VALUE}]"), "a secret no object holds any more is forgotten"


def test_a_value_too_short_to_be_a_secret_is_not_registered() -> None:
    """A 3-letter token does not garble every text holding those letters."""
    short = Secret("tok")
    assert redact("a token") == "a token"
    assert short.get() == "tok"


def test_clip_masks_a_secret_that_straddles_the_cut() -> None:
    """A secret cut in two by the limit is masked whole before the cut, not half shown."""
    secret = Secret("straddling-secret-value-0123456789")
    text = "x" * 280 + secret.get() + " tail"
    out = clip(text, 300)
    assert len(out) <= 300
    assert "straddling" not in out
    assert out == "x" * 280 + MASK + " tail"


def test_redact_data_and_headers_mask_fields_by_name_and_value() -> None:
    """Decoded JSON: token fields masked by name, strings redacted; credential headers masked."""
    data = {"access_token": "q", "detail": [{"input": "Bearer abc-123", "n": 1}], "ok": None}
    assert redact_data(data) == {
        "access_token": MASK,
        "detail": [{"input": f"Bearer {MASK}", "n": 1}],
        "ok": None,
    }
    headers = redact_headers({"Set-Cookie": "s=1", "x-echo": "Bearer abc-123", "retry-after": "3"})
    assert headers == {"Set-Cookie": MASK, "x-echo": f"Bearer {MASK}", "retry-after": "3"}


def test_the_log_filter_redacts_arguments_and_tracebacks() -> None:
    """A record whose arguments or exception quote a token is formatted without it."""
    secret = Secret("tok-in-a-log-record-42")
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    log = logging.getLogger("catena_nb.client")
    handler, level = Keep(), log.level
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        assert any(isinstance(f, RedactingFilter) for f in log.filters)
        log.debug("answer %s from %s", secret.get(), "Authorization: Bearer other-token-1")
        try:
            raise ValueError(f"server said {secret.get()}")
        except ValueError:
            log.debug("failed", exc_info=True)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    text = "\n".join(lines)
    assert "tok-in-a-log-record-42" not in text
    assert "other-token-1" not in text
    assert "ValueError: server said **********" in text


def test_status_errors_redact_body_json_message_detail_headers_and_request_id() -> None:
    """An error answer quoting the token: every attribute and the text are masked at the source."""
    secret = Secret("tok-quoted-by-the-server-7")
    body = json.dumps(
        {
            "code": 401,
            "message": f"bad {secret.get()}",
            "detail": [{"loc": ["body", "x"], "msg": secret.get()}],
        }
    )
    err = status_error(
        401,
        body,
        request_id=f"req-{secret.get()}",
        method="GET",
        url="/v2/x",
        headers={"x-echo": secret.get(), "authorization": "anything"},
    )
    assert isinstance(err, AuthenticationError)
    seen = [str(err), repr(err), err.body, repr(err.json), repr(err.message), repr(err.detail)]
    seen += [repr(err.headers), str(err.request_id), repr(err.field_errors), repr(err.args)]
    assert all(secret.get() not in text for text in seen)
    assert err.message == f"bad {MASK}"
    assert err.headers["authorization"] == MASK


def test_an_error_text_set_again_later_is_still_redacted() -> None:
    """`str()` redacts even `args` reassigned after the constructor (as RateLimitError does)."""
    secret = Secret("tok-set-later-on-args-9")
    err = RateLimitError(status_code=429, body="", retry_after=1.0)
    err.args = (f"later {secret.get()}",)
    assert secret.get() not in str(err)
    conn = APIConnectionError(f"dropped Bearer {secret.get()}", method="GET", url=f"/v2/{secret.get()}")
    assert secret.get() not in str(conn) + str(conn.url)


def test_a_malformed_answer_raises_without_pydantic_or_httpx_context() -> None:
    """The client's ResponseValidationError has no cause or context (pydantic's quotes the input)."""
    token = "static-token-quoted-in-a-field"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": 5, "status": token, "logs": token})

    with (
        CatenaClient(
            base_url="http://api.test", token=token, transport=httpx.MockTransport(handler)
        ) as client,
        pytest.raises(ResponseValidationError) as info,
    ):
        client.operations.get(
            "019df230-a1b2-7890-cdef-1234567890ab", connection_id="019ddd87-eedd-710f-967c-1c6cc72ac985"
        )
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert token not in str(info.value) + info.value.body + repr(info.value.errors)


def test_a_page_repr_never_raises_nor_quotes_its_body() -> None:
    """The repr of a page that is not JSON says so, without the body."""
    page = Page(b"<html>Authorization: Bearer abc</html>", ResourceOperation)
    assert repr(page) == "Page(not a list page: 38 bytes of ResourceOperation listing)"


def test_the_widgets_error_box_shows_the_redacted_text() -> None:
    """The widgets render `str(exc)`: redacted at the source, the token never reaches their HTML."""
    secret = Secret("tok-for-the-widget-box-5")
    err = status_error(
        500, f"<html><pre>Authorization: Bearer {secret.get()}</pre></html>", method="GET", url="/x"
    )
    box = parts.error_box(err, context="The lookup failed")
    assert secret.get() not in box
    assert "**********" in box


def test_a_record_repr_masks_a_token_the_server_put_in_a_field() -> None:
    """Model reprs show server fields through the redaction too."""
    secret = Secret("tok-in-a-record-field-3")
    op = ResourceOperation.model_validate(
        {
            "id": f"Bearer {secret.get()}",
            "connection_id": "019ddd87-eedd-710f-967c-1c6cc72ac985",
            "status": secret.get(),
            "resource": "message",
            "operation_type": "create",
        }
    )
    assert secret.get() not in repr(op)
