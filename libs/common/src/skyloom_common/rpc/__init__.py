"""gRPC on grpc.aio: descriptor-bound plain-class services, the interceptor chain, the server.

See :mod:`skyloom_common.rpc.server` for the interceptor order and the drain sequence,
:mod:`skyloom_common.rpc.adapter` for how a service class is bound, and
:mod:`skyloom_common.rpc.status` for the error mapping.
"""

from skyloom_common.rpc.adapter import ServiceBinding, bind_service
from skyloom_common.rpc.auth import (
    ANONYMOUS,
    AllowAuthenticated,
    Authenticator,
    Authorizer,
    AuthPolicy,
    DisabledAuthenticator,
    RequireScopes,
    StaticTokenAuthenticator,
    auth_policy_from_settings,
)
from skyloom_common.rpc.call import (
    Metadata,
    MethodInfo,
    MethodKind,
    Principal,
    RpcCall,
    ServerInterceptor,
)
from skyloom_common.rpc.observe import RpcMetrics
from skyloom_common.rpc.server import GrpcServer
from skyloom_common.rpc.status import (
    ErrorTranslator,
    RpcAbort,
    error_from_rpc_error,
    error_from_status,
    status_from_error,
)

__all__ = [
    "ANONYMOUS",
    "AllowAuthenticated",
    "AuthPolicy",
    "Authenticator",
    "Authorizer",
    "DisabledAuthenticator",
    "ErrorTranslator",
    "GrpcServer",
    "Metadata",
    "MethodInfo",
    "MethodKind",
    "Principal",
    "RequireScopes",
    "RpcAbort",
    "RpcCall",
    "RpcMetrics",
    "ServerInterceptor",
    "ServiceBinding",
    "StaticTokenAuthenticator",
    "auth_policy_from_settings",
    "bind_service",
    "error_from_rpc_error",
    "error_from_status",
    "status_from_error",
]
