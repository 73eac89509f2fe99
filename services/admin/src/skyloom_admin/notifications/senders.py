"""Notification senders: a small Protocol, a log sender and a webhook sender.

The webhook sender refuses targets that resolve to loopback, private, link-local, multicast,
reserved or unspecified addresses (SSRF, reliability.md B10) unless ``allow_private`` is set;
it checks every address DNS returns, then connects to the vetted address itself (so a second
DNS answer cannot swap in another host), never follows redirects (a 3xx is a failure) and
signs the body with HMAC-SHA256 when a secret resolver gives it one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from google.protobuf import json_format

from skyloom_idl.admin import execution_pb2, notification_pb2

__all__ = [
    "LogSender",
    "Notice",
    "NotificationSender",
    "RefusedTarget",
    "SendFailed",
    "WebhookSender",
    "check_target",
]

_log = logging.getLogger("skyloom_admin.notifications")


@dataclass(frozen=True)
class Notice:
    """One notification to deliver: what, about which execution, for which event."""

    notification: notification_pb2.Notification
    execution: execution_pb2.Execution
    event_id: str


class SendFailed(Exception):
    """Delivery failed; ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class RefusedTarget(SendFailed):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class NotificationSender(Protocol):
    """Delivers one notice; called at least once per notice (must tolerate repeats)."""

    async def send(self, notice: Notice) -> None: ...


class LogSender:
    """Writes a structured log line per notice."""

    async def send(self, notice: Notice) -> None:
        e = notice.execution
        _log.info(
            "execution %s/%s/%s is %s",
            e.id.project, e.id.domain, e.id.name,
            notice.execution.closure.phase,
            extra={"event_id": notice.event_id, "execution": e.id.name},
        )  # fmt: skip


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def check_target(url: str, *, allow_private: bool) -> tuple[str, int, str, bool]:
    """(address, port, host, tls) to connect to for ``url``, or ``RefusedTarget``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget(f"webhook url must be http(s) with a host, got {url[:100]!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(parts.hostname, port, type=0, proto=6)
    except OSError as exc:
        raise SendFailed(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise SendFailed(f"{parts.hostname} has no address")
    if not allow_private:
        bad = [str(a) for a in addresses if _blocked(a)]
        if bad:
            raise RefusedTarget(
                f"webhook target {parts.hostname} resolves to a non-public address ({bad[0]})"
            )
    return str(addresses[0]), port, parts.hostname, tls


SecretResolver = Callable[[notification_pb2.WebhookNotification], bytes | None]


class WebhookSender:
    """POSTs the execution as JSON; see the module docstring for the safety rules."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        secret_for: SecretResolver | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = timeout
        self._secret_for = secret_for

    async def send(self, notice: Notice) -> None:
        hook = notice.notification.webhook
        address, port, host, tls = await check_target(hook.url, allow_private=self._allow_private)
        body = json.dumps(
            json_format.MessageToDict(notice.execution, preserving_proto_field_name=True)
        ).encode()
        parts = urlsplit(hook.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Host": host if port in (80, 443) else f"{host}:{port}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Connection": "close",
            "User-Agent": "skyloom-admin",
            "Skyloom-Event-Id": notice.event_id,
        }
        secret = self._secret_for(hook) if self._secret_for is not None else None
        if secret:
            headers["Skyloom-Signature"] = hmac.new(secret, body, hashlib.sha256).hexdigest()
        request = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        try:
            status = await asyncio.wait_for(
                self._post(address, port, host, tls, request.encode() + b"\r\n" + body),
                self._timeout,
            )
        except (OSError, TimeoutError, ValueError) as exc:
            raise SendFailed(f"webhook {host}: {exc!r}") from exc
        if not 200 <= status < 300:
            raise SendFailed(f"webhook {host} answered {status}", permanent=400 <= status < 500)

    async def _post(self, address: str, port: int, host: str, tls: bool, data: bytes) -> int:
        context = ssl.create_default_context() if tls else None
        reader, writer = await asyncio.open_connection(
            address, port, ssl=context, server_hostname=host if tls else None
        )
        try:
            writer.write(data)
            await writer.drain()
            line = await reader.readline()
            fields = line.decode("latin-1").split(" ", 2)
            if len(fields) < 2 or not fields[0].startswith("HTTP/"):
                raise ValueError(f"not an HTTP response: {line[:80]!r}")
            return int(fields[1])
        finally:
            writer.close()
