"""Notifications on terminal phases: jobs written with the event, delivered by the dispatcher;
the webhook sender refuses non-public targets and signs what it sends."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import pytest

from skyloom_admin.notifications.senders import (
    Notice,
    RefusedTarget,
    SendFailed,
    WebhookSender,
    check_target,
)
from skyloom_idl.admin import execution_pb2, notification_pb2
from skyloom_idl.core import execution_pb2 as core_exec
from skyloom_idl.core import identifier_pb2

from .conftest import Running
from .test_events import WF, workflow_event
from .test_executions import create_request, lp  # noqa: F401 - fixture


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/x",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://example.com/",
    ],
)
async def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(RefusedTarget):
        await check_target(url, allow_private=False)


async def test_public_literal_is_allowed() -> None:
    address, port, host, tls = await check_target("https://93.184.216.34/x", allow_private=False)
    assert (address, port, host, tls) == ("93.184.216.34", 443, "93.184.216.34", True)


async def test_webhook_posts_signed_json_and_never_follows_redirects() -> None:
    received: list[bytes] = []
    status = [b"204 No Content"]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = int(
            next(x.split(b":")[1] for x in lines if x.lower().startswith(b"content-length"))
        )
        received.append(head + await reader.readexactly(length))
        writer.write(
            b"HTTP/1.1 " + status[0] + b"\r\nContent-Length: 0\r\nLocation: http://x/\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    hook = notification_pb2.Notification(
        phases=[WF.PHASE_SUCCEEDED],
        webhook=notification_pb2.WebhookNotification(url=f"http://127.0.0.1:{port}/hook?a=1"),
    )
    execution = execution_pb2.Execution(
        id=identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name="e")
    )
    execution.closure.phase = core_exec.WorkflowExecution.PHASE_SUCCEEDED
    sender = WebhookSender(allow_private=True, secret_for=lambda _: b"k" * 32)
    async with server:
        await sender.send(Notice(hook, execution, "ev-1"))
        status[0] = b"302 Found"
        with pytest.raises(SendFailed):
            await sender.send(Notice(hook, execution, "ev-1"))
        with pytest.raises(RefusedTarget):
            await WebhookSender().send(Notice(hook, execution, "ev-1"))
    head, _, body = received[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /hook?a=1 HTTP/1.1")
    assert b"Skyloom-Event-Id: ev-1" in head
    signature = hmac.new(b"k" * 32, body, hashlib.sha256).hexdigest().encode()
    assert b"Skyloom-Signature: " + signature in head
    assert json.loads(body)["id"]["name"] == "e"
    assert len(received) == 2  # the redirect was not followed


@pytest.mark.integration
async def test_terminal_phase_enqueues_and_delivers(
    admin: Running,
    lp: identifier_pb2.Identifier,  # noqa: F811
) -> None:
    request = create_request(lp, "notify", x=1)
    request.spec.notifications.notifications.extend(
        [
            notification_pb2.Notification(
                phases=[WF.PHASE_FAILED], log=notification_pb2.LogNotification()
            ),
            notification_pb2.Notification(
                phases=[WF.PHASE_FAILED],
                webhook=notification_pb2.WebhookNotification(url="http://127.0.0.1:9/x"),
            ),
            notification_pb2.Notification(
                phases=[WF.PHASE_SUCCEEDED], log=notification_pb2.LogNotification()
            ),
        ]
    )
    await admin.stub.CreateExecution(request)
    await admin.stub.CreateWorkflowEvent(workflow_event("notify", WF.PHASE_RUNNING))
    await admin.stub.CreateWorkflowEvent(workflow_event("notify", WF.PHASE_FAILED))
    assert await admin.count("notification_jobs") == 2  # only the FAILED ones
    for _ in range(100):
        done = await admin.count(
            "notification_jobs", "delivered_at IS NOT NULL OR failed_at IS NOT NULL"
        )
        if done == 2:
            break
        await asyncio.sleep(0.1)
    assert await admin.count("notification_jobs", "kind = 'log' AND delivered_at IS NOT NULL") == 1
    assert (
        await admin.count(
            "notification_jobs",
            "kind = 'webhook' AND failed_at IS NOT NULL AND last_error LIKE '%non-public%'",
        )
        == 1
    )
