"""The sandbox's OAuth client and the bearer tokens it has issued."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
import uuid
from collections.abc import Iterable

# The scopes the sandbox's routes require, each as its path's `security` names it in Catena's specs
# (catenaclearing/catena-sdk-go specs/*/openapi.json); a client is granted all of them unless
# `Sandbox(scopes=...)` says otherwise.
ROUTE_SCOPES = (
    "connection:read",
    "resource_operation:read",
    "telematics:read",
    "telematics:write",
    "webhook:create",
    "webhook:delete",
    "webhook:read",
    "webhook:update",
)
# The one scope a token request may ask for (specs/authentication/openapi.json: "Must be organization").
REQUEST_SCOPE = "organization"


def check_scopes(scopes: Iterable[str] | None) -> frozenset[str]:
    """The scopes to grant: all the routes need when None.

    Raises:
        ValueError: ``scopes`` is a plain string, or names a scope no route requires (likely a typo).
    """
    if scopes is None:
        return frozenset(ROUTE_SCOPES)
    if isinstance(scopes, str):
        raise ValueError(f"scopes must be a list of scope names such as ['telematics:read'], not {scopes!r}")
    granted = frozenset(scopes)
    unknown = sorted(granted - set(ROUTE_SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; the sandbox's routes require {list(ROUTE_SCOPES)}")
    return granted


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TokenStore:
    """Issues, checks and revokes bearer tokens for one client id/secret pair.

    Tokens look like Keycloak's JWTs (``exp``, ``sub``, ``org`` claims, HS256-signed with a per-sandbox key)
    so that clients decoding ``exp`` work, but the store, not the signature, decides what is valid: a revoked
    token fails at once.

    Args:
        client_id: the OAuth client id.
        client_secret: its secret.
        partner_id: the partner the tokens act for.
        ttl: seconds a token lives.
        scopes: the scopes the client is granted (default: all the routes need).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        partner_id: str,
        ttl: float,
        scopes: Iterable[str] | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.partner_id = partner_id
        self.ttl = ttl
        self.granted = check_scopes(scopes)
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    @property
    def scope(self) -> str:
        """The granted scopes as a token answer's ``scope`` lists them (space-separated)."""
        return " ".join(sorted(self.granted))

    def __repr__(self) -> str:
        return f"TokenStore(client_id={self.client_id!r}, ttl={self.ttl})"

    @property
    def client_secret(self) -> str:
        """The client secret (never part of a repr)."""
        return self._client_secret

    def check_client(self, client_id: str | None, client_secret: str | None) -> bool:
        """Whether the credentials are this sandbox's client."""
        if client_id is None or client_secret is None:
            return False
        # bytes, not str: compare_digest refuses non-ASCII strings, and a client may send any text
        return hmac.compare_digest(client_id.encode(), self.client_id.encode()) and hmac.compare_digest(
            client_secret.encode(), self._client_secret.encode()
        )

    def issue(self, ttl: float | None = None) -> tuple[str, float]:
        """A new token and its lifetime in seconds (``math.inf``: valid for the sandbox's life)."""
        lifetime = self.ttl if ttl is None else ttl
        now = time.time()
        exp = now + lifetime
        claims = {
            "exp": int(min(exp, now + 10 * 365 * 86400)),
            "iat": int(now),
            "jti": str(uuid.uuid4()),
            "iss": "catena-sandbox/realms/catena",
            "sub": self.client_id,
            "azp": self.client_id,
            "typ": "Bearer",
            "scope": self.scope,
            "org": {"Sandbox partner": {"id": self.partner_id, "org_type": ["partner"]}},
        }
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        token = f"{head}.{body}.{sig}"
        with self._lock:
            self._expiry[token] = exp
        return token, lifetime

    def scopes_of(self, token: str) -> frozenset[str]:
        """The scopes ``token`` carries (every token of this store carries the client's grant)."""
        return self.granted if self.valid(token) else frozenset()

    def valid(self, token: str) -> bool:
        """Whether ``token`` was issued here, is not revoked, and has not expired."""
        with self._lock:
            exp = self._expiry.get(token)
            if exp is None:
                return False
            if time.time() >= exp:
                del self._expiry[token]
                return False
            return True

    def revoke(self, token: str) -> None:
        """Forget a token (unknown tokens are ignored, as RFC 7009 asks)."""
        with self._lock:
            self._expiry.pop(token, None)


def expires_in(lifetime: float) -> int:
    """The ``expires_in`` to announce for a lifetime: whole seconds, at least 1."""
    # assumed: Keycloak announces whole seconds; a sub-second test ttl still announces 1.
    return max(1, math.floor(lifetime)) if math.isfinite(lifetime) else 10 * 365 * 86400
