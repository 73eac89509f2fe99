"""The one place domain errors become gRPC statuses — and, for clients, back again.

Server side, :class:`ErrorMappingInterceptor` catches whatever the handler (or auth, or request
parsing) raised and raises :class:`RpcAbort` instead, which the adapter turns into the call's
final status:

==========================  ==========================================================
raised                      answered
==========================  ==========================================================
``SkyloomError`` subclass   its ``code``; rich details in ``grpc-status-details-bin``:
                            ``BadRequest`` (violations), ``ErrorInfo`` (reason,
                            metadata, diff), ``RetryInfo`` (retry_after),
                            ``ResourceInfo`` (NotFound.resource)
anything a translator maps  as the ``SkyloomError`` the translator returned
any other ``Exception``     ``INTERNAL "internal error (error id <hex>)"``; the
                            traceback is logged with that id, never sent
``CancelledError``          not touched (the client went away; grpc reports CANCELLED)
==========================  ==========================================================

Details are size-capped so trailing metadata stays well under gRPC's 8 KiB default limit (a
client over it would see a confusing INTERNAL instead); a cut text ends with ``… (truncated)``.

Client side, :func:`error_from_rpc_error` rebuilds the domain error from a failed call, so a
service calling another one handles ``AlreadyExists`` rather than status codes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from types import TracebackType

import google.rpc.error_details_pb2 as error_details_pb2
import google.rpc.status_pb2 as status_pb2
import grpc
from google.protobuf import duration_pb2
from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message

from skyloom_common.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    SkyloomError,
    Unauthenticated,
    Unavailable,
)
from skyloom_common.rpc.call import RpcCall

__all__ = [
    "DETAILS_KEY",
    "ERROR_DOMAIN",
    "ErrorMappingInterceptor",
    "ErrorTranslator",
    "RpcAbort",
    "error_from_rpc_error",
    "error_from_status",
    "status_from_error",
]

DETAILS_KEY = "grpc-status-details-bin"
ERROR_DOMAIN = "skyloom.io"
MAX_MESSAGE_BYTES = 768
MAX_DETAILS_BYTES = 2560
MAX_VIOLATIONS = 50
MAX_FIELD_BYTES = 256
_TRUNCATED = "… (truncated)"

ErrorTranslator = Callable[[Exception], SkyloomError | None]
"""Maps a foreign exception (e.g. a lost database connection) to a domain error, or ``None``."""

_log = logging.getLogger(__name__)


class RpcAbort(Exception):  # a control-flow signal carrying a status, not a domain error
    """The final status of an RPC. Raised only by the error-mapping interceptor.

    Interceptors outside the mapper (tracing, metrics) read ``code`` from it.
    """

    def __init__(self, code: grpc.StatusCode, status: status_pb2.Status) -> None:
        super().__init__(f"{code.name}: {status.message}")
        self.code = code
        self.status = status

    @property
    def message(self) -> str:
        return self.status.message

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        if not self.status.details:
            return ()
        return ((DETAILS_KEY, self.status.SerializeToString()),)


def _truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, marked when cut."""
    if len(text.encode()) <= limit:
        return text
    keep = limit - len(_TRUNCATED.encode())
    return text.encode()[:keep].decode(errors="ignore") + _TRUNCATED


def _pack(status: status_pb2.Status, detail: Message) -> None:
    any_pb = AnyPb()
    any_pb.Pack(detail)
    status.details.append(any_pb)


def _bad_request(violations: Sequence[FieldViolation], keep: int) -> error_details_pb2.BadRequest:
    bad = error_details_pb2.BadRequest()
    for v in violations[:keep]:
        bad.field_violations.add(
            field=_truncate(v.field, MAX_FIELD_BYTES),
            description=_truncate(v.description, MAX_FIELD_BYTES),
        )
    if len(violations) > keep:
        bad.field_violations.add(field="", description=f"{len(violations) - keep} more violations")
    return bad


