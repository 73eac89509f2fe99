"""Authentication and per-method authorization hooks, run on every RPC but health/reflection.

Two small Protocols:

* :class:`Authenticator` — ``authenticate(metadata) -> Principal``; raises
  :class:`~skyloom_common.errors.Unauthenticated` for missing or unrecognised credentials.
* :class:`Authorizer` — ``authorize(principal, method)``; raises
  :class:`~skyloom_common.errors.PermissionDenied`. Project/domain checks that need the parsed
  request belong in the servicer, after this coarse per-method gate.

Shipped implementations: :class:`StaticTokenAuthenticator` (bearer tokens from config, compared
in constant time) and :class:`DisabledAuthenticator` (everyone is the unauthenticated
``anonymous`` principal). Neither is a default; :func:`auth_policy_from_settings` builds the one
the config names, and the config has no default mode. Admin's real token store will be another
``Authenticator``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from pydantic import SecretStr

from skyloom_common.config import AuthSettings
from skyloom_common.errors import PermissionDenied, Unauthenticated
from skyloom_common.rpc.call import Metadata, MethodInfo, Principal, RpcCall

__all__ = [
    "ANONYMOUS",
    "AllowAuthenticated",
    "AuthInterceptor",
    "AuthPolicy",
    "Authenticator",
    "Authorizer",
    "DisabledAuthenticator",
    "RequireScopes",
    "StaticTokenAuthenticator",
    "auth_policy_from_settings",
]

ANONYMOUS = Principal(subject="anonymous", authenticated=False)
_log = logging.getLogger(__name__)


class Authenticator(Protocol):
    async def authenticate(self, metadata: Metadata) -> Principal:
        """Identify the caller from request metadata, or raise ``Unauthenticated``.

        Called once per RPC, concurrently; must not log credential values.
        """
        ...


class Authorizer(Protocol):
    async def authorize(self, principal: Principal, method: MethodInfo) -> None:
        """Return if ``principal`` may call ``method``; raise ``PermissionDenied`` otherwise."""
        ...


class DisabledAuthenticator:
    """Accepts every caller as :data:`ANONYMOUS`; only for deployments saying ``mode: disabled``."""

    async def authenticate(self, metadata: Metadata) -> Principal:
        return ANONYMOUS


class StaticTokenAuthenticator:
    """``<header>: Bearer <token>`` against a fixed ``{subject: token}`` table.

    Every token is compared (constant time each), so timing does not reveal which prefix matched.
    Missing header, wrong scheme, empty or unknown token: ``Unauthenticated``.
    """

    def __init__(
        self,
        tokens: Mapping[str, SecretStr],
        *,
        header: str = "authorization",
        scopes: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        if not tokens:
            raise ValueError("StaticTokenAuthenticator needs at least one token")
        self._tokens = [(s, t.get_secret_value().encode()) for s, t in tokens.items()]
        self._header = header.lower()
        self._scopes = dict(scopes or {})

    async def authenticate(self, metadata: Metadata) -> Principal:
        value = metadata.get(self._header)
        if value is None:
            raise Unauthenticated(f"missing {self._header} metadata", reason="MISSING_TOKEN")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(
                f"{self._header} must be 'Bearer <token>'", reason="MALFORMED_TOKEN"
            )
        presented = token.encode()
        matched: str | None = None
        for subject, expected in self._tokens:
            if hmac.compare_digest(presented, expected):
                matched = subject
        if matched is None:
            raise Unauthenticated("invalid token", reason="INVALID_TOKEN")
        return Principal(subject=matched, scopes=self._scopes.get(matched, frozenset()))


class AllowAuthenticated:
    """Allows any authenticated principal; allows ``ANONYMOUS`` only if ``allow_anonymous``."""

    def __init__(self, *, allow_anonymous: bool = False) -> None:
        self._allow_anonymous = allow_anonymous

    async def authorize(self, principal: Principal, method: MethodInfo) -> None:
        if not principal.authenticated and not self._allow_anonymous:
            raise PermissionDenied(f"{method.path} requires an authenticated caller")


class RequireScopes:
    """Allows a principal holding every one of ``scopes``."""

    def __init__(self, scopes: Iterable[str]) -> None:
        self._scopes = frozenset(scopes)

    async def authorize(self, principal: Principal, method: MethodInfo) -> None:
        missing = self._scopes - principal.scopes
        if missing:
            raise PermissionDenied(
                f"{method.path} requires scopes {sorted(missing)}",
                reason="MISSING_SCOPE",
                metadata={"missing_scopes": ",".join(sorted(missing))},
            )


@dataclass(frozen=True)
class AuthPolicy:
    """Who may call what: one authenticator, a default authorizer, per-method overrides.

    ``method_authorizers`` is keyed by method path (``/pkg.Service/Method``); the server
    refuses to start if a key names no registered method.
    """

    authenticator: Authenticator
    default_authorizer: Authorizer = field(default_factory=AllowAuthenticated)
    method_authorizers: Mapping[str, Authorizer] = field(default_factory=dict)

    def authorizer_for(self, method: MethodInfo) -> Authorizer:
        return self.method_authorizers.get(method.path, self.default_authorizer)


def auth_policy_from_settings(settings: AuthSettings) -> AuthPolicy:
    """The policy ``settings.mode`` names. ``disabled`` lets anonymous callers through."""
    if settings.mode == "disabled":
        _log.warning("authentication is DISABLED by configuration (auth.mode=disabled)")
        return AuthPolicy(DisabledAuthenticator(), AllowAuthenticated(allow_anonymous=True))
    return AuthPolicy(StaticTokenAuthenticator(settings.static_tokens, header=settings.header))


class AuthInterceptor:
    """Authenticates, then authorizes, before the request is parsed; sets ``call.principal``."""

    def __init__(self, policy: AuthPolicy) -> None:
        self._policy = policy

    def intercept(self, call: RpcCall) -> _AuthorizedCall:
        return _AuthorizedCall(self._policy, call)


class _AuthorizedCall:
    __slots__ = ("_call", "_policy")

    def __init__(self, policy: AuthPolicy, call: RpcCall) -> None:
        self._policy = policy
        self._call = call

    async def __aenter__(self) -> None:
        call = self._call
        principal = await self._policy.authenticator.authenticate(call.metadata)
        await self._policy.authorizer_for(call.method).authorize(principal, call.method)
        call.principal = principal

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
