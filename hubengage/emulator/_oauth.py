"""The emulator's OAuth app: HubSpot's token endpoint and the expiring access tokens it issues.

``POST /oauth/v1/token``, ``/oauth/v3/token`` and ``/oauth/2026-03/token`` (one endpoint,
labelled ``oauth/token``) take a form-encoded ``grant_type=refresh_token``, ``client_id``,
``client_secret`` and ``refresh_token`` and answer ``{"token_type": "bearer",
"refresh_token", "access_token", "expires_in"}`` (``docs/hubspot-wire.md`` §9). Each refresh
token names a *grant*: one app installed in one account. An access token issued for a grant
expires ``oauth_token_lifetime`` seconds after it was issued (monotonic clock, injectable);
a request carrying it afterwards gets HubSpot's 401 ``EXPIRED_AUTHENTICATION`` (§4).

Rate limits are HubSpot's per app and account, not per token, so every access token of one
grant shares the grant's windows: :meth:`OAuthServer.budget_key` names them
(``oauth-grant-N``), and any other bearer token keeps its own windows, named by itself, as
before. With ``oauth_rotate_refresh_tokens`` each refresh answers a new refresh token and the
one used is refused from then on (the same grant continues); by default the refresh token
stays the same, as HubSpot's documentation says to store the one obtained at install.

Pure logic: the HTTP framing is ``_app``'s.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._common import iso_time
from ._config import EmulatorConfig

__all__ = ["OAUTH_TOKEN_ENDPOINT", "OAUTH_TOKEN_PATHS", "OAuthServer"]

#: The token endpoint's paths: the deprecated v1, v3 and the date-versioned one (§9).
OAUTH_TOKEN_PATHS = frozenset({"/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"})
#: Its label in stats and fault targets (``--fault 502=0.5@oauth/token``).
OAUTH_TOKEN_ENDPOINT = "oauth/token"

_BAD_REFRESH = "refresh token is invalid, expired or revoked"
_BAD_CLIENT = "missing or invalid client id or client secret"


def _refusal(error: str, status: str, message: str) -> tuple[int, dict[str, Any]]:
    """A 400 in the shape HubSpot's OAuth endpoints answer since the RFC 6749 update (§9):
    the standard ``error``/``error_description`` plus HubSpot's ``status``/``message``."""
    return 400, {"error": error, "error_description": message, "status": status,
                 "message": message}


class _Grant:
    __slots__ = ("key", "refresh_token")

    def __init__(self, key: str, refresh_token: str) -> None:
        self.key = key
        self.refresh_token = refresh_token


class OAuthServer:
    """Grants, their refresh tokens, and the access tokens issued, with their expiry."""

    def __init__(self, config: EmulatorConfig,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        #: Monotonic seconds: when issued tokens expire. Tests may replace it.
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget every grant and every token issued."""
        #: refresh token -> its grant (a rotated-out refresh token is not in it)
        self._grants: dict[str, _Grant] = {}
        #: refresh tokens rotated out (refused from then on)
        self._revoked: set[str] = set()
        #: access token -> (grant key, monotonic expiry)
        self._issued: dict[str, tuple[str, float]] = {}
        self._next_grant = 1
        #: Refreshes answered with a new access token.
        self.refreshes = 0

    # -- the token endpoint --------------------------------------------------------------

    def exchange(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``POST /oauth/.../token``: the status and JSON body for a form."""
        config = self.config
        grant_type = form.get("grant_type", "")
        if grant_type != "refresh_token":
            return _refusal("unsupported_grant_type", "BAD_GRANT_TYPE",
                            "the emulator supports grant_type=refresh_token only")
        if (form.get("client_id") != config.oauth_client_id
                or form.get("client_secret") != config.oauth_client_secret):
            return _refusal("invalid_client", "BAD_CLIENT_ID", _BAD_CLIENT)
        refresh = form.get("refresh_token", "")
        grant = self._grant(refresh)
        if grant is None:
            return _refusal("invalid_grant", "BAD_REFRESH_TOKEN", _BAD_REFRESH)
        if config.oauth_rotate_refresh_tokens:
            del self._grants[refresh]
            self._revoked.add(refresh)
            grant.refresh_token = _token("rt")
            self._grants[grant.refresh_token] = grant
        access = _token("at")
        lifetime = config.oauth_token_lifetime
        self._issued[access] = (grant.key, self.clock() + lifetime)
        self.refreshes += 1
        expires_in: float = int(lifetime) if float(lifetime).is_integer() else lifetime
        return 200, {"token_type": "bearer", "refresh_token": grant.refresh_token,
                     "access_token": access, "expires_in": expires_in}

    def _grant(self, refresh: str) -> _Grant | None:
        if not refresh or refresh in self._revoked:
            return None
        grant = self._grants.get(refresh)
        if grant is not None:
            return grant
        allowed = self.config.oauth_refresh_tokens
        if allowed and refresh not in allowed:
            return None
        # An installation seen for the first time (any refresh token, unless configured).
        grant = _Grant(f"oauth-grant-{self._next_grant}", refresh)
        self._next_grant += 1
        self._grants[refresh] = grant
        return grant

    # -- access tokens -------------------------------------------------------------------

    def issued(self, token: str) -> bool:
        """True for an access token the token endpoint issued (expired or not)."""
        return token in self._issued

    def expired_for(self, token: str) -> float | None:
        """Seconds since an issued ``token`` expired, or None (live, or not issued here)."""
        entry = self._issued.get(token)
        if entry is None:
            return None
        ago = self.clock() - entry[1]
        return ago if ago >= 0 else None

    def budget_key(self, token: str) -> str:
        """Whose rate windows a request with ``token`` counts in: its grant's for an issued
        token, the token's own otherwise."""
        entry = self._issued.get(token)
        return token if entry is None else entry[0]

    def expire_all(self) -> int:
        """Expire every access token issued so far, now; how many were live."""
        now = self.clock()
        live = [t for t, (_, at) in self._issued.items() if at > now]
        for token in live:
            key, _ = self._issued[token]
            self._issued[token] = (key, now)
        return len(live)

    def expired_body(self, ago: float, wall_now: float) -> dict[str, Any]:
        """HubSpot's 401 body for a token that expired ``ago`` seconds ago (§4)."""
        return {
            "status": "error",
            "message": f"The OAuth token used to make this call expired {math.floor(ago)} "
                       "second(s) ago.",
            "category": "EXPIRED_AUTHENTICATION",
            "context": {"expire time": [iso_time(wall_now - ago)]},
        }


def _token(kind: str) -> str:
    """A new token: opaque, URL-safe, about as long as HubSpot's (up to 300 characters)."""
    return f"emu-{kind}-{secrets.token_urlsafe(36)}"