def _other_details(code: grpc.StatusCode, error: SkyloomError) -> list[Message]:
    details: list[Message] = []
    metadata = dict(error.metadata)
    if isinstance(error, AlreadyExists) and error.diff:
        metadata["diff"] = error.diff
    if error.reason or metadata:
        info = error_details_pb2.ErrorInfo(reason=error.reason or code.name, domain=ERROR_DOMAIN)
        for key, value in metadata.items():
            info.metadata[key] = _truncate(value, MAX_FIELD_BYTES * 2)
        details.append(info)
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int | float):
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(retry_after * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    if isinstance(error, NotFound) and error.resource:
        details.append(error_details_pb2.ResourceInfo(resource_name=error.resource))
    return details


def status_from_error(error: SkyloomError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    """The gRPC code and ``google.rpc.Status`` (with rich details) for a domain error.

    Sizes are capped: the message at 768 UTF-8 bytes, the serialized status at 2560 bytes —
    violations are dropped (with a "N more violations" entry) until it fits.
    """
    code = grpc.StatusCode[error.code.value]
    message = _truncate(error.message, MAX_MESSAGE_BYTES)
    others = _other_details(code, error)
    violations = error.violations if isinstance(error, InvalidArgument) else ()
    keep = min(len(violations), MAX_VIOLATIONS)
    while True:
        status = status_pb2.Status(code=code.value[0], message=message)
        if violations:
            _pack(status, _bad_request(violations, keep))
        for detail in others:
            _pack(status, detail)
        if status.ByteSize() <= MAX_DETAILS_BYTES or keep == 0:
            break
        keep //= 2
    # Last resort (huge ErrorInfo metadata): drop details from the end, keep code and message.
    while status.details and status.ByteSize() > MAX_DETAILS_BYTES:
        status.details.pop()
    return code, status


def _internal(error_id: str) -> RpcAbort:
    message = f"internal error (error id {error_id})"
    return RpcAbort(
        grpc.StatusCode.INTERNAL,
        status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message=message),
    )


class ErrorMappingInterceptor:
    """Maps every exception leaving the inner chain to :class:`RpcAbort` (see module docs).

    ``translators`` are tried in order for exceptions that are not domain errors; the first
    non-``None`` answer wins. Must sit outside auth and request parsing, inside metrics.
    """

    def __init__(self, translators: Sequence[ErrorTranslator] = ()) -> None:
        self._translators = tuple(translators)

    def intercept(self, call: RpcCall) -> _MappedCall:
        return _MappedCall(self, call)

    def map(self, call: RpcCall, exc: BaseException) -> RpcAbort | None:
        """The abort replacing ``exc``, or ``None`` to let it through (aborts, cancellation)."""
        if isinstance(exc, RpcAbort) or not isinstance(exc, Exception):
            return None
        if isinstance(exc, SkyloomError):
            return self._abort(call, exc)
        for translate in self._translators:
            mapped = translate(exc)
            if mapped is not None:
                return self._abort(call, mapped)
        error_id = uuid.uuid4().hex
        _log.error(
            "unhandled exception in %s (error id %s)",
            call.method.path,
            error_id,
            exc_info=exc,
            extra={"error_id": error_id, "rpc_method": call.method.path},
        )
        return _internal(error_id)

    @staticmethod
    def _abort(call: RpcCall, error: SkyloomError) -> RpcAbort:
        code, status = status_from_error(error)
        _log.debug("%s answered %s: %s", call.method.path, code.name, error.message)
        return RpcAbort(code, status)


class _MappedCall:
    __slots__ = ("_call", "_mapper")

    def __init__(self, mapper: ErrorMappingInterceptor, call: RpcCall) -> None:
        self._mapper = mapper
        self._call = call

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            abort = self._mapper.map(self._call, exc)
            if abort is not None:
                raise abort from exc


_BY_CODE: dict[grpc.StatusCode, type[SkyloomError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def error_from_status(
    code: grpc.StatusCode, message: str, status: status_pb2.Status | None = None
) -> SkyloomError:
    """Rebuild the domain error a server raised from its status code, message and details.

    Codes without a domain class (``INTERNAL``, ``DEADLINE_EXCEEDED``, ``UNIMPLEMENTED``, …)
    come back as a plain :class:`SkyloomError` whose ``reason`` is the code name;
    ``DEADLINE_EXCEEDED`` and ``CANCELLED`` are marked retryable.
    """
    violations: list[FieldViolation] = []
    reason: str | None = None
    metadata: dict[str, str] = {}
    retry_after: float | None = None
    resource: str | None = None
    for any_pb in status.details if status is not None else ():
        bad = error_details_pb2.BadRequest()
        info = error_details_pb2.ErrorInfo()
        retry = error_details_pb2.RetryInfo()
        res = error_details_pb2.ResourceInfo()
        if any_pb.Unpack(bad):
            violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
        elif any_pb.Unpack(info):
            reason, metadata = info.reason, dict(info.metadata)
        elif any_pb.Unpack(retry):
            retry_after = retry.retry_delay.ToNanoseconds() / 1e9
        elif any_pb.Unpack(res):
            resource = res.resource_name
    if reason == code.name:
        reason = None  # it was only a carrier for metadata
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument(message, violations=violations, reason=reason, metadata=metadata)
    if code == grpc.StatusCode.ALREADY_EXISTS:
        diff = metadata.pop("diff", None)
        base = message.removesuffix(f"\n{diff}") if diff else message
        return AlreadyExists(base, diff=diff, reason=reason, metadata=metadata)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ResourceExhausted(message, retry_after=retry_after, reason=reason, metadata=metadata)
    if code == grpc.StatusCode.UNAVAILABLE:
        return Unavailable(message, retry_after=retry_after, reason=reason, metadata=metadata)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(message, resource=resource, reason=reason, metadata=metadata)
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message, reason=reason, metadata=metadata)
    retryable = code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)
    return SkyloomError(message, reason=reason or code.name, metadata=metadata, retryable=retryable)


def error_from_rpc_error(error: grpc.aio.AioRpcError) -> SkyloomError:
    """The domain error behind a failed ``grpc.aio`` call (decodes ``grpc-status-details-bin``)."""
    status: status_pb2.Status | None = None
    for key, value in error.trailing_metadata() or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
    return error_from_status(error.code(), error.details() or "", status)
