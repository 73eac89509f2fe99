"""API tokens: hashed storage, the bearer authenticator, and the token RPCs."""

from skyloom_admin.tokens.authenticator import TokenAuthenticator
from skyloom_admin.tokens.manager import TokenManager
from skyloom_admin.tokens.rpcs import AuthTokenRpcs
from skyloom_admin.tokens.store import PostgresTokenStore, TokenRow, TokenStore

__all__ = [
    "AuthTokenRpcs",
    "PostgresTokenStore",
    "TokenAuthenticator",
    "TokenManager",
    "TokenRow",
    "TokenStore",
]
